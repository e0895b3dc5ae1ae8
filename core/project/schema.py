"""Core's JSON Schema for task.yaml. Task types add their own top-level keys (labels, tools,
output_schema...); teacher backends and validators check their own sections."""

from __future__ import annotations

import copy
from typing import Any

from germinate.project.errors import NONBLANK
from germinate.settings import (
    EvalSettings,
    GateSettings,
    GenerationSettings,
    InputLimits,
    ServeSettings,
    StudentSettings,
    TrainSettings,
    section_schema,
)

MIN_SEEDS = 10
DEFAULT_MAX_SEEDS = 50

CORE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["task_type", "description"],
    "properties": {
        "task_type": {"type": "string", "minLength": 1},
        "name": {"type": "string"},
        "description": {"type": "string", "minLength": 1, "pattern": NONBLANK},
        "max_seeds": {"type": "integer", "minimum": MIN_SEEDS},
        "teacher": {
            "type": "object",
            "required": ["backend"],
            "properties": {"backend": {"type": "string", "minLength": 1}},
        },
        **{cls.section: section_schema(cls) for cls in (StudentSettings, GenerationSettings, TrainSettings)},
        "validation": {
            "type": "object",
            "properties": {"order": {"type": "array", "items": {"type": "string"}, "uniqueItems": True}},
            # settings (an object) or true turn a validator on, false turns it off
            "additionalProperties": {"anyOf": [{"type": "object"}, {"type": "boolean"}]},
        },
        "evaluation": section_schema(EvalSettings),
        "serve": section_schema(ServeSettings),
        "gate": section_schema(GateSettings),
        InputLimits.section: section_schema(InputLimits),
        "prices": {
            "type": "object",
            "description": "USD per million tokens, by model name",
            "additionalProperties": {
                "type": "object",
                "required": ["input", "output"],
                "additionalProperties": False,
                "properties": {"input": {"type": "number", "minimum": 0}, "output": {"type": "number", "minimum": 0}},
            },
        },
    },
}


def merged_schema(task_type: Any | None) -> dict[str, Any]:
    """Core's schema plus the keys a task type adds; unknown top-level keys are errors only once
    the task type is known (otherwise its own keys would be reported as unknown)."""
    schema = copy.deepcopy(CORE_SCHEMA)
    if task_type is None:
        return schema
    extra = task_type.config_schema
    schema["properties"].update(copy.deepcopy(extra.get("properties", {})))
    schema["required"] = schema["required"] + [r for r in extra.get("required", []) if r not in schema["required"]]
    schema["additionalProperties"] = False
    return schema
