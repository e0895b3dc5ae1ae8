"""``germinate generate`` and ``germinate validate``: synthetic data, made and re-checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from germinate.cli.options import (
    MONEY,
    QUICK_GENERATION,
    STANDARD_GENERATION,
    console,
    count,
    preset,
    project_argument,
    run_option,
)


@click.command("generate")
@project_argument
@click.option("--n", "n", type=count(1), default=None, help="Accepted synthetic examples to produce (default 10,000).")
@click.option(
    "--quick",
    is_flag=True,
    help=f"A preset for small machines: n={QUICK_GENERATION['n']}, batches of {QUICK_GENERATION['batch_size']}.",
)
@click.option("--standard", is_flag=True, help=f"The standard preset: n={STANDARD_GENERATION['n']}.")
@run_option
@click.option("--batch-size", type=count(1), default=None, help="Examples per batch of teacher calls.")
@click.option("--seed", type=int, default=None, help="Random seed for θ samples and shown seeds.")
@click.option("--no-cache", is_flag=True, help="Call the teacher even for cached requests.")
@click.option(
    "--max-cost", type=MONEY, default=None, help="Stop once this many USD are spent (everything kept; needs a price)."
)
@click.option("--dry-run", is_flag=True, help="Estimate teacher calls, tokens and cost; send nothing.")
def generate_command(
    project: Path,
    n: int | None,
    quick: bool,
    standard: bool,
    run_name: str,
    batch_size: int | None,
    seed: int | None,
    no_cache: bool,
    max_cost: float | None,
    dry_run: bool,
) -> None:
    """Generate synthetic examples until N pass the validation cascade (resumes where it stopped)."""
    from germinate import render
    from germinate.pipeline import generate_stage
    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder
    from germinate.secrets import redact
    from germinate.settings import resolve

    loaded = load_project(project)
    settings = resolve(
        loaded.config, preset(quick, standard), {"generation": {"n": n, "batch_size": batch_size, "seed": seed}}
    ).generation
    run = RunFolder.of(project, run_name, loaded.limits)
    if dry_run:
        estimate = _estimate(loaded, settings, use_cache=not no_cache, max_cost=max_cost)
        click.echo(redact(json.dumps(estimate, indent=2, ensure_ascii=False)))
        return
    out = console()
    result = generate_stage(loaded, run, settings, out, max_cost=max_cost, use_cache=not no_cache)
    render.generation(out, result, where=run.path)


def _estimate(project: Any, settings: Any, *, use_cache: bool, max_cost: float | None) -> dict[str, Any]:
    """A lower bound of the calls, tokens and cost of generating ``settings.n`` examples."""
    from germinate.generate.loop import GenContext, context_chunks, listed, make_example, make_group, prompt_overrides
    from germinate.generate.properties import Posterior
    from germinate.teachers.base import ChatRequest
    from germinate.teachers.engine import estimate_tokens
    from germinate.teachers.setup import make_engine

    engine = make_engine(project, use_cache=use_cache, max_cost=max_cost)
    try:
        task = project.task_type
        ctx = GenContext(
            project,
            settings,
            Posterior(task.own_properties(project.config), settings.prior, {}),
            context_chunks(project, settings.chunk_chars),
            prompt_overrides(project, settings),
        )
        calls, prompt_in, prompt_out = len(project.seeds), 0, 0
        for phase in range(task.phases):
            if listed(ctx):
                group = make_group(ctx, 0) if phase in task.listed_phases else [make_group(ctx, 0)[0]]
                messages = task.listed_prompt(ctx, group, phase, [[None] * phase for _ in group])
                count = -(-settings.n // len(group))
            else:
                group = [make_example(ctx, 0)]
                messages = task.generation_prompt(ctx, group[0], phase, [None] * phase)
                count = settings.n
            tokens_in, tokens_out = estimate_tokens(ChatRequest(messages, {"max_tokens": settings.max_tokens}))
            calls += count
            prompt_in += count * tokens_in
            prompt_out += count * tokens_out * len(group)
        cost = engine.meter.cost_of(engine.client.model, prompt_in, prompt_out)
        return {
            "model": engine.client.model,
            "at_least_calls": calls,
            "input_tokens": prompt_in,
            "max_output_tokens": prompt_out,
            "at_least_cost_usd": None if cost is None else round(cost, 2),
            "note": "rejected candidates add calls; the cache makes finished ones free",
        }
    finally:
        engine.close()


@click.command("validate")
@project_argument
@run_option
@click.option(
    "--candidates",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Validate this JSONL of records instead of the run's candidates.jsonl.",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="VALIDATOR.OPTION=VALUE",
    help="Override a validator setting for this replay (repeatable).",
)
@click.option("--disable", multiple=True, metavar="VALIDATOR", help="Leave a validator out (repeatable).")
@click.option(
    "--enable", multiple=True, metavar="VALIDATOR", help="Run a validator that is off by default (repeatable)."
)
@click.option(
    "--apply",
    is_flag=True,
    help="Write the new accepted.jsonl, rejected.jsonl and validation.json (without it nothing is written).",
)
def validate_command(
    project: Path,
    run_name: str,
    candidates: Path | None,
    settings: tuple[str, ...],
    disable: tuple[str, ...],
    enable: tuple[str, ...],
    apply: bool,
) -> None:
    """Run the validation cascade over a run's candidates and show what changes; only --apply
    writes anything. Validators that ask the teacher (agreement) are answered from the cache; what
    is not cached is a real call."""
    from rich.progress import Progress

    from germinate.project.load import load_project
    from germinate.render import changes_line, validation_table, validator_calls_line
    from germinate.run_folder import RunFolder
    from germinate.validate.replay import (
        compare,
        load_candidates,
        parse_overrides,
        previous_decisions,
        run_cascade,
        save,
    )
    from germinate.validate.review import load_reviews

    loaded = load_project(project)
    run = RunFolder.of(project, run_name, loaded.limits)
    rows = load_candidates(run, candidates, loaded)
    overrides = parse_overrides(settings, disable, enable)
    # a person's decisions are about this run's own candidates, not another file's
    reviews = load_reviews(run) if candidates is None else {}
    with Progress(transient=True) as progress:
        bar = progress.add_task("validating", total=len(rows))
        outcome = run_cascade(loaded, rows, overrides, progress=lambda: progress.advance(bar), reviews=reviews)
    out = console()
    out.print(
        validation_table(
            outcome.tally.as_dict(), title=f"validation of {len(rows)} candidates ({' -> '.join(outcome.order)})"
        )
    )
    calls = validator_calls_line(outcome.teacher_calls)
    if calls:
        out.print(calls, soft_wrap=True, markup=False, highlight=False)
    before = previous_decisions(run)
    if before:
        out.print(changes_line(compare(before, outcome.decisions)))
    if apply:
        save(run, outcome)
        out.print(f"wrote {run.accepted}, {run.rejected} and {run.validation_summary}", soft_wrap=True)
    else:
        out.print("nothing written; add --apply to keep these decisions")
