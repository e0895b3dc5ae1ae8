"""Text classification: the input is free text, the output is one label from the project's set.

The student learns to emit the class name, so classification is text generation like the rest.
"""

from germinate import hookimpl
from germinate.task_type import TaskType


class Classification(TaskType):
    name = "classification"
    summary = "Assign one label from a fixed set to a text; the student emits the label name."
    record_schema = {
        "type": "object",
        "required": ["input", "output"],
        "properties": {
            "input": {"type": "string", "minLength": 1},
            "output": {"type": "string", "minLength": 1},
        },
    }
    config_schema = {
        "properties": {
            "labels": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 2,
                "uniqueItems": True,
                "description": "every class the student may answer with",
            }
        },
        "required": ["labels"],
    }

    def check_record(self, record, config):
        labels = config.get("labels") or []
        if record["output"] not in labels:
            yield "output", f"label {record['output']!r} is not in the label set ({', '.join(labels)})"

    def schema_rules(self, config, strict=True):
        rule = {
            "type": "object",
            "required": ["input", "output"],
            "properties": {"input": {"type": "string", "minLength": 1},
                           "output": {"enum": list(config.get("labels") or [])}},
        }
        return [rule]


@hookimpl
def register_task_types(register):
    register(Classification())
