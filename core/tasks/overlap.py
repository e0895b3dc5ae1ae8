"""How much of one text is in another, after normalisation: whether a value occurs in a source
text, the share of a value's tokens the source holds, and how far a free answer agrees with a
reference (by the metrics in :mod:`germinate.tasks.metrics`). Pure Python, import-light."""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from typing import Any

from germinate.tasks.metrics import flatten_fields, prf, token_f1

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans({c: " " for c in string.punctuation + "‘’“”–—…"})
_GROUPED_NUMBER = re.compile(r"\b\d{1,3}(?:,\d{3})+\b")


def normalise(text: str) -> str:
    """Lower case, Unicode compatibility forms, thousands separators dropped (1,000 -> 1000),
    punctuation as spaces, single spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _GROUPED_NUMBER.sub(lambda m: m.group(0).replace(",", ""), text)
    return " ".join(text.translate(_PUNCTUATION).split())


def answer_tokens(text: str) -> list[str]:
    """SQuAD's answer normalisation: :func:`normalise` without articles."""
    return _ARTICLES.sub(" ", normalise(text)).split()


def _json(text: str) -> Any:
    from germinate.tasks.parsing import ParseError, extract_json

    stripped = text.strip()
    want = list if stripped.startswith("[") else dict
    try:
        return extract_json(stripped, want)
    except ParseError:
        return None


def answer_f1(prediction: str, reference: str) -> float:
    """Agreement of a free answer with a reference: field-level F1 (paths and values, lists as
    multisets) when the reference is JSON (an extraction's output), else SQuAD token-F1."""
    expected = _json(reference) if reference.strip()[:1] in "{[" else None
    if expected is None:
        return token_f1(prediction, reference)
    got = _json(prediction)
    if got is None:
        return 0.0
    want_fields, got_fields = flatten_fields(expected), flatten_fields(got)
    common = sum((want_fields & got_fields).values())
    fp, fn = sum(got_fields.values()) - common, sum(want_fields.values()) - common
    return prf(common, fp, fn)[2]


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
