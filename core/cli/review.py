"""``germinate review``: list a run's candidates with filters, and record a person's decisions
(reject, accept, fix the output or the whole record) that every later rebuild honours."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from germinate.cli.options import console, project_argument, run_option


@click.command("review")
@project_argument
@run_option
@click.option(
    "--status", type=click.Choice(["all", "accepted", "rejected"]), default="all", show_default=True, help="Filter."
)
@click.option("--validator", help="Only candidates this validator rejected (also: review, parse, teacher).")
@click.option("--label", help="Only candidates with this label (or tool: the task type's own property values).")
@click.option("--min-score", type=float, help="Only candidates whose score is at least this.")
@click.option("--max-score", type=float, help="Only candidates whose score is at most this.")
@click.option(
    "--score-by",
    metavar="VALIDATOR",
    help="Whose score the filters and the listing use (default: the rejecting validator's; for an "
    "accepted candidate the last one the cascade gave it, novelty's φ).",
)
@click.option("--reviewed/--unreviewed", default=None, help="Only candidates a person has (or has not) decided.")
@click.option("--limit", type=int, default=50, show_default=True, help="List at most this many (0: all).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per candidate instead of a table.")
@click.option("--reject", multiple=True, metavar="ID", help="Reject this candidate (repeatable).")
@click.option("--accept", multiple=True, metavar="ID", help="Accept this candidate whatever the cascade says.")
@click.option(
    "--set-output",
    nargs=2,
    multiple=True,
    metavar="ID VALUE",
    help="Correct the output (a label, or JSON) and accept the candidate.",
)
@click.option("--set-record", nargs=2, multiple=True, metavar="ID JSON", help="Replace the whole record and accept it.")
@click.option("--clear", multiple=True, metavar="ID", help="Withdraw the decision about this candidate.")
@click.option("--note", default="", help="Why: kept with the decisions of this command.")
@click.option("--interactive", "-i", is_flag=True, help="Decide on each listed candidate in turn.")
def review_command(
    project: Path,
    run_name: str,
    status: str,
    validator: str | None,
    label: str | None,
    min_score: float | None,
    max_score: float | None,
    score_by: str | None,
    reviewed: bool | None,
    limit: int,
    as_json: bool,
    reject: tuple[str, ...],
    accept: tuple[str, ...],
    set_output: tuple[tuple[str, str], ...],
    set_record: tuple[tuple[str, str], ...],
    clear: tuple[str, ...],
    note: str,
    interactive: bool,
) -> None:
    """List a run's candidates and record decisions about them.

    Decisions live in runs/<run>/reviews.jsonl, keyed by candidate id; accepted.jsonl and
    rejected.jsonl are rebuilt right away, and every later rebuild (generate resuming, validate)
    honours them.
    """
    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder
    from germinate.validate.replay import load_candidates
    from germinate.validate.review import decide, listing, record_reviews, select

    loaded = load_project(project)
    run = RunFolder.of(project, run_name, loaded.limits)
    candidates = {c["id"]: c for c in load_candidates(run, None, loaded)}
    if reject or accept or set_output or set_record or clear:
        reviews = decide(
            loaded.task_type,
            loaded.config,
            candidates,
            reject=reject,
            accept=accept,
            set_output=set_output,
            set_record=set_record,
            clear=clear,
            note=note,
        )
        record_reviews(run, reviews)
        click.echo(f"recorded {len(reviews)} decision(s) in {run.reviews}")
        _rebuild(loaded, run)
        return
    if not run.accepted.exists():
        _rebuild(loaded, run)  # candidates but no ledger yet (e.g. copied in): make it first
    rows = select(
        listing(run, loaded.task_type, loaded.config),
        status=status,
        validator=validator,
        label=label,
        min_score=min_score,
        max_score=max_score,
        score_by=score_by,
        reviewed=reviewed,
    )
    shown = rows[:limit] if limit > 0 else rows
    if interactive:
        _interactive(loaded, run, candidates, shown, note)
        return
    if as_json:
        for row in shown:
            click.echo(json.dumps(row.as_dict(), ensure_ascii=False))
        return
    from germinate.render import review_table

    out = console()
    title = f"{len(shown)} of {len(rows)} matching candidates in {run.path}"
    out.print(review_table(shown, loaded.task_type.display, score_by, title=title))


def _rebuild(loaded: Any, run: Any) -> None:
    from germinate.render import changes_line, validation_table
    from germinate.validate.replay import rebuild

    outcome, change = rebuild(loaded, run)
    out = console()
    out.print(validation_table(outcome.tally.as_dict(), title=f"validation ({' -> '.join(outcome.order)})"))
    out.print(changes_line(change))
    out.print(f"wrote {run.accepted}, {run.rejected} and {run.validation_summary}", soft_wrap=True)


def _interactive(loaded: Any, run: Any, candidates: dict[str, Any], rows: list[Any], note: str) -> None:
    """One candidate at a time: accept, reject, correct its output, skip or quit. Each decision is
    written as it is made, so quitting (or Ctrl-C) keeps those already taken."""
    from germinate.problems import GerminateError
    from germinate.validate.review import decide, record_reviews

    task_type, config = loaded.task_type, loaded.config
    decided = 0
    for number, row in enumerate(rows, 1):
        click.echo(
            f"\n[{number}/{len(rows)}] {row.id}: {row.status}" + (f" by {row.validator}" if row.validator else "")
        )
        if row.reason:
            click.echo(f"  reason: {row.reason}")
        if row.record is not None:
            click.echo(json.dumps(row.record, ensure_ascii=False, indent=2))
        else:
            click.echo(f"  (unparsed) {row.raw}")
        choice = click.prompt(
            "[a]ccept, [r]eject, set [o]utput, [s]kip, [q]uit",
            type=click.Choice(["a", "r", "o", "s", "q"]),
            default="s",
            show_choices=False,
        )
        if choice == "q":
            break
        if choice == "s":
            continue
        try:
            if choice == "a":
                made = decide(task_type, config, candidates, accept=[row.id], note=note)
            elif choice == "r":
                made = decide(task_type, config, candidates, reject=[row.id], note=note)
            else:
                value = click.prompt(f"new {task_type.output_field} (a label, or JSON)")
                made = decide(task_type, config, candidates, set_output=[(row.id, value)], note=note)
        except GerminateError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            continue
        record_reviews(run, made)
        decided += len(made)
    click.echo(f"\nrecorded {decided} decision(s) in {run.reviews}")
    if decided:
        _rebuild(loaded, run)
