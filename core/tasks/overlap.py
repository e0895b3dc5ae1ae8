"""How much of one text is in another, after normalisation: token-F1 between two answers (SQuAD's
normalisation: lower case, no punctuation, no articles), whether a value occurs in a source text,
and the share of a value's tokens the source holds. Pure Python, import-light."""

from __future__ import annotations

import json
import re
import string
import unicodedata
from collections import Counter
from typing import Any

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans({c: " " for c in string.punctuation + "‘’“”–—…"})
_GROUPED_NUMBER = re.compile(r"\b\d{1,3}(?:,\d{3})+\b")


def normalise(text: str) -> str:
    """Lower case, Unicode compatibility forms, thousands separators dropped (1,000 -> 1000),
    punctuation as spaces, single spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _GROUPED_NUMBER.sub(lambda m: m.group(0).replace(",", ""), text)
    return " ".join(text.translate(_PUNCTUATION).split())


def tokens(text: str) -> list[str]:
    return normalise(text).split()


def answer_tokens(text: str) -> list[str]:
    """SQuAD's answer normalisation: :func:`normalise` without articles."""
    return _ARTICLES.sub(" ", normalise(text)).split()


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token-F1 between two short answers; two empty answers agree (1.0)."""
    got, want = answer_tokens(prediction), answer_tokens(reference)
    if not got or not want:
        return float(got == want)
    common = sum((Counter(got) & Counter(want)).values())
    if not common:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


def _leaves(value: Any, path: str = "") -> list[str]:
    if isinstance(value, dict):
        return [leaf for key in sorted(value) for leaf in _leaves(value[key], f"{path}.{key}")]
    if isinstance(value, list):
        # list items are compared as a bag: their order rarely matters in an extraction
        return [leaf for item in value for leaf in _leaves(item, f"{path}[]")]
    text = value if isinstance(value, str) else json.dumps(value)
    return [f"{path}={normalise(text)}"]


def _json(text: str) -> Any:
    from germinate.tasks.parsing import ParseError, extract_json

    stripped = text.strip()
    want = list if stripped.startswith("[") else dict
    try:
        return extract_json(stripped, want)
    except ParseError:
        return None


def answer_f1(prediction: str, reference: str) -> float:
    """Agreement of a free answer with a reference: F1 over the leaves (path=value) of the two
    JSON values when the reference is JSON (an extraction's output), else token-F1."""
    expected = _json(reference) if reference.strip()[:1] in "{[" else None
    if expected is None:
        return token_f1(prediction, reference)
    got = _json(prediction)
    if got is None:
        return 0.0
    want_leaves, got_leaves = Counter(_leaves(expected)), Counter(_leaves(got))
    if not want_leaves or not got_leaves:
        return float(want_leaves == got_leaves)
    common = sum((want_leaves & got_leaves).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got_leaves.values()), common / sum(want_leaves.values())
    return 2 * precision * recall / (precision + recall)


def occurs(value: str, source: str) -> bool:
    """``value`` appears in ``source`` as whole tokens, after :func:`normalise`."""
    needle = normalise(value)
    return bool(needle) and f" {needle} " in f" {normalise(source)} "


def token_recall(value: str, source: str) -> float:
    """The share of ``value``'s tokens (articles left out) that ``source`` holds, as a bag: how well
    a paraphrase is supported by the text it paraphrases."""
    want = Counter(answer_tokens(value))
    if not want:
        return 0.0
    have = Counter(answer_tokens(source))
    return sum((want & have).values()) / sum(want.values())
