"""Extraction metrics: whole-object exact match, and field-level precision / recall / F1 over the
output's leaves flattened by path (``parties[].name``), list items compared as multisets."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from germinate import canonical, flatten_fields, normalize_value, prf

#: differences listed per prediction at most
MAX_DIFFERENCES = 8


def compare(got: Any, want: Any) -> tuple[dict[str, float], dict[str, int], tuple[str, ...]]:
    """Per-prediction metrics, the counts a test set sums, and readable differences."""
    predicted, expected = flatten_fields(got), flatten_fields(want)
    matched = predicted & expected
    tp = sum(matched.values())
    fp, fn = sum(predicted.values()) - tp, sum(expected.values()) - tp
    precision, recall, f1 = prf(tp, fp, fn)
    metrics = {
        "field_f1": f1,
        "field_precision": precision,
        "field_recall": recall,
        "exact_match": float(canonical(got) == canonical(want)),
    }
    shown = {**_as_written(want), **_as_written(got)}
    return metrics, {"tp": tp, "fp": fp, "fn": fn}, differences(predicted - matched, expected - matched, shown)


def differences(extra: Counter, missing: Counter, shown: dict[tuple[str, str], Any]) -> tuple[str, ...]:
    """``path: got -> expected`` lines: a wrong value pairs an extra field with a missing one at
    the same path; what is left is ``(none)`` on one side. Values as written (``shown``)."""

    def show(field: tuple[str, str]) -> str:
        value = shown.get(field, json.loads(field[1]))
        return repr(value) if isinstance(value, str) else json.dumps(value)

    lines = []
    missing_by_path: dict[str, list[tuple[str, str]]] = {}
    for field, count in sorted(missing.items()):
        missing_by_path.setdefault(field[0], []).extend([field] * count)
    for field, count in sorted(extra.items()):
        for _ in range(count):
            expected = missing_by_path.get(field[0])
            lines.append(f"{field[0]}: {show(field)} -> {show(expected.pop(0)) if expected else '(none)'}")
    for path, fields in missing_by_path.items():
        lines += [f"{path}: (none) -> {show(field)}" for field in fields]
    if len(lines) > MAX_DIFFERENCES:
        lines = lines[:MAX_DIFFERENCES] + [f"... and {len(lines) - MAX_DIFFERENCES} more"]
    return tuple(lines)


def _as_written(value: Any, path: str = "") -> dict[tuple[str, str], Any]:
    """Each flattened field (as :func:`flatten_fields` keys it) with its leaf as written."""
    found: dict[tuple[str, str], Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            found.update(_as_written(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, list):
        for item in value:
            found.update(_as_written(item, f"{path}[]"))
    else:
        found[(path, json.dumps(normalize_value(value), ensure_ascii=False))] = value
    return found


def micro(counts: list[dict[str, int]]) -> tuple[float, float, float]:
    """Precision, recall and F1 with the counts summed over the test set (micro-averaged)."""
    return prf(*(sum(c.get(k, 0) for c in counts) for k in ("tp", "fp", "fn")))
