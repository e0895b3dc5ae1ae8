"""germinate: a task description and a few seed examples in, a small fine-tuned expert out.

This module is the plugin API: everything a plugin author uses is importable from here, and
``__all__`` lists it. Plugins (the built-in ones included) import only from ``germinate``; the
modules inside may move, these names stay. The hook specifications themselves are documented in
:mod:`germinate.hookspecs`.

Names are imported on first use (PEP 562): ``import germinate`` costs nothing, so the command
line starts fast and a plugin pays only for what it touches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from germinate.embedded_models import DEFAULT_LOCAL_TEACHER, locate_model, model_problem
    from germinate.hookspecs import hookimpl
    from germinate.problems import GerminateError, Problem
    from germinate.project.errors import (
        NONBLANK,
        check_schema,
        describe_schema_error,
        field_name,
        forbid_extra_keys,
        schema_problems,
    )
    from germinate.project.schemas import schema_validator, standalone
    from germinate.tasks.base import TaskType
    from germinate.tasks.grounding import DERIVED, PLACEHOLDERS, Grounded, Grounding, string_values
    from germinate.tasks.metrics import (
        canonical,
        exact_match,
        flatten_fields,
        normalize_answer,
        normalize_value,
        prf,
        token_f1,
    )
    from germinate.tasks.overlap import answer_f1, normalise, occurs, token_recall
    from germinate.tasks.parsing import ParseError, extract_json, numbered_items, plain_text
    from germinate.tasks.prompting import (
        bullet_list,
        chat,
        numbered_requests,
        split_pick,
        targets_and_others,
        teacher_messages,
        teacher_shots,
    )
    from germinate.tasks.property import Property
    from germinate.tasks.score import JUDGE_METRIC, Metric, Score
    from germinate.teachers.base import (
        ENGINE_SETTINGS_SCHEMA,
        ChatRequest,
        Completion,
        PermanentError,
        RateLimited,
        Teacher,
        TeacherClient,
        TransientError,
    )
    from germinate.teachers.http_errors import api_key, retry_after, sdk_error
    from germinate.validate.base import Check, TaskContext, Validator, Verdict

_SOURCES: dict[str, str] = {
    "DEFAULT_LOCAL_TEACHER": "germinate.embedded_models",
    "locate_model": "germinate.embedded_models",
    "model_problem": "germinate.embedded_models",
    "hookimpl": "germinate.hookspecs",
    "GerminateError": "germinate.problems",
    "Problem": "germinate.problems",
    "check_schema": "germinate.project.errors",
    "describe_schema_error": "germinate.project.errors",
    "field_name": "germinate.project.errors",
    "forbid_extra_keys": "germinate.project.errors",
    "NONBLANK": "germinate.project.errors",
    "schema_problems": "germinate.project.errors",
    "schema_validator": "germinate.project.schemas",
    "standalone": "germinate.project.schemas",
    "TaskType": "germinate.tasks.base",
    "DERIVED": "germinate.tasks.grounding",
    "PLACEHOLDERS": "germinate.tasks.grounding",
    "Grounded": "germinate.tasks.grounding",
    "Grounding": "germinate.tasks.grounding",
    "string_values": "germinate.tasks.grounding",
    "canonical": "germinate.tasks.metrics",
    "exact_match": "germinate.tasks.metrics",
    "flatten_fields": "germinate.tasks.metrics",
    "normalize_answer": "germinate.tasks.metrics",
    "normalize_value": "germinate.tasks.metrics",
    "prf": "germinate.tasks.metrics",
    "token_f1": "germinate.tasks.metrics",
    "answer_f1": "germinate.tasks.overlap",
    "normalise": "germinate.tasks.overlap",
    "occurs": "germinate.tasks.overlap",
    "token_recall": "germinate.tasks.overlap",
    "ParseError": "germinate.tasks.parsing",
    "extract_json": "germinate.tasks.parsing",
    "numbered_items": "germinate.tasks.parsing",
    "plain_text": "germinate.tasks.parsing",
    "bullet_list": "germinate.tasks.prompting",
    "chat": "germinate.tasks.prompting",
    "numbered_requests": "germinate.tasks.prompting",
    "split_pick": "germinate.tasks.prompting",
    "targets_and_others": "germinate.tasks.prompting",
    "teacher_messages": "germinate.tasks.prompting",
    "teacher_shots": "germinate.tasks.prompting",
    "Property": "germinate.tasks.property",
    "JUDGE_METRIC": "germinate.tasks.score",
    "Metric": "germinate.tasks.score",
    "Score": "germinate.tasks.score",
    "ENGINE_SETTINGS_SCHEMA": "germinate.teachers.base",
    "ChatRequest": "germinate.teachers.base",
    "Completion": "germinate.teachers.base",
    "PermanentError": "germinate.teachers.base",
    "RateLimited": "germinate.teachers.base",
    "Teacher": "germinate.teachers.base",
    "TeacherClient": "germinate.teachers.base",
    "TransientError": "germinate.teachers.base",
    "api_key": "germinate.teachers.http_errors",
    "retry_after": "germinate.teachers.http_errors",
    "sdk_error": "germinate.teachers.http_errors",
    "Check": "germinate.validate.base",
    "TaskContext": "germinate.validate.base",
    "Validator": "germinate.validate.base",
    "Verdict": "germinate.validate.base",
}


def __getattr__(name: str) -> Any:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module 'germinate' has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "__version__",
    # hooks
    "hookimpl",
    # task types
    "TaskType",
    "Property",
    "Score",
    "Metric",
    "JUDGE_METRIC",
    "ParseError",
    "extract_json",
    "plain_text",
    "numbered_items",
    "numbered_requests",
    "chat",
    "bullet_list",
    "split_pick",
    "targets_and_others",
    # metrics shared by task families
    "normalize_answer",
    "exact_match",
    "token_f1",
    "normalize_value",
    "flatten_fields",
    "canonical",
    "prf",
    "teacher_messages",
    "teacher_shots",
    # grounding and text overlap
    "Grounding",
    "Grounded",
    "string_values",
    "DERIVED",
    "PLACEHOLDERS",
    "normalise",
    "occurs",
    "token_recall",
    "answer_f1",
    # validators
    "Validator",
    "Check",
    "Verdict",
    "TaskContext",
    # teachers
    "Teacher",
    "TeacherClient",
    "ChatRequest",
    "Completion",
    "TransientError",
    "RateLimited",
    "PermanentError",
    "ENGINE_SETTINGS_SCHEMA",
    "api_key",
    "retry_after",
    "sdk_error",
    "DEFAULT_LOCAL_TEACHER",
    "locate_model",
    "model_problem",
    # JSON Schema helpers and errors
    "schema_problems",
    "check_schema",
    "forbid_extra_keys",
    "NONBLANK",
    "field_name",
    "describe_schema_error",
    "schema_validator",
    "standalone",
    "GerminateError",
    "Problem",
]
