"""What a task type's metric returns for one prediction, and how a task type names its metrics.

A prediction that cannot be parsed counts as wrong and says why. Every task type declares the
metrics it reports (:class:`Metric`) and which of them is the headline; ``score`` fills in a
value for each, per prediction, and the task type's ``aggregate`` turns them into one value per
model (by default the mean)."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class Metric:
    """One number a task type reports for each model."""

    #: the key in Score.metrics, report.json and the predictions files
    name: str
    #: the column heading in reports
    title: str
    #: one line for the report's legend
    help: str = ""


#: the binary LLM judge's verdict as a column: a task type lists it in ``metrics`` to have the
#: harness ask the judge about every prediction its ``score`` leaves open (``correct=None``)
JUDGE_METRIC = Metric("judge", "judge", "share of answers the LLM judge calls correct")


@attrs.frozen
class Score:
    #: the prediction passes the task's own binary check (True / False), or None when the task
    #: asks the LLM judge for a verdict (free-text and structured answers)
    correct: bool | None
    parsed: Any = None
    error: str | None = None
    #: this prediction's value of each metric the task type declares, in [0, 1]
    metrics: dict[str, float] = attrs.field(factory=dict)
    #: what kind of mistake this is, counted per model in the report (tool calling: wrong_tool,
    #: missing_argument...); None when there is none
    error_type: str | None = None
    #: for structured outputs, the fields that differ, each ``path: got -> expected``
    differences: tuple[str, ...] = ()
    #: counts the task type sums over the test set in ``aggregate`` (extraction: true positives...)
    counts: dict[str, int] = attrs.field(factory=dict)
