"""germinate: a task description and a few seed examples in, a small fine-tuned expert out.

This module is the plugin API: everything a plugin author uses is importable from here, and
``__all__`` lists it. Plugins (the built-in ones included) import only from ``germinate``; the
modules inside may move, these names stay. The hook specifications themselves are documented in
:mod:`germinate.hookspecs`.
"""

__version__ = "0.1.0"

from germinate.embedded_models import DEFAULT_LOCAL_TEACHER, locate_model
from germinate.hookspecs import hookimpl
from germinate.problems import GerminateError, Problem
from germinate.project.errors import check_schema, describe_schema_error, field_name, forbid_extra_keys, schema_problems
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
    # JSON Schema helpers and errors
    "schema_problems",
    "check_schema",
    "forbid_extra_keys",
    "field_name",
    "describe_schema_error",
    "schema_validator",
    "standalone",
    "GerminateError",
    "Problem",
]
