"""``germinate plugins``, ``task-types``, ``validators`` and ``teachers``: what is installed."""

from __future__ import annotations

import json

import click

from germinate.cli.options import console
from germinate.plugins import get_plugins


@click.command("plugins")
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
        provides = "; ".join(
            f"{kind.replace('_', ' ')}: {', '.join(names)}" for kind, names in row["provides"].items() if names
        )
        table.add_row(
            row["name"], row["distribution"] or "-", row["version"] or "-", ", ".join(row["hooks"]), provides or "-"
        )
    console().print(table)


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

        table = Table(*(["order"] if kind == "validators" else []), "name", "plugin", "summary", "config schema")
        for row in rows:
            schema = row.get("config_schema") or {}
            keys = ", ".join(schema.get("properties", {})) or "-"
            cells = [str(row["order"])] if kind == "validators" else []
            table.add_row(*cells, row["name"], row["plugin"], row.get("summary", ""), keys)
        console().print(table)

    command.__doc__ = help_text
    return click.command(kind.replace("_", "-"))(command)


task_types_command = _listing_command("task_types", "List task types, with their record and config schemas.")
validators_command = _listing_command("validators", "List validators in cascade order, with their config schemas.")
teachers_command = _listing_command("teachers", "List teacher backends, with their config schemas.")
