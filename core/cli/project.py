"""``germinate check`` and ``germinate init``: a project folder, checked or created."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import click

from germinate.cli.root import cli, project_argument
from germinate.plugins import get_plugins
from germinate.problems import GerminateError


@cli.command("check")
@project_argument
def check_command(project: Path) -> None:
    """Check a project folder; print every problem as file:line: field: message."""
    from germinate.project.load import check_project

    loaded, problems = check_project(project)
    if problems or loaded is None:
        raise GerminateError(problems)
    click.echo(
        f"{project}: ok ({loaded.task_type.name}, {len(loaded.seeds)} seeds, "
        f"{len(loaded.test)} test examples, {len(loaded.context_files)} context files)"
    )


def _parse_answer(text: str, schema: dict[str, Any]) -> Any:
    if schema.get("type") == "array" and schema.get("items", {}).get("type") == "string":
        return [part.strip() for part in text.split(",") if part.strip()]
    path = Path(text).expanduser()
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else json.loads(text)
    except (json.JSONDecodeError, OSError) as exc:
        raise click.BadParameter(f"expected JSON or a JSON file: {exc}") from None


@cli.command("init")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--task-type", help="Task family (see `germinate task-types`).")
@click.option(
    "--from",
    "source",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="Folder with task.json, seeds.jsonl and optional test.jsonl / documents.jsonl.",
)
@click.option("--description", help="Plain-English description of the task.")
@click.option(
    "--seeds",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="A seeds.jsonl to copy into the project.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing project's task.yaml and seeds.")
def init_command(
    directory: Path,
    task_type: str | None,
    source: Path | None,
    description: str | None,
    seeds: Path | None,
    force: bool,
) -> None:
    """Create a project folder with a commented task.yaml (asks for what the flags leave out)."""
    from germinate.plugins import lookup
    from germinate.project.scaffold import init_from, read_records, scaffold

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
            hint = (
                " (comma-separated)"
                if sub.get("type") == "array" and sub.get("items", {}).get("type") == "string"
                else " (JSON, or a path to a JSON file)"
            )
            extra[key] = click.prompt(f"{key}{hint}", value_proc=functools.partial(_parse_answer, schema=sub))
        written = scaffold(
            directory, task_type, description, extra, seeds=read_records(seeds) if seeds else None, force=force
        )
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: add seed examples if needed, then `germinate check {directory}`")
