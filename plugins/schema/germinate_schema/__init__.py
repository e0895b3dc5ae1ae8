"""Schema validator: a generated record must satisfy the task type's rules (its record schema,
the label set, the tool catalog with each tool's parameter schema, the extraction output
schema) plus any rules other plugins add through the ``schema_rules`` hook. In strict mode (the
default) a structured output may not carry keys its schema does not list."""

from __future__ import annotations

from germinate import Check, Validator, Verdict, describe_schema_error, field_name, hookimpl, schema_validator


class SchemaCheck(Check):
    def __init__(self, rules: list[dict]) -> None:
        # user schemas (tool parameters, output_schema): no reference fetched, patterns time-limited
        self.validators = [schema_validator(rule) for rule in rules]

    def check(self, record: dict) -> Verdict:
        from jsonschema.exceptions import best_match  # not at import: `germinate --help` loads every plugin

        for validator in self.validators:
            try:
                error = best_match(validator.iter_errors(record))
            except RecursionError:
                return Verdict.reject("record: nested too deeply to check against the schema", field="record")
            if error is not None:
                path, message = describe_schema_error(error)
                return Verdict.reject(f"{field_name(path) or 'record'}: {message}", field=field_name(path))
        return Verdict.accept()


class Schema(Validator):
    name = "schema"
    order = 30
    summary = "Structured outputs must fit the task's JSON Schema: types, required fields, enums, no unexpected keys."
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "strict": {"type": "boolean", "default": True, "description": "forbid keys a schema does not list"}
        },
    }

    def prepare(self, seeds, settings, task):
        return SchemaCheck(task.schema_rules(strict=settings.get("strict", True)))


@hookimpl
def register_validators(register):
    register(Schema())
