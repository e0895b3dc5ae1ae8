"""``germinate gate``, ``evaluate``, ``run`` and ``bench``: the stages chained, and their
comparison table."""

from __future__ import annotations

from pathlib import Path

import click

from germinate.cli.options import (
    EVAL_OPTIONS,
    MONEY,
    console,
    count,
    eval_overrides,
    parse_points,
    preset,
    project_argument,
    with_options,
)
from germinate.cli.root import echo_err
from germinate.problems import GerminateError

#: the exit code of `run` and `gate` when the gate says RETHINK (2 is bad input)
EXIT_RETHINK = 3


def _rethink_line(summary: str, run: bool) -> str:
    tail = "nothing was generated; rerun with --force to go on anyway" if run else "see the worst answers above"
    return f"germinate: gate: {summary}; improve the task description or the seeds, or pick a stronger teacher; {tail}"


@click.command("gate")
@project_argument
@click.option("--quick", is_flag=True, help="The small-machine preset (fewer items).")
@click.option(
    "--source", type=click.Choice(["seeds", "test"]), default=None, help="Seeds (leave-one-out) or test split."
)
@click.option("--max-examples", type=int, default=None, help="Items the teacher answers at most (default 20).")
@click.option("--k-shot", type=int, default=None, help="Examples in the teacher's prompt (default: evaluation.k_shot).")
@click.pass_context
def gate_command(
    ctx: click.Context, project: Path, quick: bool, source: str | None, max_examples: int | None, k_shot: int | None
) -> None:
    """Can the teacher do the task? Score it k-shot on the seeds (leave-one-out) or a slice of the
    test split: PROCEED, ITERATE or RETHINK (exit code 3), with the figure and the worst answers."""
    from germinate.evaluate.gate import RETHINK
    from germinate.pipeline import gate_stage
    from germinate.project.load import load_project
    from germinate.settings import resolve

    loaded = load_project(project)
    overrides = {"gate": {"source": source, "max_examples": max_examples, "k_shot": k_shot}}
    settings = resolve(loaded.config, preset(quick), overrides)
    result = gate_stage(loaded, settings, console())
    if result.verdict == RETHINK:
        echo_err(_rethink_line(result.summary, run=False))
        ctx.exit(EXIT_RETHINK)


@click.command("evaluate")
@project_argument
@with_options(EVAL_OPTIONS)
@click.option("--no-train", is_flag=True, help="Fail instead of training a missing trained or seed student.")
def evaluate_command(
    project: Path,
    run_name: str,
    quick: bool,
    standard: bool,
    points: str,
    repeats: int | None,
    k_shot: int | None,
    max_examples: int | None,
    no_train: bool,
) -> None:
    """Score teacher (k-shot), trained, seed-only and base student on the test split; write a report.
    Trained and seed students that are missing are trained first (unless --no-train)."""
    from germinate import render
    from germinate.evaluate.points import models_for
    from germinate.pipeline import evaluate_stage, report_stage, train_stage
    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder
    from germinate.settings import resolve

    chosen = parse_points(points)
    loaded = load_project(project)
    settings = resolve(loaded.config, preset(quick, standard), eval_overrides(repeats, k_shot, max_examples))
    run = RunFolder.of(project, run_name, loaded.limits).ensure()
    models = models_for(chosen, settings.evaluation.repeats)
    out = console()
    adapters = train_stage(loaded, run, settings, models, out, allow_training=not no_train)
    result = evaluate_stage(loaded, run, settings, out, models=models, adapters=adapters)
    render.evaluation(out, [result], report_stage(run, result))


@click.command("run")
@project_argument
@with_options(EVAL_OPTIONS)
@click.option(
    "--n",
    "n",
    type=count(1),
    default=None,
    help="Accepted synthetic examples (default 10,000; --quick 40; --standard 300).",
)
@click.option(
    "--max-cost",
    type=MONEY,
    default=None,
    help="One budget in USD for every teacher and judge call of the run; needs a price for each model.",
)
@click.option("--force", is_flag=True, help="Go on when the teacher gate says RETHINK.")
@click.pass_context
def run_command(
    ctx: click.Context,
    project: Path,
    run_name: str,
    quick: bool,
    standard: bool,
    points: str,
    repeats: int | None,
    k_shot: int | None,
    max_examples: int | None,
    n: int | None,
    max_cost: float | None,
    force: bool,
) -> None:
    """Everything: check, the teacher gate, generate and validate, train, evaluate, report
    (resumes where it stopped). Stops when the gate says RETHINK (exit code 3) unless --force."""
    from germinate import render
    from germinate.evaluate.gate import GateStopped
    from germinate.pipeline import report_paths, run_pipeline
    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder
    from germinate.settings import resolve

    chosen = parse_points(points)
    loaded = load_project(project)
    run = RunFolder.of(project, run_name, loaded.limits)
    size = preset(quick, standard)
    settings = resolve(loaded.config, size, {**eval_overrides(repeats, k_shot, max_examples), "generation": {"n": n}})
    out = console()
    try:
        result = run_pipeline(loaded, run, settings, out, preset=size, points=chosen, max_cost=max_cost, force=force)
    except GateStopped as stop:
        echo_err(_rethink_line(stop.result.summary, run=True))
        ctx.exit(EXIT_RETHINK)
    if result is not None:
        render.evaluation(out, [result], report_paths(run))


@click.command("bench")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--workdir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("bench-runs"),
    show_default=True,
    help="Where projects built from datasets and the combined report go.",
)
@with_options(EVAL_OPTIONS)
@click.option("--n", "n", type=count(1), default=None, help="Accepted synthetic examples per project.")
def bench_command(
    sources: tuple[Path, ...],
    workdir: Path,
    run_name: str,
    quick: bool,
    standard: bool,
    points: str,
    repeats: int | None,
    k_shot: int | None,
    max_examples: int | None,
    n: int | None,
) -> None:
    """The whole pipeline over several projects (or benchmark dataset folders with task.json) and one
    combined table. --quick fits a 2-core machine in minutes a project, --standard in about 45 minutes; the default is
    the paper's scale. The teacher gate's verdict is recorded, never obeyed: a benchmark measures every point."""
    from germinate import render
    from germinate.evaluate.report import write_report
    from germinate.pipeline import run_pipeline
    from germinate.project.load import TASK_FILE, load_project
    from germinate.project.scaffold import init_from
    from germinate.run_folder import RunFolder
    from germinate.settings import resolve

    chosen = parse_points(points)
    size = preset(quick, standard)
    overrides = {**eval_overrides(repeats, k_shot, max_examples), "generation": {"n": n}}
    out = console()
    projects = []
    for source in sources:  # check every project before spending time on the first
        if (source / TASK_FILE).exists():
            folder = source
        else:
            folder = workdir / source.name
            if not (folder / TASK_FILE).exists():
                init_from(source, folder)
        loaded = load_project(folder)
        if not loaded.test:
            raise GerminateError(f"{folder / 'test.jsonl'}: bench compares models on a test split; add one")
        projects.append((folder, loaded))
    results = []
    paths: dict[str, Path] = {}
    for folder, loaded in projects:
        settings = resolve(loaded.config, size, overrides)
        run = RunFolder.of(folder, run_name, loaded.limits)
        result = run_pipeline(loaded, run, settings, out, preset=size, points=chosen, force=True)
        assert result is not None  # every project was checked for a test split above
        results.append(result)
        paths = write_report(results, workdir, title="germinate bench" + (f" --{size}" if size else ""))
    render.evaluation(out, results, paths)
