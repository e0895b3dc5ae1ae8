"""``germinate check`` and ``germinate init``: a project folder, checked or created."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import click

from germinate.cli.options import project_argument
from germinate.plugins import get_plugins
from germinate.problems import GerminateError, Problem, one_line


@click.command("check")
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
    from germinate.files import decode, read_bytes
    from germinate.jsonl import parse_json
    from germinate.settings import InputLimits

    if schema.get("type") == "array" and schema.get("items", {}).get("type") == "string":
        return [part.strip() for part in text.split(",") if part.strip()]
    try:  # JSON first: a long JSON text is no file name (and would raise "name too long")
        return parse_json(text)
    except ValueError:
        pass
    path = Path(text).expanduser()
    try:
        if path.exists():
            text = decode(
                read_bytes(path, str(path), limit=InputLimits.task_file_bytes(), setting="the cap on answer files"),
                str(path),
            )
        return parse_json(text)
    except (ValueError, OSError) as exc:  # not JSON, JSON germinate refuses (duplicate keys, NaN...), no file
        raise click.BadParameter(f"expected JSON or a JSON file: {exc}") from None
    except GerminateError as exc:
        raise click.BadParameter(str(exc.problems[0])) from None


def _ask_required(family: Any, known: dict[str, Any], source: Path | None) -> dict[str, Any]:
    """The task type's required task.yaml keys: those ``known`` gives, the rest asked for; with no
    answer (standard input closed, as in a script) one line naming the key, not "aborted"."""
    extra = dict(known)
    schema = family.config_schema
    for key in schema.get("required", []):
        if key in extra:
            continue
        sub = schema["properties"][key]
        hint = (
            " (comma-separated)"
            if sub.get("type") == "array" and sub.get("items", {}).get("type") == "string"
            else " (JSON, or a path to a JSON file)"
        )
        try:
            extra[key] = click.prompt(f"{key}{hint}", value_proc=functools.partial(_parse_answer, schema=sub))
        except click.exceptions.Abort:
            where, found = (str(source), "not read from the data") if source else ("germinate init", "required")
            raise GerminateError(Problem(where, None, key, f"{found}, and no answer was given")) from None
    return extra


@click.command("init")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--task-type", help="Task family (see `germinate task-types`).")
@click.option(
    "--from",
    "source",
    type=click.Path(path_type=Path, exists=True),
    help="A folder with task.json, seeds.jsonl and optional test.jsonl / documents.jsonl; or a table of "
    "seed examples: a CSV, TSV or parquet file, or a datasets folder (save_to_disk).",
)
@click.option("--description", help="Plain-English description of the task.")
@click.option(
    "--seeds",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="A seeds.jsonl to copy into the project.",
)
@click.option("--input-column", help="With a table: the column holding the task type's input.")
@click.option("--output-column", help="With a table: the column holding the task type's output.")
@click.option(
    "--columns", metavar="JSON", help='With a table: record field -> column, e.g. \'{"context": "passage"}\'.'
)
@click.option(
    "--split", default="train", show_default=True, help="With a datasets folder: the split of the seeds (test: test)."
)
@click.option("--force", is_flag=True, help="Overwrite an existing project's task.yaml and seeds.")
def init_command(
    directory: Path,
    task_type: str | None,
    source: Path | None,
    description: str | None,
    seeds: Path | None,
    input_column: str | None,
    output_column: str | None,
    columns: str | None,
    split: str,
    force: bool,
) -> None:
    """Create a project folder with a commented task.yaml (asks for what the flags leave out)."""
    from germinate.plugins import lookup
    from germinate.project.scaffold import init_from, read_records, scaffold
    from germinate.project.tabular import column_mapping, is_table, read_table

    if source is not None and not is_table(source):
        if not source.is_dir():
            raise click.BadParameter(
                "expected a folder with task.json, or a .csv, .tsv or .parquet file", param_hint="--from"
            )
        written = init_from(source, directory, task_type, force)
    else:
        if task_type is None:
            choices = sorted(get_plugins().task_types)
            task_type = click.prompt("Task type", type=click.Choice(choices))
        family = lookup("task_types", task_type)
        rows: list[dict[str, Any]] | None
        test: list[dict[str, Any]] | None = None
        known: dict[str, Any] = {}
        if source is not None:
            rows, test = read_table(source, family, column_mapping(family, input_column, output_column, columns), split)
            known = family.config_defaults(rows + test)
            for key, value in known.items():
                # data the user never looked at: shown escaped, anything key-shaped redacted
                shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                click.echo(one_line(f"{key} read from the data: {shown}"))
        else:
            rows = read_records(seeds) if seeds else None
        if description is None:
            description = click.prompt("Describe the task in plain English")
        extra = _ask_required(family, known, source)
        written = scaffold(directory, task_type, description, extra, seeds=rows, test=test, force=force)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: add seed examples if needed, then `germinate check {directory}`")
