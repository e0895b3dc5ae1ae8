"""Answer metrics for question answering: SQuAD exact match and token F1 (shared with the core),
and ROUGE-L F from the rouge-score package, each the best over the record's reference answers."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from germinate import exact_match, normalize_answer, token_f1


@lru_cache(maxsize=1)
def _scorer() -> Any:
    from rouge_score import rouge_scorer  # imported on first use: it pulls in nltk

    return rouge_scorer.RougeScorer(["rougeL"])


def rouge_l(prediction: str, reference: str) -> float:
    """rouge-score's ``rougeL`` F-measure (its own tokeniser, no stemming); two answers with no
    words at all (an unanswerable question answered with nothing) score 1.0, as token F1 does."""
    if not normalize_answer(prediction) or not normalize_answer(reference):
        return float(normalize_answer(prediction) == normalize_answer(reference))
    return float(_scorer().score(reference, prediction)["rougeL"].fmeasure)


def references(record: dict) -> list[str]:
    """The record's answer, plus any alternatives in an ``answers`` list (SQuAD keeps several)."""
    found = [record.get("answer") or ""]
    extra = record.get("answers")
    if isinstance(extra, list):
        found += [a for a in extra if isinstance(a, str) and a not in found]
    return found


def answer_metrics(prediction: str, record: dict) -> dict[str, float]:
    golds = references(record)
    return {
        "token_f1": max(token_f1(prediction, g) for g in golds),
        "exact_match": max(exact_match(prediction, g) for g in golds),
        "rouge_l": max(rouge_l(prediction, g) for g in golds),
    }
