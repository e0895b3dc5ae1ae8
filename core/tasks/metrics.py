"""Deterministic metric helpers several task families share: SQuAD-style answer normalisation,
exact match and token F1, value normalisation for structured outputs, flattening a JSON value
into a multiset of ``(path, value)`` fields, P/R/F1 from counts, and Cohen's kappa.

Import-light on purpose (re, string, collections): the plugin API re-exports these names.
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from collections.abc import Sequence
from typing import Any

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)
_SPACES = re.compile(r"\s+")
_EDGE = " \t\n\"'`.,;:!?"


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower-case, drop punctuation, drop the articles a / an / the,
    collapse whitespace (the official evaluation script's order of steps)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, reference: str) -> float:
    """1.0 when the two answers are equal after :func:`normalize_answer`, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(reference))


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1: the harmonic mean of token precision and recall over the normalised
    answers' bags of words. When either side is empty (an unanswerable question's reference is
    ""), it is 1.0 only if both are, as in SQuAD 2.0."""
    got, want = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not got or not want:
        return float(got == want)
    common = sum((Counter(got) & Counter(want)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


def normalize_value(value: Any) -> Any:
    """A JSON leaf for comparing structured outputs: strings case-folded with whitespace collapsed
    and surrounding quotes / end punctuation removed; numbers as floats (so 1 == 1.0); booleans and
    null unchanged (True is not 1)."""
    if isinstance(value, str):
        return _SPACES.sub(" ", value.casefold()).strip(_EDGE)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


def flatten_fields(value: Any, path: str = "") -> Counter[tuple[str, str]]:
    """A JSON value as a multiset of ``(path, leaf)`` fields: objects add ``.key`` to the path and
    lists add ``[]`` without an index, so list items compare as a multiset whatever their order.
    Leaves are normalised with :func:`normalize_value` and kept as JSON text."""
    fields: Counter[tuple[str, str]] = Counter()
    if isinstance(value, dict):
        for key, item in value.items():
            fields += flatten_fields(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for item in value:
            fields += flatten_fields(item, f"{path}[]")
    else:
        fields[(path, json.dumps(normalize_value(value), ensure_ascii=False))] += 1
    return fields


def canonical(value: Any) -> str:
    """JSON text equal for two values that are the same object with keys in any order and lists as
    multisets, leaves normalised with :func:`normalize_value`: whole-object exact match."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {str(k): walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return sorted((walk(v) for v in node), key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
        return normalize_value(node)

    return json.dumps(walk(value), sort_keys=True, ensure_ascii=False)


def prf(true_positives: int, false_positives: int, false_negatives: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts. With nothing predicted and nothing expected all three
    are 1.0 (an empty answer to an empty reference is right); otherwise an empty side gives 0."""
    if true_positives + false_positives + false_negatives == 0:
        return 1.0, 1.0, 1.0
    predicted, expected = true_positives + false_positives, true_positives + false_negatives
    precision = true_positives / predicted if predicted else 0.0
    recall = true_positives / expected if expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def cohen_kappa(rater: Sequence[bool], gold: Sequence[bool]) -> float | None:
    """Cohen's kappa between two binary raters: (p_o - p_e) / (1 - p_e). None when it is undefined
    (no items, or both raters give one and the same answer to everything)."""
    n = len(gold)
    if n == 0 or n != len(rater):
        return None
    observed = sum(1 for a, b in zip(rater, gold) if a == b) / n
    rater_yes, gold_yes = sum(rater) / n, sum(gold) / n
    expected = rater_yes * gold_yes + (1 - rater_yes) * (1 - gold_yes)
    if expected == 1.0:
        return None
    return (observed - expected) / (1 - expected)
