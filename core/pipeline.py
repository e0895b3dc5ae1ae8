"""The stages, each a function, and ``run_pipeline`` that chains them in order:
teacher gate → generate ⇄ validate → train (R repeats, trained and seed students) → evaluate →
report.

``germinate generate``, ``train``, ``evaluate``, ``run`` and ``bench`` call the same stage
functions. No stage reaches back into an earlier one: the train stage hands the adapters it made
(or found finished) to the evaluate stage. Each stage resumes by itself (candidates.jsonl,
training checkpoints, cached predictions and teacher calls), so rerunning after an interruption
repeats no finished work.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from germinate import render
from germinate.evaluate.points import POINTS, Model, models_for
from germinate.problems import GerminateError
from germinate.project.load import Project
from germinate.run_folder import RunFolder, report_path, write_json
from germinate.settings import GenerationSettings, RunSettings, StudentSettings, TrainSettings
from germinate.teachers.cost import Budget, add_rows

if TYPE_CHECKING:
    from rich.console import Console

    from germinate.evaluate.gate import GateResult
    from germinate.evaluate.harness import EvalResult
    from germinate.generate.loop import GenerationResult
    from germinate.student.train import TrainResult


def generate_stage(
    project: Project,
    run: RunFolder,
    settings: GenerationSettings,
    console: Console,
    *,
    max_cost: float | None = None,
    budget: Budget | None = None,
    use_cache: bool = True,
    existing: list[dict[str, Any]] | None = None,
) -> GenerationResult:
    """Generate and validate until ``settings.n`` examples are accepted, under a live bar.
    ``budget`` (shared with later stages) or ``max_cost`` caps the teacher's spending;
    ``existing`` is the run's candidates when the caller has already read and checked them."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from germinate.generate.loop import run_generation
    from germinate.teachers.setup import check_priced, make_engine
    from germinate.validate.candidates import run_candidates

    # refused before anything is written: an unpriced model under a cap, a bad candidates.jsonl
    check_priced(project, budget.limit if budget is not None else max_cost)
    if existing is None:
        existing = run_candidates(run, project.task_type, require_index=True)
    run.ensure()  # an unwritable run folder fails here, before the teacher is started
    engine = make_engine(project, use_cache=use_cache, max_cost=max_cost, budget=budget)
    columns = (
        TextColumn("[bold]generate"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console) as progress:
            bar = progress.add_task("generate", total=settings.n, info="")

            def on_accept(accepted: int, candidates: int) -> None:
                stats = engine.stats
                progress.update(
                    bar,
                    completed=accepted,
                    info=f"{candidates} candidates · teacher {stats.done} done, {stats.cached} cached, "
                    f"{stats.failed} failed · {engine.meter.total_tokens:,} tok · "
                    f"${engine.meter.total_cost:.4f}",
                )

            result = run_generation(project, engine, settings, run, on_accept=on_accept, existing=existing)
    finally:
        engine.close()
    result.meter, result.faults = engine.meter, dict(engine.stats.faults)
    if len(engine.clients) > 1:
        result.servers = engine.stats.servers_dict()
    return result


def train_one(
    project: Project,
    run: RunFolder,
    settings: TrainSettings,
    student: StudentSettings,
    console: Console,
    *,
    seeds_only: bool = False,
    repeat: int = 0,
    label: str = "train",
) -> TrainResult:
    """One training run (resuming from its last checkpoint) under a live bar: step, loss,
    tokens/s, time left."""
    run.contained()  # training reads accepted.jsonl and writes the model under the run
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from germinate.student.train import main_process, train

    columns = (
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        TextColumn("step {task.completed}/{task.total}"),
        TextColumn("{task.fields[info]}"),
        TimeRemainingColumn(),
    )
    # under `accelerate launch` only the main process shows the bar
    with Progress(*columns, console=console, disable=not main_process()) as progress:
        bar = progress.add_task("train", total=None, info="loading the student")

        def update(step: int, total: int, loss: float | None, tokens_per_s: float) -> None:
            info = f"loss {loss:.4f} · {tokens_per_s:,.0f} tok/s" if loss is not None else ""
            progress.update(bar, completed=step, total=total, info=info)

        return train(project, run, settings, student, seeds_only=seeds_only, repeat=repeat, progress=update)


def train_stage(
    project: Project,
    run: RunFolder,
    settings: RunSettings,
    models: list[Model],
    console: Console,
    *,
    allow_training: bool = True,
) -> dict[Model, Path]:
    """The adapter of every trained model in ``models``, training those missing or unfinished
    first (or, without ``allow_training``, refusing)."""
    adapters: dict[Model, Path] = {}
    for model in models:
        if not model.trained:
            continue
        folder = run.model(model.seeds_only, model.repeat)
        if not folder.trained:
            if not allow_training:
                raise GerminateError(
                    f"{folder.path}: not trained; run `germinate train"
                    f"{' --seeds-only' if model.seeds_only else ''}` or drop --no-train"
                )
            train_one(
                project,
                run,
                settings.training,
                settings.student,
                console,
                seeds_only=model.seeds_only,
                repeat=model.repeat,
                label=f"train {model.name}",
            )
        adapters[model] = folder.adapter
    return adapters


def gate_stage(project: Project, settings: RunSettings, console: Console, budget: Budget | None = None) -> GateResult:
    """The teacher k-shot on the seeds (leave-one-out) or a test slice: PROCEED, ITERATE or RETHINK."""
    from germinate.evaluate.gate import teacher_gate
    from germinate.teachers.engines import Engines

    engines = Engines(project, budget=budget)
    try:
        result = teacher_gate(
            project,
            engines.get(),
            settings.gate,
            settings.evaluation,
            judge=lambda: engines.judge(settings.evaluation.judge_backend),
            announce=lambda message: console.print(f"[dim]gate:[/] {message}"),
        )
    finally:
        engines.close()
    result.cost = engines.cost_rows()
    render.gate(console, result)
    return result


def evaluate_stage(
    project: Project,
    run: RunFolder,
    settings: RunSettings,
    console: Console,
    *,
    models: list[Model],
    adapters: dict[Model, Path],
    budget: Budget | None = None,
) -> EvalResult:
    """Score ``models`` on the test split: the teacher k-shot, the given adapters, the base student.
    ``budget`` caps the teacher's and the judge's calls together (and with earlier stages)."""
    from germinate.evaluate.harness import evaluate
    from germinate.teachers.engines import Engines

    engines = Engines(project, budget=budget)
    try:
        result = evaluate(
            project,
            run,
            settings.evaluation,
            settings.student,
            models=models,
            adapters=adapters,
            teacher_engine=engines.get() if any(m.point == "teacher" for m in models) else None,
            judge=lambda: engines.judge(settings.evaluation.judge_backend),
            progress=lambda message: console.print(f"[dim]evaluate:[/] {message}"),
        )
    finally:
        engines.close()
    result.training = settings.training.as_dict()
    result.cost = engines.cost_rows()
    return result


def report_stage(run: RunFolder, result: EvalResult) -> dict[str, Path]:
    from germinate.evaluate.report import write_report

    return write_report([result], run.path, title=f"germinate evaluation: {result.project}")


class PipelineLog:
    """``pipeline.json``: per stage its seconds, counts and cost, kept across reruns (a stage's
    wall time, calls, tokens and money add up over the runs that resumed it: a resumed stage that
    had nothing left to do adds next to nothing, and does not hide the hour it took before)."""

    def __init__(self, run: RunFolder, preset: str | None) -> None:
        self.path = run.pipeline_log
        self.data = json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {"stages": {}}
        self.data["preset"] = preset
        self.data["quick"] = preset == "quick"

    def done(self, stage: str, started: float, **info: Any) -> None:
        previous = self.data["stages"].get(stage, {})
        if "cost" in info:
            info["cost"] = add_rows(previous.get("cost") or [], info["cost"])
        before = previous.get("seconds")
        spent = time.monotonic() - started + (before if isinstance(before, (int, float)) else 0)
        self.data["stages"][stage] = {"seconds": round(spent, 1), **info}
        write_json(self.path, self.data)

    @property
    def seconds(self) -> dict[str, float]:
        return {name: stage["seconds"] for name, stage in self.data["stages"].items()}

    @property
    def cost(self) -> list[dict[str, Any]]:
        return [row for stage in self.data["stages"].values() for row in stage.get("cost") or []]


def run_pipeline(
    project: Project,
    run: RunFolder,
    settings: RunSettings,
    console: Console,
    *,
    preset: str | None = None,
    points: tuple[str, ...] = POINTS,
    max_cost: float | None = None,
    force: bool = False,
) -> EvalResult | None:
    """Every stage for one project, in order; None when the project has no test split to
    evaluate on (the trained student is still delivered). The teacher gate comes first: on
    RETHINK it raises GateStopped before any generation call, unless ``force``. ``max_cost`` is
    one budget for every teacher and judge call of the run, the gate's included."""
    from germinate.evaluate.gate import RETHINK, GateStopped
    from germinate.teachers.setup import check_priced
    from germinate.validate.candidates import run_candidates

    budget = Budget(max_cost)
    check_priced(project, max_cost)
    if (project.test or settings.gate.enabled) and settings.evaluation.judge_backend:
        check_priced(project, max_cost, settings.evaluation.judge_backend, ("evaluation", "judge"))
    # what a run already holds is checked before the first teacher call (the gate's)
    existing = run_candidates(run, project.task_type, require_index=True)
    run.ensure()
    log = PipelineLog(run, preset)

    gate = None
    if settings.gate.enabled:
        started = time.monotonic()
        console.rule(f"[bold]{project.name}: gate")
        gate = gate_stage(project, settings, console, budget)
        gate.forced = force and gate.verdict == RETHINK
        log.done("gate", started, **{k: v for k, v in gate.as_dict().items() if k != "seconds"})
        if gate.verdict == RETHINK and not force:
            raise GateStopped(gate)

    started = time.monotonic()
    console.rule(f"[bold]{project.name}: generate")
    generated = generate_stage(project, run, settings.generation, console, budget=budget, existing=existing)
    render.generation(console, generated)
    log.done(
        "generate",
        started,
        accepted=generated.accepted,
        target=generated.target,
        faults=generated.faults,
        **({"servers": generated.servers} if generated.servers else {}),
        cost_usd=round(generated.meter.total_cost, 4),
        cost=generated.meter.as_dict()["by"],
    )

    # nothing to measure against: still deliver the model, and say how to get the comparison
    models = models_for(points, settings.evaluation.repeats) if project.test else [Model("trained")]
    started = time.monotonic()
    console.rule(f"[bold]{project.name}: train")
    adapters = train_stage(project, run, settings, models, console)
    log.done("train", started, models=len(adapters))
    if not project.test:
        console.print(
            f"no test.jsonl in {project.root}: evaluation skipped; add a test split and rerun "
            f"to compare teacher, trained, seed and base student",
            soft_wrap=True,
            markup=False,
        )
        console.print(f"adapter: {adapters[Model('trained')]}", soft_wrap=True, markup=False, highlight=False)
        return None

    started = time.monotonic()
    console.rule(f"[bold]{project.name}: evaluate")
    result = evaluate_stage(project, run, settings, console, models=models, adapters=adapters, budget=budget)
    log.done("evaluate", started, cost=result.cost)
    result.pipeline = {
        "synthetic accepted": generated.accepted,
        "seeds": len(project.seeds),
        "quick": preset == "quick",
        "preset": preset,
        "seconds": log.seconds,
    }
    result.gate = gate.as_dict() if gate else None
    result.cost = log.cost
    report_stage(run, result)
    return result


def report_paths(run: RunFolder) -> dict[str, Path]:
    return {kind: report_path(run.path, kind) for kind in ("md", "json", "png")}
