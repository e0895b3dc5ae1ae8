"""``germinate evaluate``: the project's test split through the four reference points
(:mod:`germinate.evaluate.points`), one harness.

Every point answers the same prompts (task description as system message, the task type's user
turn) and is scored by the task type's metrics; families that list the judge's column also get
the LLM judge's verdict on every answer their metrics leave open, after calibrating it.
Students come in as finished adapters: this module never trains. Raw predictions are kept per
model in the run folder with a fingerprint, so a rerun only predicts what changed; scoring is
redone each time (the judge's calls are cached).
"""

from __future__ import annotations

import hashlib
import json
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from germinate.evaluate.judge import (
    calibrate,
    calibration_items,
    judge_prompt,
    judge_request,
    obviously_equal,
    stop_at_budget,
    verdict_score,
)
from germinate.evaluate.points import Model
from germinate.jsonl import write_jsonl
from germinate.problems import GerminateError
from germinate.project.load import Project
from germinate.run_folder import RunFolder, write_json
from germinate.settings import EvalSettings, StudentSettings
from germinate.student.messages import prompt_messages, trained_system
from germinate.tasks.prompting import teacher_messages
from germinate.tasks.score import JUDGE_METRIC, Score
from germinate.teachers.base import ChatRequest


@attrs.define
class EvalResult:
    """One project's evaluation: the per-point summary, each model's metrics, the judge's
    calibration, and what the report needs besides. ``as_dict()`` is report.json's content."""

    project: str
    task_type: str
    run: str
    run_dir: str
    test_examples: int
    test_split: int
    #: the headline metric's title (the main table's "metric" column) and its name
    metric: str
    headline: str
    #: every metric reported, in column order: name, title, help, headline
    metrics: list[dict[str, Any]]
    settings: dict[str, Any]
    #: per point: the headline's scores over repeats, mean and std, and "metrics": the same per metric
    points: dict[str, dict[str, Any]]
    models: dict[str, dict[str, Any]]
    judge: dict[str, Any]
    examples_wrong: list[dict[str, Any]]
    predictions_dir: str
    shots: int
    max_new_tokens: int
    seconds: float
    student: str | None = None
    training: dict[str, Any] | None = None
    pipeline: dict[str, Any] | None = None
    #: the teacher gate's verdict and figures, when the run had one
    gate: dict[str, Any] | None = None
    #: calls, tokens and money per stage and model (the engines' meters)
    cost: list[dict[str, Any]] = attrs.field(factory=list)

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @property
    def judge_unreliable(self) -> bool:
        calibration = self.judge.get("calibration")
        return bool(calibration and calibration["flagged"])


def test_records(project: Project, settings: EvalSettings) -> list[dict]:
    records = [r.data for r in project.test]
    if not records:
        raise GerminateError(f"{project.root / 'test.jsonl'}: no test split; add test.jsonl to evaluate")
    if settings.max_examples and settings.max_examples < len(records):
        picked = sorted(random.Random(settings.seed).sample(range(len(records)), settings.max_examples))
        records = [records[i] for i in picked]
    return records


def student_messages(project: Project, record: dict, system: str | None) -> list[dict[str, str]]:
    """The student's chat for one test record, under the system message it was trained with."""
    return prompt_messages(project.task_type, record, system)


def answer_budget(project: Project, settings: EvalSettings) -> int:
    """New tokens per answer: twice the longest reference (seeds and test, ~3 characters a token)
    plus a margin, at most ``max_new_tokens``. A chatty untuned student would otherwise spend the
    whole budget on every answer of a one-word classification."""
    task = project.task_type
    longest = max(len(task.target_text(r.data)) for r in [*project.seeds, *project.test])
    return min(settings.max_new_tokens, 2 * longest // 3 + 16)


def _fingerprint(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _adapter_stamp(adapter: Path | None) -> Any:
    if adapter is None:
        return None
    weights = sorted(adapter.glob("adapter_model.*"))
    return [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in weights]


class Predictions:
    """Raw predictions of one model on the test prompts, reused while its fingerprint holds."""

    def __init__(self, run: RunFolder) -> None:
        self.run = run

    def load(self, name: str, fingerprint: str) -> list[str] | None:
        path = self.run.raw_predictions_of(name)
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return data["predictions"] if data.get("fingerprint") == fingerprint else None

    def save(self, name: str, fingerprint: str, predictions: list[str]) -> None:
        self.run.raw_predictions.mkdir(parents=True, exist_ok=True)
        write_json(self.run.raw_predictions_of(name), {"fingerprint": fingerprint, "predictions": predictions})


class Scorer:
    """The task type's metrics, then the judge for what they leave open (families that list the
    judge's column), calibrated once before its first verdict."""

    def __init__(self, project: Project, judge: Callable[[], Any] | None, settings: EvalSettings | None = None) -> None:
        self.project = project
        self.task = project.task_type
        self.settings = settings or EvalSettings()
        self.judge = judge  # made on first need: a task the metric decides fully never starts one
        self.engine: Any | None = None
        self.template, self.prompt_id = judge_prompt(project)
        self.judge_calls = 0
        self.calibration: dict[str, Any] | None = None
        self.judged = judge is not None and any(m.name == JUDGE_METRIC.name for m in self.task.metrics)

    @property
    def metrics(self) -> list[dict[str, Any]]:
        """The columns this scorer fills, in order; the judge's only when there is a judge."""
        return [m for m in self.task.describe_metrics() if m["name"] != JUDGE_METRIC.name or self.judged]

    def calibrate(self, records: list[dict]) -> dict[str, Any] | None:
        """Calibrate the judge on ``records`` (the test split being evaluated) once per evaluation."""
        if self.calibration is not None or not self.settings.judge_calibration:
            return self.calibration
        items = calibration_items(self.task, records, self.settings.judge_calibration, self.settings.seed)
        self.calibration = calibrate(
            self._engine(),
            self.template,
            self.project.config["description"],
            items,
            retest=self.settings.judge_retest,
            min_kappa=self.settings.judge_min_kappa,
        )
        self.judge_calls += self.calibration["calls"]
        return self.calibration

    def _engine(self) -> Any:
        if self.engine is None:
            if self.judge is None:
                raise GerminateError("this task type needs a judge, and no judge model is configured")
            self.engine = self.judge()
        return self.engine

    def score(self, records: list[dict], predictions: list[str]) -> tuple[list[dict[str, Any]], list[Score]]:
        """One row per prediction (what the predictions files hold) and the task type's scores."""
        config = self.project.config
        rows: list[dict[str, Any]] = []
        scores: list[Score] = []
        pending: list[int] = []
        for index, (record, prediction) in enumerate(zip(records, predictions)):
            score: Score = self.task.score(prediction, record, config)
            scores.append(score)
            row = {
                "index": index,
                "input": self.task.prompt_text(record),
                "reference": self.task.target_text(record),
                "prediction": prediction,
                "metrics": dict(score.metrics),
                "correct": score.correct,
                "error": score.error,
                "error_type": score.error_type,
                "differences": list(score.differences),
                "judged_by": "metric",
            }
            if score.correct is None and self.judged:
                if obviously_equal(prediction, row["reference"]) or score.metrics.get("exact_match") == 1.0:
                    row.update(correct=True, judged_by="exact")
                else:
                    pending.append(index)
            rows.append(row)
        if pending:
            engine = self._engine()
            self.calibrate(records)
            requests = [
                judge_request(
                    self.template, config["description"], rows[i]["input"], rows[i]["reference"], rows[i]["prediction"]
                )
                for i in pending
            ]
            results = engine.run_blocking(requests)
            stop_at_budget(results)
            self.judge_calls += len(requests)
            for i, result in zip(pending, results):
                reply = result.text
                verdict = verdict_score(reply, rows[i]["prediction"], result.error)
                rows[i].update(correct=verdict.correct, judged_by="judge", judge_reply=reply)
                if verdict.error:
                    rows[i]["error"] = verdict.error
        for row in rows:
            if self.judged:
                row["metrics"][JUDGE_METRIC.name] = float(bool(row["correct"]))
            row["score"] = row["metrics"].get(self.task.headline, float(bool(row["correct"])))
        return rows, scores

    def summarise(self, rows: list[dict[str, Any]], scores: list[Score], records: list[dict]) -> dict[str, Any]:
        """One model's values of every metric, its mistakes by kind and the task type's breakdown."""
        config = self.project.config
        values = dict(self.task.aggregate(scores, records, config))
        if self.judged:
            values[JUDGE_METRIC.name] = sum(r["metrics"][JUDGE_METRIC.name] for r in rows) / len(rows)
        values = {m["name"]: values.get(m["name"], 0.0) for m in self.metrics}
        return {
            "score": values.get(self.task.headline, 0.0),
            "metrics": values,
            "correct": sum(1 for r in rows if r["correct"]),
            "examples": len(rows),
            "unparseable": sum(1 for r in rows if r["error"]),
            "errors": dict(Counter(r["error_type"] for r in rows if r["error_type"]).most_common()),
            **self.task.breakdown(scores, records, config),
        }


def worst(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The rows with the lowest headline score (below full marks), worst first."""
    wrong = [r for r in rows if r["score"] < 1.0 or r["correct"] is False]
    wrong.sort(key=lambda r: (r["score"], r["index"]))
    keys = ("index", "input", "prediction", "reference", "score", "error", "error_type", "differences")
    return [{k: r.get(k) for k in keys} for r in wrong[:limit]]


def summarise(scores: list[float]) -> dict[str, Any]:
    mean = statistics.fmean(scores)
    std = statistics.stdev(scores) if len(scores) > 1 else 0.0
    return {"scores": scores, "mean": mean, "std": std}


def cell(summary: dict[str, Any] | None) -> str:
    """``0.712 ± 0.031``; the ± part only when the spread is at least 0.005."""
    if summary is None:
        return "-"
    text = f"{summary['mean']:.3f}"
    return text + (f" ± {summary['std']:.3f}" if summary["std"] >= 0.005 else "")


def predict_teacher(
    project: Project,
    engine: Any,
    records: list[dict],
    shots: list[list[dict]],
    budget: int,
    cache: Predictions | None,
    name: str,
    *,
    stage: str = "evaluate",
    announce: Callable[[], None] | None = None,
) -> list[str]:
    """The teacher's answers to ``records``, record i with the examples ``shots[i]`` (cached in
    ``cache`` under ``name`` while the requests are the same); a failed call stops with a line."""
    requests = [
        ChatRequest(teacher_messages(project, s, r), {"temperature": 0.0, "max_tokens": budget}, stage=stage)
        for r, s in zip(records, shots)
    ]
    fingerprint = _fingerprint({"teacher": engine.client.identity, "requests": [q.key({}) for q in requests]})
    predictions = cache.load(name, fingerprint) if cache else None
    if predictions is None:
        if announce:
            announce()
        results = engine.run_blocking(requests)
        failed = [res for res in results if not res.ok]
        if failed:
            raise GerminateError(
                f"teacher: {len(failed)} of {len(results)} {stage} calls failed "
                f"({failed[0].error}: {failed[0].message}); rerun to retry them"
            )
        predictions = [(res.text or "").strip() for res in results]
        if cache:
            cache.save(name, fingerprint, predictions)
    return predictions


def evaluate(
    project: Project,
    run: RunFolder,
    settings: EvalSettings,
    student: StudentSettings,
    *,
    models: list[Model],
    adapters: Mapping[Model, Path] | None = None,
    teacher_engine: Any | None = None,
    judge: Callable[[], Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> EvalResult:
    """Predict, score and summarise ``models``; writes the run's eval predictions.

    ``adapters`` gives the finished adapter of every trained model (the train stage made them);
    ``judge()`` returns the judge's engine, called only when an answer needs judging."""
    from germinate.student.infer import Student

    say = progress or (lambda _message: None)
    run.predictions.mkdir(parents=True, exist_ok=True)
    records = test_records(project, settings)
    test_hash = _fingerprint({"test": [project.task_type.record_key(r) for r in records]})
    seeds = [r.data for r in project.seeds]
    shots = random.Random(settings.seed).sample(seeds, min(settings.k_shot, len(seeds)))
    scorer = Scorer(project, judge, settings)
    budget = answer_budget(project, settings)
    cache = Predictions(run)
    per_model: dict[str, dict[str, Any]] = {}
    wrong: list[dict[str, Any]] = []
    teacher_wrong: list[dict[str, Any]] = []
    started = time.monotonic()
    for model in models:
        if model.point == "teacher":
            if teacher_engine is None:
                raise GerminateError("no teacher to evaluate")
            predictions = predict_teacher(
                project,
                teacher_engine,
                records,
                [shots] * len(records),
                budget,
                cache,
                model.name,
                announce=lambda: say(
                    f"teacher ({teacher_engine.client.model}, {len(shots)}-shot) on {len(records)} test examples"
                ),
            )
            described: dict[str, Any] = {"model": teacher_engine.client.model, "k_shot": len(shots)}
        else:
            adapter = None
            if model.trained:
                adapter = (adapters or {}).get(model)
                if adapter is None:
                    raise GerminateError(f"{model.name}: no trained adapter to evaluate")
            system = trained_system(adapter, project.config)
            fingerprint = _fingerprint(
                {
                    "system": system,
                    "adapter": str(adapter),
                    "stamp": _adapter_stamp(adapter),
                    "test": test_hash,
                    "student": project.config.get("student"),
                    "max_new_tokens": budget,
                }
            )
            cached = cache.load(model.name, fingerprint)
            if cached is not None:
                predictions = cached
            else:
                say(f"{model.name}: predicting {len(records)} test examples")
                loaded = Student.load(student, adapter)
                outputs = loaded.generate(
                    [student_messages(project, r, system) for r in records],
                    max_new_tokens=budget,
                    batch_size=settings.batch_size,
                )
                predictions = [text for text, _, _ in outputs]
                cache.save(model.name, fingerprint, predictions)
                del loaded
            described = {"adapter": str(adapter) if adapter else None}
        say(f"{model.name}: scoring")
        rows, scores = scorer.score(records, predictions)
        write_jsonl(run.predictions_of(model.name), rows)
        if not wrong and model.point != "teacher":  # the first student listed, trained ones first by POINTS
            wrong = [{"model": model.name, **row} for row in worst(rows, 10)]
        elif model.point == "teacher":
            teacher_wrong = [{"model": model.name, **row} for row in worst(rows, 10)]
        per_model[model.name] = {
            "point": model.point,
            "repeat": model.repeat,
            **scorer.summarise(rows, scores, records),
            **described,
        }
    wrong = wrong or teacher_wrong  # the teacher's, when no student was evaluated
    points = list(dict.fromkeys(m.point for m in models))
    summary: dict[str, dict[str, Any]] = {}
    for point in points:
        mine = [m for m in per_model.values() if m["point"] == point]
        summary[point] = {
            **summarise([m["score"] for m in mine]),
            "metrics": {c["name"]: summarise([m["metrics"][c["name"]] for m in mine]) for c in scorer.metrics},
        }
    task = project.task_type
    headline = next((m for m in scorer.metrics if m["headline"]), None)
    return EvalResult(
        project=project.name,
        task_type=task.name,
        run=run.path.name,
        run_dir=str(run.path),
        test_examples=len(records),
        test_split=len(project.test),
        metric=headline["title"] if headline else task.headline,
        headline=task.headline,
        metrics=scorer.metrics,
        settings=settings.as_dict(),
        points=summary,
        models=per_model,
        judge={
            "prompt_id": scorer.prompt_id,
            "model": scorer.engine.client.model if scorer.engine else None,
            "calls": scorer.judge_calls,
            "calibration": scorer.calibration,
        },
        examples_wrong=wrong,
        predictions_dir=str(run.predictions.relative_to(run.path.parent.parent)),
        shots=len(shots),
        max_new_tokens=budget,
        seconds=round(time.monotonic() - started, 1),
        student=student.model,
    )
