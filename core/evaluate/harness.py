"""``germinate evaluate``: the project's test split through the four reference points
(:mod:`germinate.evaluate.points`), one harness.

Every point answers the same prompts (task description as system message, the task type's user
turn) and is scored by the task type's metric; answers the metric cannot decide go to the judge.
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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from germinate.evaluate.judge import judge_prompt, judge_request, obviously_equal, verdict_score
from germinate.evaluate.points import Model
from germinate.jsonl import write_jsonl
from germinate.problems import GerminateError
from germinate.project.load import Project
from germinate.run_folder import RunFolder, write_json
from germinate.settings import EvalSettings, StudentSettings
from germinate.tasks.prompting import teacher_messages
from germinate.tasks.score import Score
from germinate.teachers.base import ChatRequest


@attrs.define
class EvalResult:
    """One project's evaluation: the per-point summary, each model's counts, the judge's check,
    and what the report needs besides. ``as_dict()`` is report.json's content."""

    project: str
    task_type: str
    run: str
    run_dir: str
    test_examples: int
    test_split: int
    metric: str
    settings: dict[str, Any]
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

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @property
    def judge_unreliable(self) -> bool:
        check = self.judge.get("check")
        return check is not None and not check["reliable"]


def test_records(project: Project, settings: EvalSettings) -> list[dict]:
    records = [r.data for r in project.test]
    if not records:
        raise GerminateError(f"{project.root / 'test.jsonl'}: no test split; add test.jsonl to evaluate")
    if settings.max_examples and settings.max_examples < len(records):
        picked = sorted(random.Random(settings.seed).sample(range(len(records)), settings.max_examples))
        records = [records[i] for i in picked]
    return records


def student_messages(project: Project, record: dict) -> list[dict[str, str]]:
    return project.task_type.to_messages(record, project.config["description"])[:-1]


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
    """The task type's metric, then the judge for what the metric leaves open."""

    def __init__(self, project: Project, judge: Callable[[], Any] | None) -> None:
        self.project = project
        self.judge = judge  # made on first need: a task the metric decides fully never starts one
        self.engine: Any = None
        self.template, self.prompt_id = judge_prompt(project)
        self.judge_calls = 0
        self.check: dict[str, Any] | None = None

    def calibrate(self, seeds: list[dict]) -> dict[str, Any]:
        """Ask the judge about the seeds' own answers (should be CORRECT) and about another seed's
        answer (should be INCORRECT), once per evaluation: a judge that cannot tell them apart
        makes every judged score meaningless, and the report says so."""
        if self.check is not None:
            return self.check
        task, description = self.project.task_type, self.project.config["description"]
        pairs = []
        for i, seed in enumerate(seeds[:10]):
            reference = task.target_text(seed)
            other = next(
                (
                    task.target_text(s)
                    for s in seeds[i + 1 :] + seeds[:i]
                    if not obviously_equal(task.target_text(s), reference)
                ),
                None,
            )
            pairs.append((task.prompt_text(seed), reference, reference, True))
            if other is not None:
                pairs.append((task.prompt_text(seed), reference, other, False))
        results = self.engine.run_blocking([judge_request(self.template, description, *pair[:3]) for pair in pairs])
        self.judge_calls += len(pairs)
        verdicts = [verdict_score(r.text, "", r.error).correct for r in results]
        right = [v for v, pair in zip(verdicts, pairs) if pair[3]]
        swapped = [v for v, pair in zip(verdicts, pairs) if not pair[3]]
        self.check = {
            "own_answers": len(right),
            "own_accepted": sum(right),
            "swapped_answers": len(swapped),
            "swapped_rejected": sum(1 for v in swapped if not v),
        }
        self.check["reliable"] = self.check["own_accepted"] >= 0.8 * len(right) and self.check[
            "swapped_rejected"
        ] >= 0.8 * len(swapped)
        return self.check

    def score(self, records: list[dict], predictions: list[str]) -> list[dict[str, Any]]:
        task, config = self.project.task_type, self.project.config
        rows: list[dict[str, Any]] = []
        pending: list[int] = []
        for index, (record, prediction) in enumerate(zip(records, predictions)):
            score: Score = task.score(prediction, record, config)
            row = {
                "index": index,
                "input": task.prompt_text(record),
                "reference": task.target_text(record),
                "prediction": prediction,
                "correct": score.correct,
                "error": score.error,
                "judged_by": "metric",
            }
            if score.correct is None:
                if obviously_equal(prediction, row["reference"]):
                    row.update(correct=True, judged_by="exact")
                else:
                    pending.append(index)
            rows.append(row)
        if pending:
            if self.judge is None:
                raise GerminateError("this task type needs a judge, and no judge model is configured")
            self.engine = self.engine or self.judge()
            self.calibrate([r.data for r in self.project.seeds])
            requests = [
                judge_request(
                    self.template, config["description"], rows[i]["input"], rows[i]["reference"], rows[i]["prediction"]
                )
                for i in pending
            ]
            results = self.engine.run_blocking(requests)
            self.judge_calls += len(requests)
            for i, result in zip(pending, results):
                reply = result.text
                score = verdict_score(reply, rows[i]["prediction"], result.error)
                rows[i].update(correct=score.correct, error=score.error, judged_by="judge", judge_reply=reply)
        return rows


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
    scorer = Scorer(project, judge)
    budget = answer_budget(project, settings)
    cache = Predictions(run)
    per_model: dict[str, dict[str, Any]] = {}
    wrong: list[dict[str, Any]] = []
    started = time.monotonic()
    for model in models:
        if model.point == "teacher":
            if teacher_engine is None:
                raise GerminateError("no teacher to evaluate")
            requests = [
                ChatRequest(
                    teacher_messages(project, shots, r), {"temperature": 0.0, "max_tokens": budget}, stage="evaluate"
                )
                for r in records
            ]
            fingerprint = _fingerprint(
                {"teacher": teacher_engine.client.identity, "requests": [q.key({}) for q in requests]}
            )
            predictions = cache.load(model.name, fingerprint)
            if predictions is None:
                say(f"teacher ({teacher_engine.client.model}, {len(shots)}-shot) on {len(records)} test examples")
                results = teacher_engine.run_blocking(requests)
                failed = [res for res in results if not res.ok]
                if failed:
                    raise GerminateError(
                        f"teacher: {len(failed)} of {len(results)} evaluation calls failed "
                        f"({failed[0].error}: {failed[0].message}); rerun to retry them"
                    )
                predictions = [(res.text or "").strip() for res in results]
                cache.save(model.name, fingerprint, predictions)
            described: dict[str, Any] = {"model": teacher_engine.client.model, "k_shot": len(shots)}
        else:
            adapter = None
            if model.trained:
                adapter = (adapters or {}).get(model)
                if adapter is None:
                    raise GerminateError(f"{model.name}: no trained adapter to evaluate")
            fingerprint = _fingerprint(
                {
                    "adapter": str(adapter),
                    "stamp": _adapter_stamp(adapter),
                    "test": test_hash,
                    "student": project.config.get("student"),
                    "max_new_tokens": budget,
                }
            )
            predictions = cache.load(model.name, fingerprint)
            if predictions is None:
                say(f"{model.name}: predicting {len(records)} test examples")
                loaded = Student.load(student, adapter)
                outputs = loaded.generate(
                    [student_messages(project, r) for r in records],
                    max_new_tokens=budget,
                    batch_size=settings.batch_size,
                )
                predictions = [text for text, _, _ in outputs]
                cache.save(model.name, fingerprint, predictions)
                del loaded
            described = {"adapter": str(adapter) if adapter else None}
        say(f"{model.name}: scoring")
        rows = scorer.score(records, predictions)
        write_jsonl(run.predictions_of(model.name), rows)
        if not wrong and model.point != "teacher":  # the first student listed, trained ones first by POINTS
            wrong = [
                {"model": model.name, **{k: r[k] for k in ("input", "prediction", "reference", "error")}}
                for r in rows
                if not r["correct"]
            ][:10]
        correct = sum(1 for r in rows if r["correct"])
        per_model[model.name] = {
            "point": model.point,
            "repeat": model.repeat,
            "accuracy": correct / len(rows),
            "correct": correct,
            "examples": len(rows),
            "unparseable": sum(1 for r in rows if r["error"]),
            **described,
        }
    points = list(dict.fromkeys(m.point for m in models))
    summary = {point: summarise([m["accuracy"] for m in per_model.values() if m["point"] == point]) for point in points}
    return EvalResult(
        project=project.name,
        task_type=project.task_type.name,
        run=run.path.name,
        run_dir=str(run.path),
        test_examples=len(records),
        test_split=len(project.test),
        metric=project.task_type.metric,
        settings=settings.as_dict(),
        points=summary,
        models=per_model,
        judge={
            "prompt_id": scorer.prompt_id,
            "model": scorer.engine.client.model if scorer.engine else None,
            "calls": scorer.judge_calls,
            "check": scorer.check,
        },
        examples_wrong=wrong,
        predictions_dir=str(run.predictions.relative_to(run.path.parent.parent)),
        shots=len(shots),
        max_new_tokens=budget,
        seconds=round(time.monotonic() - started, 1),
        student=student.model,
    )
