"""Tool calling: a request in plain English becomes exactly one call ``{"name", "arguments"}`` to
a tool from the project's catalog (OpenAI-style JSON Schema function definitions)."""

from germinate import hookimpl
from germinate.schema_errors import check_schema, field_name, forbid_extra_keys, schema_problems
from germinate.task_type import TaskType

_FUNCTION = {
    "type": "object",
    "required": ["name", "parameters"],
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
        "description": {"type": "string"},
        "parameters": {"type": "object"},
    },
}


def catalog(config):
    """Tool name -> parameters schema, accepting both ``{"type": "function", "function": {...}}``
    entries and bare function objects."""
    tools = {}
    for entry in config.get("tools") or []:
        function = entry.get("function", entry) if isinstance(entry, dict) else {}
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            tools[function["name"]] = function.get("parameters") or {"type": "object"}
    return tools


class ToolCalling(TaskType):
    name = "tool_calling"
    summary = "Turn a request into one call to a tool from a JSON Schema catalog."
    record_schema = {
        "type": "object",
        "required": ["input", "output"],
        "properties": {
            "input": {"type": "string", "minLength": 1},
            "output": {
                "type": "object",
                "required": ["name", "arguments"],
                "properties": {"name": {"type": "string", "minLength": 1},
                               "arguments": {"type": "object"}},
                "additionalProperties": False,
            },
        },
    }
    config_schema = {
        "properties": {
            "tools": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "anyOf": [
                        {"type": "object", "required": ["type", "function"],
                         "properties": {"type": {"const": "function"}, "function": _FUNCTION}},
                        _FUNCTION,
                    ]
                },
                "description": "the tool catalog: OpenAI-style function definitions",
            }
        },
        "required": ["tools"],
    }

    def check_config(self, config):
        seen = set()
        for index, entry in enumerate(config.get("tools") or []):
            function = entry.get("function", entry)
            if function["name"] in seen:
                yield ("tools", index, "function", "name"), f"tool {function['name']!r} is defined twice"
            seen.add(function["name"])
            where = ("tools", index) + (("function",) if "function" in entry else ()) + ("parameters",)
            problem = check_schema(function.get("parameters", {}))
            if problem:
                yield where + problem[0], f"not a valid JSON Schema: {problem[1]}"

    def check_record(self, record, config):
        tools = catalog(config)
        call = record["output"]
        if call["name"] not in tools:
            yield "output.name", f"tool {call['name']!r} is not in the tool catalog ({', '.join(tools)})"
            return
        for path, message in schema_problems(tools[call["name"]], call["arguments"]):
            yield field_name(("output", "arguments") + path), message

    def schema_rules(self, config, strict=True):
        # the name must be a catalog tool; then the arguments must fit that tool's parameters
        tools = {name: forbid_extra_keys(params) if strict else params for name, params in catalog(config).items()}
        per_tool = [{"if": {"properties": {"name": {"const": name}}},
                     "then": {"properties": {"arguments": params}}} for name, params in tools.items()]
        output = {"properties": {"name": {"enum": list(tools)}}, "allOf": per_tool}
        return [self.record_schema, {"properties": {"output": output}}]


@hookimpl
def register_task_types(register):
    register(ToolCalling())


__all__ = ["ToolCalling", "catalog"]
