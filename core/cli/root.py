"""The root ``germinate`` command group, the console, and options several commands share.

Heavy imports stay inside command bodies, so ``germinate --help`` answers quickly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from germinate import __version__
from germinate.evaluate.points import POINTS
from germinate.plugins import get_plugins
from germinate.problems import GerminateError
from germinate.settings import PRESETS, QUICK, STANDARD

EXIT_BAD_INPUT = 2


def echo_err(line: str) -> None:
    click.echo(line, err=True)


class GerminateGroup(click.Group):
    """Turns GerminateError into ``file:line: field: message`` lines and exit code 2, never a
    traceback; Ctrl-C exits 130 with a note that rerunning resumes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GerminateError as exc:
            for problem in exc.problems:
                echo_err(str(problem))
            ctx.exit(EXIT_BAD_INPUT)
        except KeyboardInterrupt:
            echo_err("germinate: interrupted; everything finished so far is kept, rerun to resume")
            ctx.exit(130)
        except OSError as exc:
            # an unwritable folder, a full disk, an unreadable file: one line naming the file
            where = exc.filename or "germinate"
            echo_err(f"{where}: {exc.strerror or exc}; everything finished so far is kept")
            ctx.exit(EXIT_BAD_INPUT)


def _report_plugin_failures() -> None:
    plugins = get_plugins()
    plugins.listing()  # makes every plugin register, so registration failures surface too
    for line in plugins.failures:
        echo_err(f"germinate: warning: {line}")


@click.group(cls=GerminateGroup)
@click.version_option(__version__, prog_name="germinate")
def cli() -> None:
    """Turn a task description and 10-50 examples into a small fine-tuned expert model."""
    _report_plugin_failures()


def console() -> Any:
    from rich.console import Console

    return Console()


def preset(quick: bool, standard: bool = False) -> str | None:
    """The chosen size preset's name (None: the paper's scale)."""
    if quick and standard:
        raise click.UsageError("--quick and --standard are two sizes; choose one")
    return "quick" if quick else "standard" if standard else None


# -- options several commands share -------------------------------------------------------------

project_argument = click.argument("project", type=click.Path(path_type=Path), default=".")
run_option = click.option("--run", "run_name", default="default", show_default=True, help="Run folder under runs/.")


def parse_points(text: str) -> tuple[str, ...]:
    chosen = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = [p for p in chosen if p not in POINTS]
    if unknown or not chosen:
        raise click.BadParameter(f"expected a comma-separated subset of {','.join(POINTS)}", param_hint="--points")
    return chosen


def eval_overrides(repeats: int | None, k_shot: int | None, max_examples: int | None) -> dict[str, dict[str, Any]]:
    return {"evaluation": {"repeats": repeats, "k_shot": k_shot, "max_examples": max_examples}}


def _describe(values: dict[str, dict[str, Any]]) -> str:
    return "; ".join(
        f"{section} {', '.join(f'{k}={v}' for k, v in items.items())}" for section, items in values.items()
    )


EVAL_OPTIONS = [
    run_option,
    click.option("--quick", is_flag=True, help="The small-machine preset: " + _describe(PRESETS["quick"])),
    click.option(
        "--standard",
        is_flag=True,
        help="About 45 minutes a classification project on 2 cores: " + _describe(PRESETS["standard"]),
    ),
    click.option(
        "--points", default=",".join(POINTS), show_default=True, help="Reference points to evaluate (comma-separated)."
    ),
    click.option("--repeats", type=int, default=None, help="Training runs per trained point (default 3)."),
    click.option("--k-shot", type=int, default=None, help="Seed examples in the teacher's prompt (default 5)."),
    click.option("--max-examples", type=int, default=None, help="Evaluate a fixed random subset of the test split."),
]

QUICK_GENERATION = QUICK["generation"]
STANDARD_GENERATION = STANDARD["generation"]


def with_options(options: list[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    def decorate(function: Any) -> Any:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate
