"""The stages chained: generate ⇄ validate → train (R repeats, trained and seed students) →
evaluate → report. ``germinate evaluate``, ``germinate run`` and ``germinate bench`` share it.
Each stage resumes by itself (candidates.jsonl, training checkpoints, cached predictions and
teacher calls), so rerunning after an interruption repeats no finished work."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import attrs

from germinate.evaluate.harness import POINTS, EvalSettings, Model, evaluate
from germinate.presets import QUICK
from germinate.problems import GerminateError
from germinate.project.load import Project
from germinate.run_folder import RunFolder, write_json

def settings_for(project: Project, quick: bool, overrides: dict[str, dict[str, Any]] | None = None):
    """Generation, training and evaluation settings: task.yaml, then the preset, then the command line."""
    from germinate.generate.loop import GenerationSettings
    from germinate.student.train import TrainSettings

    def merged(section: str) -> dict[str, Any]:
        values = dict(QUICK[section]) if quick else {}
        values.update({k: v for k, v in ((overrides or {}).get(section) or {}).items() if v is not None})
        return values

    return (GenerationSettings.from_config(project.section("generation"), **merged("generation")),
            TrainSettings.from_config(project.section("training"), **merged("training")),
            EvalSettings.from_config(project.section("evaluation"), **merged("evaluation")))


def judge_settings(project: Project) -> dict[str, Any] | None:
    """The judge's backend settings when evaluation.judge names one; None: the teacher judges."""
    section = project.section("evaluation").get("judge") or {}
    chosen = {k: v for k, v in section.items() if k != "prompt"}
    return chosen or None


def generate_stage(project: Project, run: RunFolder, settings: Any, console: Any, *, max_cost: float | None = None,
                   use_cache: bool = True) -> dict[str, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from germinate.generate.loop import run_generation
    from germinate.teachers.setup import make_engine

    run.ensure()  # an unwritable run folder fails here, before the teacher is started
    engine = make_engine(project, use_cache=use_cache, max_cost=max_cost)
    columns = (TextColumn("[bold]generate"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
               TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            bar = progress.add_task("generate", total=settings.n, info="")

            def on_accept(accepted: int, candidates: int) -> None:
                stats = engine.stats
                progress.update(bar, completed=accepted,
                                info=f"{candidates} candidates · teacher {stats.done} done, {stats.cached} cached, "
                                     f"{stats.failed} failed · {engine.meter.total_tokens:,} tok · "
                                     f"${engine.meter.total_cost:.4f}")

            summary = run_generation(project, engine, settings, run, on_accept=on_accept)
    finally:
        engine.close()
    summary["meter"], summary["faults"] = engine.meter, dict(engine.stats.faults)
    return summary


def train_with_progress(project: Project, run: RunFolder, settings: Any, console: Any, *, seeds_only: bool = False,
                        repeat: int = 0, label: str = "train") -> dict[str, Any]:
    """``training.train`` under a live bar: step, loss, tokens/s, time left."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from germinate.student.train import train

    columns = (TextColumn(f"[bold]{label}"), BarColumn(), TextColumn("step {task.completed}/{task.total}"),
               TextColumn("{task.fields[info]}"), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task("train", total=None, info="loading the student")

        def update(step: int, total: int, loss: float | None, tokens_per_s: float) -> None:
            info = f"loss {loss:.4f} · {tokens_per_s:,.0f} tok/s" if loss is not None else ""
            progress.update(bar, completed=step, total=total, info=info)

        return train(project, run, settings, seeds_only=seeds_only, repeat=repeat, progress=update)


def train_stage(project: Project, run: RunFolder, settings: Any, model: Model, console: Any) -> Path:
    """The adapter of a trained point, training it first when it is missing or unfinished."""
    from germinate.student.train import model_dir

    seeds_only = model.point == "seeds"
    folder = model_dir(run, seeds_only, model.repeat)
    if (folder / "train_result.json").exists() and (folder / "adapter" / "adapter_config.json").exists():
        return folder / "adapter"
    result = train_with_progress(project, run, settings, console, seeds_only=seeds_only, repeat=model.repeat,
                                 label=f"train {model.name}")
    return Path(result["adapter"])


def evaluate_stage(project: Project, run: RunFolder, train_settings: Any, eval_settings: EvalSettings, console: Any,
                   *, points: tuple[str, ...] = POINTS, allow_training: bool = True) -> dict[str, Any]:
    from germinate.student.infer import Student
    from germinate.student.load import hf_folder, student_source
    from germinate.teachers.setup import make_engine

    def ensure_model(model: Model) -> Path:
        if allow_training:
            return train_stage(project, run, train_settings, model, console)
        from germinate.student.train import model_dir

        adapter = model_dir(run, model.point == "seeds", model.repeat) / "adapter"
        if not (adapter / "adapter_config.json").exists():
            raise GerminateError(f"{adapter.parent}: not trained; run `germinate train"
                                 f"{' --seeds-only' if model.point == 'seeds' else ''}` or drop --no-train")
        return adapter

    engines: dict[str, Any] = {}

    def engine(role: str) -> Any:
        """The teacher's engine, or the judge's: the teacher's own unless evaluation.judge names a
        model (a judge naming a backend stands alone; one naming only a model tunes the teacher's)."""
        override = judge_settings(project) if role == "judge" else None
        key = "judge" if override else "teacher"
        if key not in engines:
            engines[key] = make_engine(project, override=override, replace="backend" in (override or {}),
                                       where=("evaluation", "judge") if override else ("teacher",))
        return engines[key]

    base = hf_folder(student_source(project.config))
    dtype = (project.config.get("student") or {}).get("dtype")
    try:
        result = evaluate(project, run, eval_settings, points=points,
                          teacher_engine=engine("teacher") if "teacher" in points else None,
                          judge=lambda: engine("judge"), ensure_model=ensure_model,
                          student_factory=lambda adapter: Student(base, adapter, dtype),
                          progress=lambda message: console.print(f"[dim]evaluate:[/] {message}"))
    finally:
        for made in engines.values():
            made.close()
    result["student"] = student_source(project.config)
    result["training"] = attrs.asdict(train_settings) if train_settings is not None else None
    return result


def write_project_report(run: RunFolder, result: dict[str, Any]) -> dict[str, Path]:
    from germinate.evaluate.report import write_report

    return write_report([result], run.path, title=f"germinate evaluation: {result['project']}")


def run_pipeline(project: Project, run: RunFolder, console: Any, *, quick: bool = False,
                 overrides: dict[str, dict[str, Any]] | None = None, points: tuple[str, ...] = POINTS,
                 max_cost: float | None = None) -> dict[str, Any]:
    """Every stage for one project; stage times go to runs/<run>/pipeline.json."""
    from germinate.validate.ledger import summary_table

    generation, training, evaluation = settings_for(project, quick, overrides)
    run.ensure()
    log_path = run.path / "pipeline.json"
    log = json.loads(log_path.read_text(encoding="utf-8")) if log_path.exists() else {"stages": {}}
    log["quick"] = quick

    def done(stage: str, started: float, **info: Any) -> None:
        log["stages"][stage] = {"seconds": round(time.monotonic() - started, 1), **info}
        write_json(log_path, log)

    started = time.monotonic()
    console.rule(f"[bold]{project.name}: generate")
    summary = generate_stage(project, run, generation, console, max_cost=max_cost)
    console.print(summary_table(summary["validation"], title=f"validation ({' -> '.join(summary['order'])})"))
    if summary["faults"]:
        console.print(f"teacher faults (retried): {json.dumps(summary['faults'], sort_keys=True)}",
                      soft_wrap=True, markup=False, highlight=False)
    if summary["stopped"]:
        console.print(f"[yellow]{summary['stopped']}")
    done("generate", started, accepted=summary["accepted"], target=summary["target"], faults=summary["faults"],
         cost_usd=round(summary["meter"].total_cost, 4))
    started = time.monotonic()
    if not project.test:
        # nothing to measure against: still deliver the model, and say how to get the comparison
        console.rule(f"[bold]{project.name}: train")
        adapter = train_stage(project, run, training, Model("trained"), console)
        done("train", started)
        console.print(f"no test.jsonl in {project.root}: evaluation skipped; add a test split and rerun "
                      f"to compare teacher, trained, seed and base student", soft_wrap=True, markup=False)
        return {"project": project.name, "adapter": str(adapter), "evaluated": False}
    console.rule(f"[bold]{project.name}: train and evaluate")
    result = evaluate_stage(project, run, training, evaluation, console, points=points)
    done("train+evaluate", started)
    result["pipeline"] = {"synthetic accepted": summary["accepted"],
                          "seeds": len(project.seeds), "quick": quick,
                          "seconds": {k: v["seconds"] for k, v in log["stages"].items()}}
    write_project_report(run, result)
    return result
