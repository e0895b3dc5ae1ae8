"""``germinate train``, ``predict`` and ``serve``: the student, tuned and put to work."""

from __future__ import annotations

from pathlib import Path

import click

from germinate.cli.options import FiniteFloat, console, count, project_argument, run_option
from germinate.problems import GerminateError, Problem, located

_MODEL_HELP = "trained, seeds, base, or a path to a merged model or adapter folder."


@click.command("train")
@project_argument
@run_option
@click.option("--seeds-only", is_flag=True, help="Train on the seeds alone (the seed-student baseline).")
@click.option("--epochs", type=FiniteFloat(0, open_below=True), default=None, help="Override training.epochs.")
@click.option(
    "--merge",
    "merge",
    flag_value=True,
    default=None,
    help="Also write a merged plain HF model (or set training.merge).",
)
@click.option("--save-steps", type=count(1), default=None, help="Checkpoint every N optimizer steps.")
def train_command(
    project: Path, run_name: str, seeds_only: bool, epochs: float | None, merge: bool | None, save_steps: int | None
) -> None:
    """LoRA-fine-tune the student on seeds + accepted examples (resumes from the last checkpoint)."""
    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder
    from germinate.settings import resolve

    # bad input (the project, the run folder, a setting) is reported before torch loads
    loaded = load_project(project)
    run = RunFolder.of(project, run_name, loaded.limits)
    # an absent --merge must not override training.merge in task.yaml
    settings = resolve(
        loaded.config, None, {"training": {"epochs": epochs, "merge": merge or None, "save_steps": save_steps}}
    )
    from germinate import render
    from germinate.pipeline import train_one

    out = console()
    result = train_one(loaded, run, settings.training, settings.student, out, seeds_only=seeds_only)
    from germinate.student.train import main_process

    if main_process():  # under `accelerate launch`, one summary, not one per process
        render.training(out, result)


@click.command("predict")
@project_argument
@click.option(
    "--input",
    "input_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    required=True,
    help="JSONL of records in the task's format; outputs may be left out (if present, they are kept as references).",
)
@click.option(
    "--output",
    "output_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write predictions (default: runs/<run>/predictions.jsonl).",
)
@run_option
@click.option("--model", "which", default="trained", show_default=True, help=_MODEL_HELP)
@click.option("--batch-size", type=count(1, 4096), default=8, show_default=True)
@click.option("--max-new-tokens", type=count(1, 1_000_000), default=256, show_default=True)
def predict_command(
    project: Path,
    input_file: Path,
    output_file: Path | None,
    run_name: str,
    which: str,
    batch_size: int,
    max_new_tokens: int,
) -> None:
    """Run a student over a JSONL file, batched, and write its predictions."""
    from germinate.jsonl import read_jsonl, write_jsonl
    from germinate.project.load import input_problems, load_project
    from germinate.run_folder import RunFolder
    from germinate.settings import resolve
    from germinate.student.infer import Student, resolve_model
    from germinate.student.messages import prompt_messages, trained_system

    loaded = load_project(project)
    records, problems = read_jsonl(
        input_file, str(input_file), limit=loaded.limits.bytes("records_mb"), setting="limits.records_mb"
    )
    problems += input_problems(records, str(input_file), loaded.task_type)
    if problems:
        ordered: list[Problem] = sorted(located(problems), key=lambda problem: problem.line or 0)
        raise GerminateError(ordered)
    if not records:
        raise GerminateError(Problem(str(input_file), None, None, "no records to predict"))
    run = RunFolder.of(project, run_name, loaded.limits)
    student = resolve(loaded.config).student
    base, adapter = resolve_model(student, run, which)
    model = Student(base, adapter, student.dtype, student.max_length)
    system = trained_system(adapter, loaded.config)
    conversations = [prompt_messages(loaded.task_type, r.data, system) for r in records]
    with console().status(f"predicting {len(records)} records"):
        outputs = model.generate(conversations, max_new_tokens=max_new_tokens, batch_size=batch_size)
    target = output_file or run.ensure().predict_output
    write_jsonl(
        target, [{"line": r.line, "prediction": text, "record": r.data} for r, (text, _, _) in zip(records, outputs)]
    )
    click.echo(f"wrote {len(outputs)} predictions to {target}")


@click.command("serve")
@project_argument
@run_option
@click.option("--model", "which", default="trained", show_default=True, help=_MODEL_HELP)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; other than loopback, anyone who can reach it can use it.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--api-key",
    envvar="GERMINATE_API_KEY",
    default=None,
    help="Require 'Authorization: Bearer KEY' (better: set GERMINATE_API_KEY, which no process list shows).",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    help="A Host header name to answer besides loopback ones (behind a proxy); repeatable.",
)
def serve_command(
    project: Path, run_name: str, which: str, host: str, port: int, api_key: str | None, allow_hosts: tuple[str, ...]
) -> None:
    """Serve the student as an OpenAI-compatible API (/v1/chat/completions, /v1/models, /health).

    Limits (task.yaml's serve: section): request size, time to send a request, prompt and answer
    tokens, requests waiting for the student."""
    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder
    from germinate.settings import resolve
    from germinate.student.infer import Student, resolve_model
    from germinate.student.messages import trained_system
    from germinate.student.serve import is_loopback, make_server

    loaded = load_project(project)
    settings = resolve(loaded.config)
    student = settings.student
    base, adapter = resolve_model(student, RunFolder.of(project, run_name, loaded.limits), which)
    if not is_loopback(host):
        click.echo(
            f"germinate: warning: serving on {host}, not a loopback address: anyone who can reach this machine "
            + ("and knows the API key can use the student" if api_key else "can use the student (set --api-key)"),
            err=True,
        )
    server = make_server(
        Student(base, adapter, student.dtype, student.max_length),
        loaded.name,
        trained_system(adapter, loaded.config),
        host,
        port,
        task_type=loaded.task_type,
        config=loaded.config,
        limits=settings.serve,
        api_key=api_key or None,
        allow_hosts=allow_hosts,
    )
    click.echo(f"serving {loaded.name} on http://{host}:{server.server_address[1]}/v1 (Ctrl-C to stop)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
