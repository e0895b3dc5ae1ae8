"""Tool calling: a request in plain English becomes exactly one call ``{"name", "arguments"}`` to
a tool from the project's catalog (OpenAI-style JSON Schema function definitions)."""

import json

from germinate import (
    NONBLANK,
    Metric,
    ParseError,
    Property,
    Score,
    TaskType,
    bullet_list,
    chat,
    check_schema,
    extract_json,
    field_name,
    forbid_extra_keys,
    hookimpl,
    numbered_requests,
    schema_problems,
    split_pick,
    standalone,
    targets_and_others,
)
from germinate_tool_calling.ast_check import check_call, read_call

_FUNCTION = {
    "type": "object",
    "required": ["name", "parameters"],
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
        "description": {"type": "string"},
        "parameters": {"type": "object"},
    },
}


# Listed prompts (the default): the task, the catalog and the reply format are the system message
# every call shares; the shown seeds and the numbered requests come last.
SYSTEM = """You write realistic, varied training examples for a tool-calling assistant.

Task description:
{description}

Tools (JSON Schema):
{catalog}

You are shown examples and a numbered list of requests. For each request write one new user request that the tool it names must handle, and that tool call, with arguments that fit the tool's schema and say exactly what the user asked for.
{properties}

Every user request must be new: another subject, other values and other wording than each example and each of your other requests.
Reply with a numbered list in the order of the requests, one JSON object per line: 1. {{"input": "<the user request>", "output": {{"name": "<tool>", "arguments": {{...}}}}}}"""

LISTED = """Examples:
{examples}

Requests:
{requests}

Write the {count} examples now, numbered 1 to {count}, one JSON object per line."""

# germinate 0.1's one-example prompt (generation.prompt_style: single)
GENERATE = """Task description:
{description}

Tools (JSON Schema):
{catalog}

Examples that call "{tool}":
{target_examples}

Examples that call other tools:
{other_examples}

Write one new user request that must be handled by calling the tool "{tool}", and that call. It must be different from the examples.
{instructions}
Reply with one JSON object and nothing else: {{"input": "<the request>", "output": {{"name": "{tool}", "arguments": {{...}}}}}}"""


def _catalog_text(config):
    lines = []
    for entry in config.get("tools") or []:
        function = entry.get("function", entry)
        lines.append(
            json.dumps(
                {
                    "name": function["name"],
                    "description": function.get("description", ""),
                    "parameters": function.get("parameters", {}),
                },
                separators=(",", ":"),
            )
        )
    return "\n".join(lines)


def _example(record):
    return json.dumps({"input": record["input"], "output": record["output"]}, ensure_ascii=False)


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
    metrics = (
        Metric("ast", "AST", "BFCL-style check: right tool, arguments, types (int for float) and values"),
        Metric("staged", "staged", "partial credit: mean of the four stages that follow"),
        Metric("valid_call", "valid call", "a tool call could be read from the answer"),
        Metric("right_tool", "right tool", "... and it names the reference tool"),
        Metric("right_keys", "right keys", "... with exactly the reference's argument names (defaults filled)"),
        Metric("exact", "exact", "... and exactly the reference call (arguments equal to their default left out)"),
    )
    headline = "ast"
    gate_proceed = 0.7
    summary = "Turn a request into one call to a tool from a JSON Schema catalog."
    record_schema = {
        "type": "object",
        "required": ["input", "output"],
        "properties": {
            "input": {"type": "string", "minLength": 1, "pattern": NONBLANK},
            "output": {
                "type": "object",
                "required": ["name", "arguments"],
                "properties": {"name": {"type": "string", "minLength": 1}, "arguments": {"type": "object"}},
                "additionalProperties": False,
            },
        },
    }
    config_schema = {
        "properties": {
            "tools": {
                "type": "array",
                "minItems": 1,
                # an entry with "function" is the OpenAI wrapper, any other a bare function: if/then
                # (not anyOf) so that an error names the field at fault, not a branch that never applied
                "items": {
                    "if": {"type": "object", "required": ["function"]},
                    "then": {
                        "type": "object",
                        "required": ["type", "function"],
                        "properties": {"type": {"const": "function"}, "function": _FUNCTION},
                    },
                    "else": _FUNCTION,
                },
                "description": "the tool catalog: OpenAI-style function definitions",
            }
        },
        "required": ["tools"],
    }

    templates = {"system": SYSTEM, "generate": LISTED}
    single_templates = {"generate": GENERATE}
    listed_phases = frozenset({0})

    def own_properties(self, config):
        names = tuple(catalog(config))
        return [
            Property(
                "tool",
                names,
                "Which tool does the example call?",
                {name: f'The request must be one that is handled by calling the tool "{name}".' for name in names},
                source="record",
            )
        ]

    def seed_values(self, record, config):
        return {"tool": record["output"]["name"]}

    def pick_seeds(self, seeds, theta, k, rng):
        return split_pick(seeds, lambda s: s["output"]["name"] == theta.get("tool"), k, rng)

    def generation_prompt(self, ctx, example, phase, previous):
        tool = example.theta["tool"]
        target, others = targets_and_others(example.shown, lambda s: s["output"]["name"] == tool)
        return chat(
            ctx.render(
                "generate",
                tool=tool,
                catalog=_catalog_text(ctx.config),
                instructions=example.instructions,
                target_examples=bullet_list([_example(s) for s in target], 600),
                other_examples=bullet_list([_example(s) for s in others], 600),
            )
        )

    def listed_prompt(self, ctx, examples, phase, previous):
        return chat(
            ctx.render(
                "generate",
                examples=bullet_list([_example(s) for s in examples[0].shown], 600),
                requests=numbered_requests(examples),
                count=len(examples),
            ),
            system=ctx.render("system", catalog=_catalog_text(ctx.config)),
        )

    def parse_phase(self, ctx, example, phase, text, previous):
        data = extract_json(text)
        request = data.get("input", data.get("request"))
        call = data.get("output", data.get("call", data.get("tool_call")))
        if not isinstance(request, str) or not request.strip():
            raise ParseError("the JSON has no 'input' text")
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise ParseError("the JSON has no 'output' call with a tool name")
        arguments = call.get("arguments", call.get("parameters", {}))
        if isinstance(arguments, str):  # OpenAI-style arguments as a JSON string
            try:
                arguments = json.loads(arguments)
            except json.JSONDecodeError:
                raise ParseError("the call's arguments are not valid JSON") from None
        if call["name"] != example.theta["tool"]:
            raise ParseError(f"called {call['name']!r}, not the target tool {example.theta['tool']!r}")
        return {"input": request.strip(), "output": {"name": call["name"], "arguments": arguments}}

    def score(self, prediction, record, config):
        """The BFCL-style AST check (the headline) and staged partial credit: a readable call, the
        right tool, the right argument names, the exact call (arguments equal to their schema
        default count as left out). Model output is parsed, never executed."""
        check = check_call(prediction, record["output"], catalog(config))
        metrics = {"ast": float(check.passed), "staged": check.staged, **check.stages}
        return Score(check.passed, check.call, check.error, metrics, check.error_type, check.differences)

    def short_prompt(self, config):
        return f"Answer with one JSON tool call to one of: {', '.join(catalog(config))}."

    def display(self, record):
        return _example(record)

    def tool_catalog(self, config):
        return [entry if "function" in entry else {"type": "function", "function": entry} for entry in config["tools"]]

    def tool_call(self, prediction):
        return read_call(prediction)[0]

    def reference_material(self, config):
        tools = [entry.get("function", entry) for entry in config.get("tools") or []]
        return "Tools (JSON Schema):\n" + "\n".join(json.dumps(tool, ensure_ascii=False) for tool in tools)

    def target_text(self, record):
        return json.dumps(record["output"], ensure_ascii=False)

    def check_config(self, config):
        seen = set()
        for index, entry in enumerate(config.get("tools") or []):
            function = entry.get("function", entry)
            named = ("tools", index) + (("function",) if "function" in entry else ()) + ("name",)
            if any(c.isspace() for c in function["name"]):
                # the schema's pattern lets a trailing newline through ($ matches before it)
                yield named, f"tool name {function['name']!r} may not contain spaces or line breaks"
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
        tools = {
            name: standalone(forbid_extra_keys(params) if strict else params, f"tools/{name}")
            for name, params in catalog(config).items()
        }
        per_tool = [
            {"if": {"properties": {"name": {"const": name}}}, "then": {"properties": {"arguments": params}}}
            for name, params in tools.items()
        ]
        output = {"properties": {"name": {"enum": list(tools)}}, "allOf": per_tool}
        return [self.record_schema, {"properties": {"output": output}}]


@hookimpl
def register_task_types(register):
    register(ToolCalling())


__all__ = ["ToolCalling", "catalog"]
