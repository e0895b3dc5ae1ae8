"""``germinate export``: the trained student as GGUF, an Ollama folder, a merged Hugging Face
model or a peft adapter; with ``--data``, the accepted training set for other trainers."""

from __future__ import annotations

from pathlib import Path

import click

from germinate.cli.options import console, project_argument, run_option

FORMATS = ("gguf", "ollama", "merged", "adapter")
QUANTS = ("f16", "q8_0", "q4_k_m")


@click.command("export")
@project_argument
@run_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="How to export the student.")
@click.option(
    "--quant",
    type=click.Choice(QUANTS),
    default="q8_0",
    show_default=True,
    help="GGUF quantisation (gguf and ollama).",
)
@click.option(
    "--model",
    "which",
    type=click.Choice(["trained", "seeds"]),
    default="trained",
    show_default=True,
    help="Which student.",
)
@click.option("--data", is_flag=True, help="Also (or only) export the accepted set: parquet + card, and chat JSONL.")
@click.option(
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Export folder (default: runs/<run>/export).",
)
def export_command(
    project: Path, run_name: str, fmt: str | None, quant: str, which: str, data: bool, output: Path | None
) -> None:
    """Export the student (gguf, ollama, merged, adapter) and/or the accepted data (--data)."""
    from germinate.problems import GerminateError, Problem
    from germinate.project.load import load_project
    from germinate.run_folder import ExportFolder, RunFolder
    from germinate.settings import resolve

    if fmt is None and not data:
        raise GerminateError(Problem("--format", None, None, "give --format FORMAT, --data, or both"))
    loaded = load_project(project)
    run = RunFolder.of(project, run_name)
    dest = ExportFolder(output) if output is not None else run.export
    out = console()
    if data:
        from germinate.validate.export_data import export_data

        with out.status("exporting the accepted set"):
            # the system prompt every training conversation has (germinate.student.train)
            result = export_data(loaded, run, dest.data, loaded.config["description"])
        click.echo(
            f"data: {result.rows} rows ({result.seeds} seeds, {result.synthetic} synthetic) -> {result.folder} "
            f"({result.parquet.name}, {result.chat.name}, {result.card.name})"
        )
    if fmt is not None:
        from germinate.student.export import export_model

        student = resolve(loaded.config).student
        with out.status(f"exporting the {which} student as {fmt}"):
            made = export_model(loaded, run, fmt, dest, student, which=which, quant=quant)
        click.echo(f"{fmt}: {made.path}" + (f" ({made.quant})" if made.quant else ""))
        for path in made.files:
            click.echo(f"  {path}")
        if fmt == "ollama":
            name = next(p for p in made.files if p.suffix == ".gguf").stem.rsplit("-", 1)[0]
            click.echo(f"next: cd {made.path} && ollama create {name} -f Modelfile && ollama run {name}")
