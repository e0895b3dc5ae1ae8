"""The teacher gate: before an hour of generation and training, can the teacher do the task?

The teacher answers items k-shot, the way it is evaluated: by default each seed (up to
``gate.max_examples``) with k *other* seeds as its examples (leave-one-out: no seed is its own
example), or a slice of the test split with k seeds. The task type's headline metric over those
answers gives the verdict: PROCEED at ``gate.proceed`` or above (the task type's default: 0.8,
tool calling 0.7), RETHINK below ``gate.rethink`` (0.6), ITERATE between. ``germinate run`` stops
on RETHINK unless ``--force``. Teacher calls go through the engine's cache, so asking again is free.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import attrs

from germinate.evaluate.harness import Scorer, answer_budget, predict_teacher, test_records, worst
from germinate.problems import GerminateError, Problem
from germinate.project.load import Project
from germinate.settings import EvalSettings, GateSettings
from germinate.tasks.score import JUDGE_METRIC

PROCEED, ITERATE, RETHINK = "PROCEED", "ITERATE", "RETHINK"
ADVICE = {
    PROCEED: "the teacher can do the task",
    ITERATE: "improve the description or the seeds, or pick a stronger teacher",
    RETHINK: "the teacher cannot do the task as described: improve the description or the seeds, "
    "or pick a stronger teacher",
}


@attrs.define
class GateResult:
    """The verdict with its figure; ``as_dict()`` goes into pipeline.json and report.json."""

    verdict: str
    score: float
    metric: str
    headline: str
    metrics: dict[str, float]
    examples: int
    source: str
    k_shot: int
    teacher: str
    proceed: float
    rethink: float
    mistakes: list[dict[str, Any]]
    seconds: float
    forced: bool = False
    cost: list[dict[str, Any]] = attrs.field(factory=list)

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @property
    def summary(self) -> str:
        """``RETHINK: the teacher (gpt-4o-mini) scores 0.450 accuracy on 20 seeds ...``"""
        where = (
            f"{self.examples} seeds (leave-one-out, {self.k_shot}-shot)"
            if self.source == "seeds"
            else f"{self.examples} test examples ({self.k_shot}-shot)"
        )
        return (
            f"{self.verdict}: the teacher ({self.teacher}) scores {self.score:.3f} {self.metric} on {where}; "
            f"PROCEED at {self.proceed:.2f} or above, RETHINK below {self.rethink:.2f}"
        )


class GateStopped(Exception):
    """``germinate run`` stopped on RETHINK before generating anything."""

    def __init__(self, result: GateResult) -> None:
        super().__init__(result.summary)
        self.result = result


def verdict_for(score: float, proceed: float, rethink: float) -> str:
    if score >= proceed:
        return PROCEED
    return ITERATE if score >= rethink else RETHINK


def _items(
    project: Project, settings: GateSettings, evaluation: EvalSettings, k: int
) -> tuple[list[dict], list[list[dict]]]:
    """The records the teacher answers and the examples shown with each."""
    seeds = [r.data for r in project.seeds]
    if settings.source == "test":
        if not project.test:
            raise GerminateError(
                Problem("task.yaml", None, "gate.source", "is 'test', and the project has no test.jsonl")
            )
        records = test_records(project, EvalSettings(max_examples=settings.max_examples, seed=evaluation.seed))
        fixed = random.Random(evaluation.seed).sample(seeds, min(k, len(seeds)))
        return records, [fixed] * len(records)
    rng = random.Random(evaluation.seed)
    picked = list(range(len(seeds)))
    if len(picked) > settings.max_examples:
        picked = sorted(rng.sample(picked, settings.max_examples))
    # one fixed order of examples; each item takes the first k that are not itself (leave-one-out),
    # so most prompts share one prefix, which a local model reads once
    order = rng.sample(range(len(seeds)), len(seeds))
    shots = [[seeds[j] for j in order if j != i][:k] for i in picked]
    return [seeds[i] for i in picked], shots


def teacher_gate(
    project: Project,
    engine: Any,
    settings: GateSettings,
    evaluation: EvalSettings,
    *,
    judge: Callable[[], Any] | None = None,
    announce: Callable[[str], None] | None = None,
) -> GateResult:
    """Score the teacher k-shot on the seeds (leave-one-out) or a test slice; ``judge()`` is
    called only for a task type whose headline is the judge's verdict."""
    task = project.task_type
    proceed = settings.proceed if settings.proceed is not None else task.gate_proceed
    if settings.rethink > proceed:
        raise GerminateError(
            Problem("task.yaml", None, "gate.rethink", f"{settings.rethink} is above gate.proceed ({proceed})")
        )
    started = time.monotonic()
    k = settings.k_shot if settings.k_shot is not None else evaluation.k_shot
    records, shots = _items(project, settings, evaluation, k)
    if announce:
        announce(f"teacher ({engine.client.model}, {k}-shot) on {len(records)} {settings.source}")
    budget = answer_budget(project, evaluation)
    predictions = predict_teacher(project, engine, records, shots, budget, None, "gate", stage="gate")
    scorer = Scorer(project, judge if task.headline == JUDGE_METRIC.name else None, evaluation)
    rows, scores = scorer.score(records, predictions)
    summary = scorer.summarise(rows, scores, records)
    headline = next((m for m in scorer.metrics if m["headline"]), {"title": task.headline})
    return GateResult(
        verdict=verdict_for(summary["score"], proceed, settings.rethink),
        score=summary["score"],
        metric=headline["title"],
        headline=task.headline,
        metrics=summary["metrics"],
        examples=len(records),
        source=settings.source,
        k_shot=min(len(s) for s in shots) if shots else 0,
        teacher=engine.client.model,
        proceed=proceed,
        rethink=settings.rethink,
        mistakes=worst(rows, 5),
        seconds=round(time.monotonic() - started, 1),
    )
