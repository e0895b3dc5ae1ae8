"""Classification over a test set: accuracy, macro-F1 and the confusion matrix."""

from __future__ import annotations

from collections import Counter
from typing import Any

#: the confusion matrix's column for answers that are not a label
NOT_A_LABEL = "(not a label)"


def macro_f1(pairs: list[tuple[str, str | None]]) -> float:
    """Mean F1 over the labels that occur as a reference or as an answer (as scikit-learn does);
    ``pairs`` are (reference, answered label or None). An answer that is not a label is a miss for
    its reference's label and counts for no label."""
    true_positive: Counter[str] = Counter()
    false_positive: Counter[str] = Counter()
    false_negative: Counter[str] = Counter()
    for reference, answer in pairs:
        if answer == reference:
            true_positive[reference] += 1
            continue
        false_negative[reference] += 1
        if answer is not None:
            false_positive[answer] += 1
    labels = set(true_positive) | set(false_positive) | set(false_negative)
    if not labels:
        return 0.0
    scores = [
        2 * true_positive[label] / (2 * true_positive[label] + false_positive[label] + false_negative[label])
        for label in labels
    ]
    return sum(scores) / len(scores)


def confusion(labels: list[str], pairs: list[tuple[str, str | None]]) -> dict[str, Any]:
    """Rows: the reference label; columns: the answered label, then NOT_A_LABEL."""
    columns = [*labels, NOT_A_LABEL]
    where = {label: i for i, label in enumerate(columns)}
    matrix = [[0] * len(columns) for _ in labels]
    for reference, answer in pairs:
        if reference in where and reference != NOT_A_LABEL:
            matrix[where[reference]][where.get(answer or NOT_A_LABEL, len(labels))] += 1
    return {"rows": labels, "columns": columns, "matrix": matrix}
