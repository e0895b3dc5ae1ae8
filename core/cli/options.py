"""Options and argument types several commands share (imported by the command modules only,
never by the root group: ``germinate --help`` does not pay for the settings they describe)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from germinate.evaluate.points import POINTS
from germinate.problems import GerminateError, located
from germinate.run_folder import check_run_name
from germinate.settings import CAPACITIES, PRESETS, QUICK, STANDARD


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


def _run_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return check_run_name(value)
    except GerminateError as exc:
        raise click.BadParameter(located(exc.problems)[0].message, ctx, param) from None


run_option = click.option(
    "--run",
    "run_name",
    default="default",
    show_default=True,
    callback=_run_name,
    help="Run folder under runs/ (a plain name: letters, digits, '.', '_', '-').",
)


class FiniteFloat(click.ParamType):
    """A finite number (NaN and infinities refused) of at least ``minimum``."""

    name = "number"

    def __init__(self, minimum: float = 0.0, open_below: bool = False) -> None:
        self.minimum, self.open_below = minimum, open_below

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if number < self.minimum or (self.open_below and number == self.minimum):
            self.fail(f"{value!r} must be {'above' if self.open_below else 'at least'} {self.minimum:g}", param, ctx)
        return number


def count(minimum: int = 1, maximum: int | None = None) -> click.IntRange:
    """A whole number within bounds (``--n``, ``--batch-size``...)."""
    return click.IntRange(minimum, maximum)


#: USD: a finite number, zero or more
MONEY = FiniteFloat(0.0)


def parse_points(text: str) -> tuple[str, ...]:
    chosen = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = [p for p in chosen if p not in POINTS]
    if unknown or not chosen:
        raise click.BadParameter(f"expected a comma-separated subset of {','.join(POINTS)}", param_hint="--points")
    return chosen


def eval_overrides(repeats: int | None, k_shot: int | None, max_examples: int | None) -> dict[str, dict[str, Any]]:
    return {"evaluation": {"repeats": repeats, "k_shot": k_shot, "max_examples": max_examples}}


def _describe(values: dict[str, dict[str, Any]]) -> str:
    def value(section: str, key: str, v: Any) -> str:
        return f"{key}={v} (unless task.yaml sets it)" if key in CAPACITIES.get(section, ()) else f"{key}={v}"

    return "; ".join(
        f"{section} {', '.join(value(section, k, v) for k, v in items.items())}" for section, items in values.items()
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
    click.option("--repeats", type=count(1, 1000), default=None, help="Training runs per trained point (default 3)."),
    click.option(
        "--k-shot", type=count(0, 10_000), default=None, help="Seed examples in the teacher's prompt (default 5)."
    ),
    click.option(
        "--max-examples", type=count(1), default=None, help="Evaluate a fixed random subset of the test split."
    ),
]

QUICK_GENERATION = QUICK["generation"]
STANDARD_GENERATION = STANDARD["generation"]


def with_options(options: list[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    def decorate(function: Any) -> Any:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate
