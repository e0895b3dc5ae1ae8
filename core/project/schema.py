"""Core's JSON Schema for task.yaml. Task types add their own top-level keys (labels, tools,
output_schema...); teacher backends and validators check their own sections."""

from __future__ import annotations

import copy
from typing import Any

MIN_SEEDS = 10
DEFAULT_MAX_SEEDS = 50

_positive_int = {"type": "integer", "minimum": 1}
_probability = {"type": "number", "minimum": 0, "maximum": 1}

CORE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["task_type", "description"],
    "properties": {
        "task_type": {"type": "string", "minLength": 1},
        "name": {"type": "string"},
        "description": {"type": "string", "minLength": 1},
        "max_seeds": {"type": "integer", "minimum": MIN_SEEDS},
        "teacher": {
            "type": "object",
            "required": ["backend"],
            "properties": {"backend": {"type": "string", "minLength": 1}},
        },
        "student": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "model": {"type": "string", "minLength": 1},
                "gguf_file": {"type": "string"},
                "dtype": {"enum": ["float32", "bfloat16", "float16"]},
                "max_length": _positive_int,
            },
        },
        "generation": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "n": _positive_int,
                "seeds_per_prompt": _positive_int,
                "properties": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                "prior": {"type": "number", "exclusiveMinimum": 0},
                "batch_size": _positive_int,
                "seed": {"type": "integer"},
                "max_attempts": _positive_int,
                "temperature": {"type": "number", "minimum": 0},
                "max_tokens": _positive_int,
                "prompts": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "validation": {
            "type": "object",
            "properties": {"order": {"type": "array", "items": {"type": "string"}, "uniqueItems": True}},
            "additionalProperties": {"anyOf": [{"type": "object"}, {"const": False}]},
        },
        "training": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "epochs": {"type": "number", "exclusiveMinimum": 0},
                "learning_rate": {"type": "number", "exclusiveMinimum": 0},
                "lora_rank": _positive_int,
                "lora_alpha": {"type": "number", "exclusiveMinimum": 0},
                "lora_dropout": {"type": "number", "minimum": 0, "maximum": 1},
                "target_modules": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "batch_size": _positive_int,
                "gradient_accumulation": _positive_int,
                "max_length": _positive_int,
                "validation_split": _probability,
                "seed": {"type": "integer"},
                "merge": {"type": "boolean"},
                "save_steps": _positive_int,
            },
        },
        "evaluation": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "k_shot": {"type": "integer", "minimum": 0},
                "repeats": _positive_int,
                "max_examples": _positive_int,
                "max_new_tokens": _positive_int,
                "batch_size": _positive_int,
                "seed": {"type": "integer"},
                "judge": {
                    "type": "object",
                    "description": "the judge model (teacher settings: backend, model...; default: the "
                                   "teacher) and optionally its prompt",
                    "properties": {"prompt": {"type": "string", "minLength": 1},
                                   "backend": {"type": "string", "minLength": 1}},
                },
            },
        },
        "prices": {
            "type": "object",
            "description": "USD per million tokens, by model name",
            "additionalProperties": {
                "type": "object",
                "required": ["input", "output"],
                "additionalProperties": False,
                "properties": {"input": {"type": "number", "minimum": 0},
                               "output": {"type": "number", "minimum": 0}},
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
