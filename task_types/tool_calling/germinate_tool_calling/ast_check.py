"""Scoring one predicted tool call against the reference call, in the manner of the Berkeley
Function-Calling Leaderboard's AST check, plus staged partial credit.

The AST check passes when the function name is right, every required and every expected
argument is present, no unexpected argument is given, each value has its declared type (an
integer where a number is declared is fine) and equals the reference after string normalisation
(case and spacing); the tool's schema defaults are filled in on both sides first, so leaving out
an argument equal to its default is not a mistake. The stages give partial credit: a readable
call, the right tool, the right argument names, the exact call. Model output is parsed (JSON, or
a Python-style call read with ``ast``), never executed.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from germinate import ParseError, extract_json, normalize_value
from germinate_tool_calling.call_syntax import parse_python_call

STAGES = ("valid_call", "right_tool", "right_keys", "exact")
#: the first failing check names the mistake, in this order
ERROR_TYPES = ("unparseable", "wrong_tool", "missing_argument", "extra_argument", "wrong_type", "wrong_value")
_TYPES: dict[str, Any] = {
    "string": str,
    "boolean": bool,
    "array": list,
    "object": dict,
    "integer": int,
    "number": (int, float),
}


@attrs.frozen
class CallCheck:
    passed: bool
    stages: dict[str, float]
    error_type: str | None = None
    error: str | None = None
    differences: tuple[str, ...] = ()
    call: dict[str, Any] | None = None

    @property
    def staged(self) -> float:
        return sum(self.stages.values()) / len(STAGES)


def read_call(prediction: str) -> tuple[dict[str, Any] | None, str | None]:
    """``({"name", "arguments"}, None)`` from JSON or a Python-literal call, or ``(None, why not)``."""
    try:
        call = extract_json(prediction)
    except ParseError:
        call = parse_python_call(prediction)
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        return None, "no tool call in the prediction"
    arguments = call.get("arguments", {})
    if isinstance(arguments, str):  # OpenAI-style arguments as a JSON string
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            return None, "arguments are not valid JSON"
    if not isinstance(arguments, dict):
        return None, "arguments are not an object"
    return {"name": call["name"], "arguments": arguments}, None


def without_defaults(call: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    """The call with arguments equal to their declared default dropped (for exact match)."""
    kept = {
        k: v
        for k, v in call["arguments"].items()
        if not (isinstance(properties.get(k), dict) and "default" in properties[k] and properties[k]["default"] == v)
    }
    return {"name": call["name"], "arguments": kept}


def with_defaults(arguments: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    """The arguments with every declared default filled in where left out."""
    defaults = {k: p["default"] for k, p in properties.items() if isinstance(p, dict) and "default" in p}
    return {**defaults, **arguments}


def type_ok(value: Any, schema: Any) -> bool:
    """``value`` has the type ``schema`` declares (an int passes for "number", a bool never passes
    for "integer"); items of arrays and declared fields of objects are checked too."""
    if not isinstance(schema, dict):
        return True
    declared = schema.get("type")
    names = declared if isinstance(declared, list) else [declared] if declared else []
    if names and not any(_is(value, name) for name in names):
        return False
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return all(type_ok(item, schema["items"]) for item in value)
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        return all(type_ok(v, schema["properties"].get(k)) for k, v in value.items())
    return True


def _is(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name not in _TYPES:
        return True
    if isinstance(value, bool):
        return name == "boolean"
    return isinstance(value, _TYPES[name])


def values_equal(got: Any, want: Any) -> bool:
    """Equal after normalisation: strings by case and spacing, numbers by value (8 == 8.0), lists
    item by item in order, objects key by key; a boolean equals only a boolean."""
    if isinstance(got, bool) or isinstance(want, bool):
        return isinstance(got, bool) and isinstance(want, bool) and got == want
    if isinstance(got, list) and isinstance(want, list):
        return len(got) == len(want) and all(values_equal(g, w) for g, w in zip(got, want))
    if isinstance(got, dict) and isinstance(want, dict):
        return got.keys() == want.keys() and all(values_equal(got[k], want[k]) for k in want)
    if isinstance(got, (list, dict)) or isinstance(want, (list, dict)):
        return False
    return normalize_value(got) == normalize_value(want)


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def check_call(prediction: str, reference: dict[str, Any], tools: dict[str, Any]) -> CallCheck:
    """Score ``prediction`` against the reference ``{"name", "arguments"}``; ``tools`` maps a tool
    name to its parameters' JSON Schema."""
    stages = dict.fromkeys(STAGES, 0.0)
    call, why = read_call(prediction)
    if call is None:
        return CallCheck(False, stages, "unparseable", why)  # no fields to compare: reports show the text
    stages["valid_call"] = 1.0
    if call["name"] != reference["name"]:
        return CallCheck(
            False, stages, "wrong_tool", None, (f"name: {call['name']} -> {reference['name']}",), call=call
        )
    stages["right_tool"] = 1.0
    schema = tools.get(reference["name"]) or {}
    declared = schema.get("properties")
    properties: dict[str, Any] = declared if isinstance(declared, dict) else {}
    got = with_defaults(call["arguments"], properties)
    want = with_defaults(reference["arguments"], properties)
    required = [k for k in schema.get("required") or [] if isinstance(k, str)]
    missing = sorted(k for k in {*want, *required} if k not in got)
    extra = sorted(k for k in got if k not in want)
    wrong_type = sorted(k for k in got if k in want and not type_ok(got[k], properties.get(k)))
    wrong_value = sorted(k for k in got if k in want and k not in wrong_type and not values_equal(got[k], want[k]))
    if not missing and not extra:
        stages["right_keys"] = 1.0
    if without_defaults(call, properties) == without_defaults(reference, properties):
        stages["exact"] = 1.0
    differences = (
        [f"arguments.{k}: (missing) -> {_show(want[k]) if k in want else '(required)'}" for k in missing]
        + [f"arguments.{k}: {_show(got[k])} -> (not expected)" for k in extra]
        + [f"arguments.{k}: {_show(got[k])} -> {_show(want[k])}" for k in wrong_type + wrong_value]
    )
    kinds = {"missing_argument": missing, "extra_argument": extra, "wrong_type": wrong_type, "wrong_value": wrong_value}
    error_type = next((kind for kind, keys in kinds.items() if keys), None)
    return CallCheck(error_type is None, stages, error_type, None, tuple(differences), call=call)
