"""``germinate ask`` and ``germinate cache``: the project's teacher, called directly, and its cache."""

from __future__ import annotations

import json
from pathlib import Path

import click

from germinate.cli.options import MONEY, console, count
from germinate.problems import GerminateError

#: one line of ``ask --requests``
REQUEST_SCHEMA = {
    "type": "object",
    "required": ["messages"],
    "properties": {
        "messages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["role", "content"],
                "properties": {"role": {"enum": ["system", "user", "assistant"]}, "content": {"type": "string"}},
            },
        },
        "params": {"type": "object"},
    },
}


@click.command("ask")
@click.argument("project", type=click.Path(path_type=Path))
@click.argument("prompt", nargs=-1)
@click.option(
    "--requests",
    "requests_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help='JSONL of {"messages": [...], "params": {...}} to send instead of PROMPT.',
)
@click.option("-n", "--samples", type=count(1, 100_000), default=1, show_default=True, help="Draws per prompt.")
@click.option("--system", default=None, help="System message (default: the task description).")
@click.option("--no-cache", is_flag=True, help="Call the teacher even for cached requests.")
@click.option(
    "--max-cost", type=MONEY, default=None, help="Stop starting calls once this many USD are spent (needs a price)."
)
@click.option("--dry-run", is_flag=True, help="Estimate calls, tokens and cost; send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON lines.")
def ask_command(
    project: Path,
    prompt: tuple[str, ...],
    requests_file: Path | None,
    samples: int,
    system: str | None,
    no_cache: bool,
    max_cost: float | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Send prompts to the project's teacher through the engine (cache, retries, cost)."""
    from germinate.jsonl import read_jsonl
    from germinate.problems import Problem
    from germinate.project.errors import field_name, schema_problems
    from germinate.project.load import load_project
    from germinate.secrets import redact
    from germinate.teachers.base import ChatRequest
    from germinate.teachers.engine import run_sync
    from germinate.teachers.progress import TeacherProgress
    from germinate.teachers.setup import make_engine

    loaded = load_project(project)
    requests = []
    if requests_file is not None:
        records, problems = read_jsonl(
            requests_file, str(requests_file), limit=loaded.limits.bytes("records_mb"), setting="limits.records_mb"
        )
        problems += [
            Problem(str(requests_file), record.line, field_name(path) or None, message)
            for record in records
            for path, message in schema_problems(REQUEST_SCHEMA, record.data)
        ]
        if problems:
            raise GerminateError(problems)
        for record in records:
            requests += [
                ChatRequest(record.data["messages"], record.data.get("params", {}), sample=i, stage="ask")
                for i in range(samples)
            ]
    elif prompt:
        messages = [
            {"role": "system", "content": system or loaded.config["description"]},
            {"role": "user", "content": " ".join(prompt)},
        ]
        requests = [ChatRequest(messages, {}, sample=i, stage="ask") for i in range(samples)]
    else:
        raise click.UsageError("give a PROMPT or --requests FILE")
    engine = make_engine(loaded, use_cache=not no_cache, max_cost=max_cost)
    if dry_run:
        estimate = engine.estimate(requests)
        engine.close()
        click.echo(redact(json.dumps(estimate, indent=2, ensure_ascii=False)))
        return
    with TeacherProgress(len(requests), "ask") as progress:
        engine.on_progress = progress
        results = run_sync(engine, requests)
    for result in results:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "sample": result.request.sample,
                        "ok": result.ok,
                        "cached": result.cached,
                        "text": result.text,
                        "error": result.error,
                        "message": result.message if not result.ok else None,
                    }
                )
            )
        elif result.text is not None:
            click.echo(result.text)
        else:
            click.echo(f"[failed: {result.error}] {result.message}", err=True)
    console().print(engine.meter.table())
    if engine.budget_reached:
        click.echo(f"stopped starting new calls: --max-cost {max_cost} reached; finished calls are cached", err=True)
    if engine.stats.faults:
        click.echo(f"teacher faults (retried): {json.dumps(dict(engine.stats.faults), sort_keys=True)}", err=True)


@click.group("cache")
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

    table = Table(
        "model",
        "stage",
        "calls",
        "input tok",
        "output tok",
        title=f"{stats['path']}: {stats['calls']} calls, {stats['bytes'] / 1e6:.1f} MB",
    )
    for row in stats["by"]:
        table.add_row(
            row["model"], row["stage"], str(row["calls"]), str(row["input_tokens"]), str(row["output_tokens"])
        )
    console().print(table)


@cache_group.command("clear")
@click.argument("project", type=click.Path(path_type=Path, exists=True, file_okay=False), default=".")
@click.option("--stage", default=None, help="Only this stage's calls.")
def cache_clear(project: Path, stage: str | None) -> None:
    """Delete cached teacher calls (they will be paid for again)."""
    from germinate.teachers.cache import Cache

    removed = Cache.for_project(project).clear(stage)
    click.echo(f"removed {removed} cached calls")
