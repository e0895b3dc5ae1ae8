"""Turning jsonschema's errors into short ``(field, message)`` pairs a user can act on.

jsonschema is imported inside the functions (it is not needed to start the command line); every
schema is validated through :func:`germinate.project.schemas.schema_validator`, which fetches no
reference and time-limits patterns.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from germinate.project.schemas import check_user_schema, schema_validator

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

#: the ``pattern`` of a text field that must hold more than spaces and line breaks (beside
#: ``minLength: 1``); its failure reads "must not be blank"
NONBLANK = r"\S"

_TYPE_NAMES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
    type(None): "null",
}


def field_name(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short(value: Any, limit: int = 60) -> str:
    if value is None or isinstance(value, bool):  # as the user wrote it: JSON's null, true, false
        return "null" if value is None else str(value).lower()
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_schema_error(error: ValidationError) -> tuple[tuple[Any, ...], str]:
    """The path of the offending value and a one-line message."""
    path = tuple(error.absolute_path)
    kind = error.validator
    value: Any = error.validator_value
    schema: Any = error.schema
    if kind == "required":
        missing = [p for p in value if isinstance(error.instance, dict) and p not in error.instance]
        return path + (missing[0] if missing else "?",), "required field is missing"
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        hint = f" (allowed: {', '.join(sorted(allowed))})" if allowed else ""
        return path + (extra[0] if extra else "?",), f"unexpected field{hint}"
    if kind == "type":
        want = value
        want = " or ".join(want) if isinstance(want, list) else want
        got = _TYPE_NAMES.get(type(error.instance), type(error.instance).__name__)
        shown = "" if error.instance is None else f" {_short(error.instance)}"  # not "got null null"
        return path, f"expected {want}, got {got}{shown}"
    if kind == "enum":
        return path, f"{_short(error.instance)} is not one of {', '.join(map(str, value))}"
    if kind == "minLength" and value == 1:
        return path, "must not be empty"
    if kind == "pattern" and value == NONBLANK:
        return path, "must not be blank (it holds only spaces or line breaks)"
    if kind == "minItems":
        return path, f"needs at least {value} item{'s' if value != 1 else ''}"
    if kind == "uniqueItems" and isinstance(error.instance, list):
        seen: list[Any] = []
        twice: list[Any] = []
        for item in error.instance:
            (twice if item in seen and item not in twice else seen).append(item)
        return path, f"{', '.join(map(_short, twice))} listed more than once"
    if kind in ("anyOf", "oneOf") and error.context:
        from jsonschema.exceptions import best_match

        return describe_schema_error(best_match(error.context))
    return path, error.message if len(error.message) <= 200 else error.message[:197] + "..."


def schema_problems(schema: dict[str, Any], instance: Any) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every way ``instance`` breaks ``schema``; a broken schema is reported, never raised."""
    from jsonschema.exceptions import SchemaError, UnknownType
    from referencing.exceptions import Unresolvable

    validator = schema_validator(schema)
    try:
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    except (UnknownType, SchemaError, Unresolvable) as exc:
        yield (), f"cannot be checked, the schema itself is broken: {str(exc).splitlines()[0]}"
        return
    except RecursionError:
        yield (), "cannot be checked: the value and the schema nest too deeply together"
        return
    for error in errors:
        if error.validator == "pattern" and error.validator_value == NONBLANK and error.instance == "":
            continue  # "must not be empty" (minLength) says it already
        yield describe_schema_error(error)


def check_schema(schema: Any) -> tuple[tuple[Any, ...], str] | None:
    """None when ``schema`` is a valid JSON Schema that is safe to use (no reference leaving it, no
    cycle, every pattern compiles), else where (a path inside it) and why: the first problem of
    :func:`germinate.project.schemas.check_user_schema`."""
    problems = check_user_schema(schema)
    return problems[0] if problems else None


_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains")


def forbid_extra_keys(schema: Any) -> Any:
    """A copy of ``schema`` where every object schema that lists ``properties`` and says nothing
    about other keys forbids them (strict structured output)."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in _SCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {name: forbid_extra_keys(sub) for name, sub in out[key].items()}
    for key in _SCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [forbid_extra_keys(sub) for sub in out[key]]
    for key in _SCHEMA_ONE:
        if isinstance(out.get(key), dict):
            out[key] = forbid_extra_keys(out[key])
    if "properties" in out and not {"additionalProperties", "patternProperties", "unevaluatedProperties"} & set(out):
        out["additionalProperties"] = False
    return out
