"""Information extraction: a source text becomes a JSON object that fits the project's
``output_schema``."""

from germinate import hookimpl
from germinate.schema_errors import check_schema, field_name, forbid_extra_keys, schema_problems
from germinate.task_type import TaskType


class Extraction(TaskType):
    name = "information_extraction"
    summary = "Extract structured data from a text into a JSON object fitting output_schema."
    record_schema = {
        "type": "object",
        "required": ["input", "output"],
        "properties": {
            "input": {"type": "string", "minLength": 1},
            "output": {"type": "object"},
        },
    }
    config_schema = {
        "properties": {
            "output_schema": {"type": "object", "description": "JSON Schema of the output object"}
        },
        "required": ["output_schema"],
    }

    def check_config(self, config):
        problem = check_schema(config["output_schema"])
        if problem:
            yield ("output_schema",) + problem[0], f"not a valid JSON Schema: {problem[1]}"

    def check_record(self, record, config):
        for path, message in schema_problems(config.get("output_schema") or {}, record["output"]):
            yield field_name(("output",) + path), message

    def schema_rules(self, config, strict=True):
        output = config.get("output_schema") or {}
        return [self.record_schema, {"properties": {"output": forbid_extra_keys(output) if strict else output}}]


@hookimpl
def register_task_types(register):
    register(Extraction())
