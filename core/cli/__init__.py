"""The ``germinate`` command line. Heavy imports stay inside command bodies so ``--help`` is fast."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from germinate import __version__
from germinate.presets import QUICK as QUICK_PRESET
from germinate.plugins import get_plugins
from germinate.problems import GerminateError

EXIT_BAD_INPUT = 2


def _echo_err(line: str) -> None:
    click.echo(line, err=True)


class GerminateGroup(click.Group):
    """Turns GerminateError into ``file:line: field: message`` lines and exit code 2, never a
    traceback; Ctrl-C exits 130 with a note that rerunning resumes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GerminateError as exc:
            for problem in exc.problems:
                _echo_err(str(problem))
            ctx.exit(EXIT_BAD_INPUT)
        except KeyboardInterrupt:
            _echo_err("germinate: interrupted; everything finished so far is kept, rerun to resume")
            ctx.exit(130)
        except OSError as exc:
            # an unwritable folder, a full disk, an unreadable file: one line naming the file
            where = exc.filename or "germinate"
            _echo_err(f"{where}: {exc.strerror or exc}; everything finished so far is kept")
            ctx.exit(EXIT_BAD_INPUT)


def _report_plugin_failures() -> None:
    plugins = get_plugins()
    plugins.listing()  # makes every plugin register, so registration failures surface too
    for line in plugins.failures:
        _echo_err(f"germinate: warning: {line}")


@click.group(cls=GerminateGroup)
@click.version_option(__version__, prog_name="germinate")
def cli() -> None:
    """Turn a task description and 10-50 examples into a small fine-tuned expert model."""
    _report_plugin_failures()


def _console():
    from rich.console import Console

    return Console()


# -- listings -------------------------------------------------------------------------------------


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins_command(as_json: bool) -> None:
    """List installed plugins: distribution, version, hooks and what each provides."""
    rows = get_plugins().listing()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table("plugin", "distribution", "version", "hooks", "provides")
    for row in rows:
        provides = "; ".join(f"{kind.replace('_', ' ')}: {', '.join(names)}"
                             for kind, names in row["provides"].items() if names)
        table.add_row(row["name"], row["distribution"] or "-", row["version"] or "-",
                      ", ".join(row["hooks"]), provides or "-")
    _console().print(table)


def _listing_command(kind: str, help_text: str) -> click.Command:
    @click.option("--json", "as_json", is_flag=True, help="Print JSON, config schemas included.")
    def command(as_json: bool) -> None:
        plugins = get_plugins()
        objects = plugins.registered(kind)
        rows = []
        for name in sorted(objects, key=lambda n: (getattr(objects[n], "order", 0), n)):
            row = objects[name].describe()
            row["plugin"] = plugins.provider(kind, name)
            rows.append(row)
        if as_json:
            click.echo(json.dumps(rows, indent=2))
            return
        from rich.table import Table

        table = Table(*(["order"] if kind == "validators" else []), "name", "plugin", "summary",
                      "config schema")
        for row in rows:
            schema = row.get("config_schema") or {}
            keys = ", ".join(schema.get("properties", {})) or "-"
            cells = [str(row["order"])] if kind == "validators" else []
            table.add_row(*cells, row["name"], row["plugin"], row.get("summary", ""), keys)
        _console().print(table)

    command.__doc__ = help_text
    return click.command(kind.replace("_", "-"))(command)


cli.add_command(_listing_command("task_types", "List task types, with their record and config schemas."))
cli.add_command(_listing_command("validators", "List validators in cascade order, with their config schemas."))
cli.add_command(_listing_command("teachers", "List teacher backends, with their config schemas."))


# -- projects -------------------------------------------------------------------------------------


@cli.command("check")
@click.argument("project", type=click.Path(path_type=Path), default=".")
def check_command(project: Path) -> None:
    """Check a project folder; print every problem as file:line: field: message."""
    from germinate.project.load import check_project

    loaded, problems = check_project(project)
    if problems:
        raise GerminateError(problems)
    click.echo(f"{project}: ok ({loaded.task_type.name}, {len(loaded.seeds)} seeds, "
               f"{len(loaded.test)} test examples, {len(loaded.context_files)} context files)")


def _parse_answer(text: str, schema: dict[str, Any]) -> Any:
    if schema.get("type") == "array" and schema.get("items", {}).get("type") == "string":
        return [part.strip() for part in text.split(",") if part.strip()]
    path = Path(text).expanduser()
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else json.loads(text)
    except (json.JSONDecodeError, OSError) as exc:
        raise click.BadParameter(f"expected JSON or a JSON file: {exc}")


@cli.command("init")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--task-type", help="Task family (see `germinate task-types`).")
@click.option("--from", "source", type=click.Path(path_type=Path, exists=True, file_okay=False),
              help="Folder with task.json, seeds.jsonl and optional test.jsonl / documents.jsonl.")
@click.option("--description", help="Plain-English description of the task.")
@click.option("--seeds", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="A seeds.jsonl to copy into the project.")
@click.option("--force", is_flag=True, help="Overwrite an existing project's task.yaml and seeds.")
def init_command(directory: Path, task_type: str | None, source: Path | None, description: str | None,
                 seeds: Path | None, force: bool) -> None:
    """Create a project folder with a commented task.yaml (asks for what the flags leave out)."""
    from germinate.plugins import lookup
    from germinate.project.scaffold import _rows, init_from, scaffold

    if source is not None:
        written = init_from(source, directory, task_type, force)
    else:
        if task_type is None:
            choices = sorted(get_plugins().task_types)
            task_type = click.prompt("Task type", type=click.Choice(choices))
        family = lookup("task_types", task_type)
        if description is None:
            description = click.prompt("Describe the task in plain English")
        extra = {}
        schema = family.config_schema
        for key in schema.get("required", []):
            sub = schema["properties"][key]
            hint = " (comma-separated)" if sub.get("type") == "array" and sub.get("items", {}).get("type") == "string" \
                else " (JSON, or a path to a JSON file)"
            extra[key] = click.prompt(f"{key}{hint}", value_proc=lambda t, s=sub: _parse_answer(t, s))
        written = scaffold(directory, task_type, description, extra,
                           seeds=_rows(seeds) if seeds else None, force=force)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: add seed examples if needed, then `germinate check {directory}`")


@cli.command("validate")
@click.argument("project", type=click.Path(path_type=Path), default=".")
@click.option("--run", "run_name", default="default", show_default=True, help="Run folder under runs/.")
@click.option("--candidates", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Validate this JSONL of records instead of the run's candidates.jsonl.")
@click.option("--set", "settings", multiple=True, metavar="VALIDATOR.OPTION=VALUE",
              help="Override a validator setting for this replay (repeatable).")
@click.option("--disable", multiple=True, metavar="VALIDATOR", help="Leave a validator out (repeatable).")
@click.option("--apply", is_flag=True, help="Write the new accepted/rejected files (default: only show the change).")
def validate_command(project: Path, run_name: str, candidates: Path | None, settings: tuple[str, ...],
                     disable: tuple[str, ...], apply: bool) -> None:
    """Run the validation cascade over a run's candidates (no teacher calls) and show what changes."""
    from rich.progress import Progress

    from germinate.validate.ledger import summary_table
    from germinate.project.load import load_project
    from germinate.validate.replay import compare, load_candidates, parse_overrides, previous_decisions, run_cascade, save
    from germinate.run_folder import RunFolder

    loaded = load_project(project)
    run = RunFolder.of(project, run_name)
    rows = load_candidates(run, candidates)
    overrides = parse_overrides(settings, disable)
    with Progress(transient=True) as progress:
        bar = progress.add_task("validating", total=len(rows))
        outcome = run_cascade(loaded, rows, overrides, progress=lambda: progress.advance(bar))
    console = _console()
    console.print(summary_table(outcome.tally.as_dict(), title=f"validation of {len(rows)} candidates "
                                f"({' -> '.join(outcome.order)})"))
    before = previous_decisions(run)
    if before:
        change = compare(before, outcome.decisions)
        def counts(by: dict) -> str:
            total = sum(by.values())
            return f"{total} ({', '.join(f'{k} {v}' for k, v in sorted(by.items()))})" if total else "0"

        console.print(f"against the recorded decisions: {counts(change['newly_accepted'])} newly accepted "
                      f"(by who rejected them before), {counts(change['newly_rejected'])} newly rejected, "
                      f"{change['unchanged']} unchanged")
    if apply or not before:
        save(run, outcome)
        console.print(f"wrote {run.accepted}, {run.rejected} and {run.validation_summary}")
    else:
        console.print("nothing written; add --apply to keep these decisions")


@cli.command("ask")
@click.argument("project", type=click.Path(path_type=Path))
@click.argument("prompt", nargs=-1)
@click.option("--requests", "requests_file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help='JSONL of {"messages": [...], "params": {...}} to send instead of PROMPT.')
@click.option("-n", "--samples", default=1, show_default=True, help="Draws per prompt.")
@click.option("--system", default=None, help="System message (default: the task description).")
@click.option("--no-cache", is_flag=True, help="Call the teacher even for cached requests.")
@click.option("--max-cost", type=float, default=None, help="Stop starting calls once this many USD are spent.")
@click.option("--dry-run", is_flag=True, help="Estimate calls, tokens and cost; send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON lines.")
def ask_command(project: Path, prompt: tuple[str, ...], requests_file: Path | None, samples: int,
                system: str | None, no_cache: bool, max_cost: float | None, dry_run: bool, as_json: bool) -> None:
    """Send prompts to the project's teacher through the engine (cache, retries, cost)."""
    from germinate.teachers.engine import run_sync
    from germinate.jsonl import read_jsonl
    from germinate.teachers.progress import TeacherProgress
    from germinate.project.load import load_project
    from germinate.teachers.base import ChatRequest
    from germinate.teachers.setup import make_engine

    loaded = load_project(project)
    requests = []
    if requests_file is not None:
        records, problems = read_jsonl(requests_file, str(requests_file))
        if problems:
            raise GerminateError(problems)
        for record in records:
            if not isinstance(record.data.get("messages"), list):
                raise GerminateError(f"{requests_file}:{record.line}: messages: expected a list of chat messages")
            requests += [ChatRequest(record.data["messages"], record.data.get("params", {}), sample=i, stage="ask")
                         for i in range(samples)]
    elif prompt:
        messages = [{"role": "system", "content": system or loaded.config["description"]},
                    {"role": "user", "content": " ".join(prompt)}]
        requests = [ChatRequest(messages, {}, sample=i, stage="ask") for i in range(samples)]
    else:
        raise click.UsageError("give a PROMPT or --requests FILE")
    engine = make_engine(loaded, use_cache=not no_cache, max_cost=max_cost)
    if dry_run:
        click.echo(json.dumps(engine.estimate(requests), indent=2))
        return
    with TeacherProgress(len(requests), "ask") as progress:
        engine.on_progress = progress
        results = run_sync(engine, requests)
    for result in results:
        if as_json:
            click.echo(json.dumps({"sample": result.request.sample, "ok": result.ok, "cached": result.cached,
                                   "text": result.completion.text if result.ok else None, "error": result.error,
                                   "message": result.message if not result.ok else None}))
        elif result.ok:
            click.echo(result.completion.text)
        else:
            click.echo(f"[failed: {result.error}] {result.message}", err=True)
    _console().print(engine.meter.table())
    if engine.budget_reached:
        click.echo(f"stopped starting new calls: --max-cost {max_cost} reached; finished calls are cached", err=True)
    if engine.stats.faults:
        click.echo(f"teacher faults (retried): {json.dumps(dict(engine.stats.faults), sort_keys=True)}", err=True)


QUICK = QUICK_PRESET["generation"]


@cli.command("generate")
@click.argument("project", type=click.Path(path_type=Path), default=".")
@click.option("--n", "n", type=int, default=None, help="Accepted synthetic examples to produce (default 10,000).")
@click.option("--quick", is_flag=True, help=f"A preset for small machines: n={QUICK['n']}, batches of {QUICK['batch_size']}.")
@click.option("--run", "run_name", default="default", show_default=True, help="Run folder under runs/.")
@click.option("--batch-size", type=int, default=None, help="Examples per batch of teacher calls.")
@click.option("--seed", type=int, default=None, help="Random seed for θ samples and shown seeds.")
@click.option("--no-cache", is_flag=True, help="Call the teacher even for cached requests.")
@click.option("--max-cost", type=float, default=None, help="Stop once this many USD are spent (everything kept).")
@click.option("--dry-run", is_flag=True, help="Estimate teacher calls, tokens and cost; send nothing.")
def generate_command(project: Path, n: int | None, quick: bool, run_name: str, batch_size: int | None,
                     seed: int | None, no_cache: bool, max_cost: float | None, dry_run: bool) -> None:
    """Generate synthetic examples until N pass the validation cascade (resumes where it stopped)."""
    from germinate.generate.loop import coverage_table
    from germinate.validate.ledger import summary_table
    from germinate.pipeline import generate_stage, settings_for
    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder
    from germinate.teachers.setup import make_engine

    loaded = load_project(project)
    settings = settings_for(loaded, quick, {"generation": {"n": n, "batch_size": batch_size, "seed": seed}})[0]
    run = RunFolder.of(project, run_name)
    console = _console()
    if dry_run:
        from germinate.teachers.engine import estimate_tokens

        engine = make_engine(loaded, use_cache=not no_cache, max_cost=max_cost)
        seeds = len(loaded.seeds)
        per_example = loaded.task_type.phases
        calls = seeds + settings.n * per_example
        prompt_in, prompt_out = estimate_tokens(_sample_request(loaded, settings))
        cost = engine.meter.cost_of(engine.client.model, calls * prompt_in, calls * prompt_out)
        click.echo(json.dumps({"model": engine.client.model, "at_least_calls": calls,
                               "input_tokens_per_call": prompt_in, "max_output_tokens_per_call": prompt_out,
                               "at_least_cost_usd": None if cost is None else round(cost, 2),
                               "note": "rejected candidates add calls; the cache makes finished ones free"}, indent=2))
        engine.close()
        return
    summary = generate_stage(loaded, run, settings, console, max_cost=max_cost, use_cache=not no_cache)
    console.print(summary_table(summary["validation"], title=f"validation ({' -> '.join(summary['order'])})"))
    console.print(coverage_table(summary["coverage"]))
    console.print(summary["meter"].table())
    if summary["faults"]:
        click.echo(f"teacher faults (retried): {json.dumps(summary['faults'], sort_keys=True)}")
    if summary["stopped"]:
        click.echo(summary["stopped"], err=True)
    click.echo(f"{summary['accepted']}/{summary['target']} accepted in {run.path}")


def _sample_request(project, settings):
    """One representative generation request, for estimates."""
    from germinate.generate.loop import GenContext, context_chunks, make_example, prompt_overrides
    from germinate.generate.properties import Posterior
    from germinate.teachers.base import ChatRequest

    props = project.task_type.own_properties(project.config)
    ctx = GenContext(project, settings, Posterior(props, settings.prior, {}),
                     context_chunks(project, settings.chunk_chars), prompt_overrides(project))
    example = make_example(ctx, 0)
    messages = project.task_type.generation_prompt(ctx, example, 0, [None] * project.task_type.phases)
    return ChatRequest(messages, {"max_tokens": settings.max_tokens})


@cli.command("train")
@click.argument("project", type=click.Path(path_type=Path), default=".")
@click.option("--run", "run_name", default="default", show_default=True, help="Run folder under runs/.")
@click.option("--seeds-only", is_flag=True, help="Train on the seeds alone (the seed-student baseline).")
@click.option("--epochs", type=float, default=None, help="Override training.epochs.")
@click.option("--merge", "merge", flag_value=True, default=None, help="Also write a merged plain HF model (or set training.merge).")
@click.option("--save-steps", type=int, default=None, help="Checkpoint every N optimizer steps.")
def train_command(project: Path, run_name: str, seeds_only: bool, epochs: float | None, merge: bool | None,
                  save_steps: int | None) -> None:
    """LoRA-fine-tune the student on seeds + accepted examples (resumes from the last checkpoint)."""
    from germinate.pipeline import train_with_progress
    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder
    from germinate.student.train import TrainSettings

    loaded = load_project(project)
    # an absent --merge must not override training.merge in task.yaml
    settings = TrainSettings.from_config(loaded.section("training"), epochs=epochs, merge=merge or None,
                                         save_steps=save_steps)
    result = train_with_progress(loaded, RunFolder.of(project, run_name), settings, _console(),
                                 seeds_only=seeds_only)
    losses = result["losses"]
    click.echo(f"trained {result['examples']} examples in {result['steps']} steps"
               + (f" (resumed from {Path(result['resumed_from']).name})" if result["resumed_from"] else "")
               + (f"; loss {losses[0]:.4f} -> {losses[-1]:.4f}" if losses else "")
               + (f"; held-out loss {result['eval_losses'][-1]:.4f}" if result["eval_losses"] else ""))
    click.echo(f"adapter: {result['adapter']}" + (f"\nmerged model: {result['merged']}" if "merged" in result else ""))


@cli.command("predict")
@click.argument("project", type=click.Path(path_type=Path), default=".")
@click.option("--input", "input_file", type=click.Path(path_type=Path, exists=True, dir_okay=False), required=True,
              help="JSONL of records in the task's format (outputs, if present, are kept as references).")
@click.option("--output", "output_file", type=click.Path(path_type=Path), default=None,
              help="Where to write predictions (default: runs/<run>/predictions.jsonl).")
@click.option("--run", "run_name", default="default", show_default=True)
@click.option("--model", "which", default="trained", show_default=True,
              help="trained, seeds, base, or a path to a merged model or adapter folder.")
@click.option("--batch-size", type=int, default=8, show_default=True)
@click.option("--max-new-tokens", type=int, default=256, show_default=True)
def predict_command(project: Path, input_file: Path, output_file: Path | None, run_name: str, which: str,
                    batch_size: int, max_new_tokens: int) -> None:
    """Run a student over a JSONL file, batched, and write its predictions."""
    from germinate.student.infer import Student, prompt_messages, resolve_model
    from germinate.jsonl import read_jsonl, write_jsonl
    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder

    loaded = load_project(project)
    records, problems = read_jsonl(input_file, str(input_file))
    if problems:
        raise GerminateError(problems)
    run = RunFolder.of(project, run_name)
    base, adapter = resolve_model(loaded.config, run.path, which)
    student = Student(base, adapter)
    conversations = [prompt_messages(loaded.task_type, r.data, loaded.config["description"]) for r in records]
    outputs = []
    with _console().status(f"predicting {len(records)} records"):
        outputs = student.generate(conversations, max_new_tokens=max_new_tokens, batch_size=batch_size)
    target = output_file or run.ensure().path / "predictions.jsonl"
    write_jsonl(target, [{"line": r.line, "prediction": text, "record": r.data} for r, (text, _, _) in zip(records, outputs)])
    click.echo(f"wrote {len(outputs)} predictions to {target}")


def _points(text: str) -> tuple[str, ...]:
    from germinate.evaluate.harness import POINTS

    chosen = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = [p for p in chosen if p not in POINTS]
    if unknown or not chosen:
        raise click.BadParameter(f"expected a comma-separated subset of {','.join(POINTS)}", param_hint="--points")
    return chosen


def _eval_overrides(repeats: int | None, k_shot: int | None, max_examples: int | None) -> dict[str, dict[str, Any]]:
    return {"evaluation": {"repeats": repeats, "k_shot": k_shot, "max_examples": max_examples}}


_eval_options = [
    click.option("--run", "run_name", default="default", show_default=True, help="Run folder under runs/."),
    click.option("--quick", is_flag=True, help="The small-machine preset: " + "; ".join(
        f"{section} {', '.join(f'{k}={v}' for k, v in values.items())}" for section, values in QUICK_PRESET.items())),
    click.option("--points", default="teacher,trained,seeds,base", show_default=True,
                 help="Reference points to evaluate (comma-separated)."),
    click.option("--repeats", type=int, default=None, help="Training runs per trained point (default 3)."),
    click.option("--k-shot", type=int, default=None, help="Seed examples in the teacher's prompt (default 5)."),
    click.option("--max-examples", type=int, default=None, help="Evaluate a fixed random subset of the test split."),
]


def _with(options):
    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function
    return decorate


def _print_result(result: dict[str, Any], paths: dict[str, Path]) -> None:
    from germinate.evaluate.report import table

    for line in table([result] if isinstance(result, dict) else result):
        click.echo(line)
    click.echo(f"report: {paths['md']} (also {paths['json'].name}, {paths['png'].name}); predictions: "
               + ("runs/<run>/eval/predictions in each project" if isinstance(result, list)
                  else str(paths['md'].parent / 'eval' / 'predictions')))


@cli.command("evaluate")
@click.argument("project", type=click.Path(path_type=Path), default=".")
@_with(_eval_options)
@click.option("--no-train", is_flag=True, help="Fail instead of training a missing trained or seed student.")
def evaluate_command(project: Path, run_name: str, quick: bool, points: str, repeats: int | None,
                     k_shot: int | None, max_examples: int | None, no_train: bool) -> None:
    """Score teacher (k-shot), trained, seed-only and base student on the test split; write a report."""
    from germinate.pipeline import evaluate_stage, settings_for, write_project_report
    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder

    chosen = _points(points)
    loaded = load_project(project)
    _, training, evaluation = settings_for(loaded, quick, _eval_overrides(repeats, k_shot, max_examples))
    run = RunFolder.of(project, run_name).ensure()
    result = evaluate_stage(loaded, run, training, evaluation, _console(), points=chosen, allow_training=not no_train)
    _print_result(result, write_project_report(run, result))


@cli.command("run")
@click.argument("project", type=click.Path(path_type=Path), default=".")
@_with(_eval_options)
@click.option("--n", "n", type=int, default=None, help="Accepted synthetic examples (default 10,000; --quick 40).")
@click.option("--max-cost", type=float, default=None, help="Stop teacher calls once this many USD are spent.")
def run_command(project: Path, run_name: str, quick: bool, points: str, repeats: int | None, k_shot: int | None,
                max_examples: int | None, n: int | None, max_cost: float | None) -> None:
    """Everything: check, generate and validate, train, evaluate, report (resumes where it stopped)."""
    from germinate.pipeline import run_pipeline
    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder

    chosen = _points(points)
    loaded = load_project(project)
    run = RunFolder.of(project, run_name)
    overrides = {**_eval_overrides(repeats, k_shot, max_examples), "generation": {"n": n}}
    result = run_pipeline(loaded, run, _console(), quick=quick, overrides=overrides, points=chosen, max_cost=max_cost)
    if result.get("evaluated") is False:
        click.echo(f"adapter: {result['adapter']}")
        return
    _print_result(result, {"md": run.path / "report.md", "json": run.path / "report.json",
                           "png": run.path / "report.png"})


@cli.command("bench")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--workdir", type=click.Path(path_type=Path, file_okay=False), default=Path("bench-runs"),
              show_default=True, help="Where projects built from datasets and the combined report go.")
@_with(_eval_options)
@click.option("--n", "n", type=int, default=None, help="Accepted synthetic examples per project.")
def bench_command(sources: tuple[Path, ...], workdir: Path, run_name: str, quick: bool, points: str,
                  repeats: int | None, k_shot: int | None, max_examples: int | None, n: int | None) -> None:
    """The whole pipeline over several projects (or benchmark dataset folders with task.json) and one
    combined table. --quick fits a 2-core machine; the default is the paper's scale."""
    from germinate.pipeline import run_pipeline
    from germinate.project.load import TASK_FILE, load_project
    from germinate.evaluate.report import write_report
    from germinate.run_folder import RunFolder
    from germinate.project.scaffold import init_from

    chosen = _points(points)
    overrides = {**_eval_overrides(repeats, k_shot, max_examples), "generation": {"n": n}}
    console = _console()
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
    for folder, loaded in projects:
        results.append(run_pipeline(loaded, RunFolder.of(folder, run_name), console, quick=quick,
                                    overrides=overrides, points=chosen))
        paths = write_report(results, workdir, title="germinate bench" + (" --quick" if quick else ""))
    _print_result(results, paths)


@cli.command("serve")
@click.argument("project", type=click.Path(path_type=Path), default=".")
@click.option("--run", "run_name", default="default", show_default=True)
@click.option("--model", "which", default="trained", show_default=True,
              help="trained, seeds, base, or a path to a merged model or adapter folder.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
def serve_command(project: Path, run_name: str, which: str, host: str, port: int) -> None:
    """Serve the student as an OpenAI-compatible API (/v1/chat/completions, /v1/models)."""
    from germinate.student.infer import Student, resolve_model
    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder
    from germinate.student.serve import make_server

    loaded = load_project(project)
    base, adapter = resolve_model(loaded.config, RunFolder.of(project, run_name).path, which)
    server = make_server(Student(base, adapter), loaded.name, loaded.config["description"], host, port)
    click.echo(f"serving {loaded.name} on http://{host}:{server.server_address[1]}/v1 (Ctrl-C to stop)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@cli.group("cache")
def cache_group() -> None:
    """Inspect or clear a project's cache of teacher calls."""


@cache_group.command("stats")
@click.argument("project", type=click.Path(path_type=Path, exists=True, file_okay=False), default=".")
@click.option("--json", "as_json", is_flag=True)
def cache_stats(project: Path, as_json: bool) -> None:
    """Calls and tokens stored, per model and stage."""
    from germinate.teachers.cache import Cache

    stats = Cache.for_project(project).stats()
    if as_json:
        click.echo(json.dumps(stats, indent=2))
        return
    from rich.table import Table

    table = Table("model", "stage", "calls", "input tok", "output tok",
                  title=f"{stats['path']}: {stats['calls']} calls, {stats['bytes'] / 1e6:.1f} MB")
    for row in stats["by"]:
        table.add_row(row["model"], row["stage"], str(row["calls"]), str(row["input_tokens"]), str(row["output_tokens"]))
    _console().print(table)


@cache_group.command("clear")
@click.argument("project", type=click.Path(path_type=Path, exists=True, file_okay=False), default=".")
@click.option("--stage", default=None, help="Only this stage's calls.")
def cache_clear(project: Path, stage: str | None) -> None:
    """Delete cached teacher calls (they will be paid for again)."""
    from germinate.teachers.cache import Cache

    removed = Cache.for_project(project).clear(stage)
    click.echo(f"removed {removed} cached calls")


def main() -> None:
    try:
        get_plugins().each("register_commands", cli=cli)
    except GerminateError as exc:  # e.g. a plugin with a misspelled hook, found while loading
        for problem in exc.problems:
            _echo_err(str(problem))
        sys.exit(EXIT_BAD_INPUT)
    cli(prog_name="germinate")


if __name__ == "__main__":
    main()
