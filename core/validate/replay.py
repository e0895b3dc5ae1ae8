"""Re-running the validation cascade over a run's candidates without any teacher call, e.g. with
changed thresholds, and saying what would change."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import attrs

from germinate.jsonl import write_jsonl
from germinate.problems import GerminateError, Problem, located
from germinate.project.load import Project
from germinate.project.yamlfile import parse_value
from germinate.run_folder import RunFolder, write_json
from germinate.teachers.engines import Engines
from germinate.validate.candidates import read_candidates, run_candidates
from germinate.validate.cascade import build_cascade
from germinate.validate.engines import ValidatorCalls
from germinate.validate.ledger import Ledger, Tally, seed_rows
from germinate.validate.review import Review


def parse_overrides(
    settings: tuple[str, ...], disabled: tuple[str, ...], enabled: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``--set novelty.tau_max=0.8`` and ``--disable length`` as a validation override mapping."""
    out: dict[str, Any] = {}
    for item in settings:
        key, sep, value = item.partition("=")
        name, dot, option = key.partition(".")
        if not sep or not dot or not name or not option:
            raise GerminateError(
                Problem("--set", None, item, "expected VALIDATOR.OPTION=VALUE, e.g. novelty.tau_max=0.85")
            )
        try:
            parsed = parse_value(value, "--set")
        except GerminateError as exc:
            found = located(exc.problems)
            if any(p.field != "yaml" for p in found):  # a value YAML reads but germinate refuses
                raise GerminateError(Problem("--set", None, item, found[0].message)) from None
            parsed = value  # not YAML at all: the text itself
        out.setdefault(name, {})[option] = parsed
    for name in disabled:
        out[name] = False
    for name in enabled:
        out.setdefault(name, True)
    return out


def load_candidates(run: RunFolder, source: Path | None, project: Project) -> list[dict[str, Any]]:
    """The run's candidates, or those of ``source`` (``--candidates``), every row checked for
    shape before any validator sees it."""
    if source is None:
        rows = run_candidates(run, project.task_type)
        if not rows:
            raise GerminateError(
                Problem(
                    str(run.candidates),
                    None,
                    None,
                    "no candidates yet; run `germinate generate` first, or pass --candidates FILE",
                )
            )
        return rows
    return read_candidates(
        source,
        str(source),
        project.task_type,
        limit=project.limits.bytes("records_mb"),
        setting="limits.records_mb",
        in_run=False,
    )


@attrs.define
class Outcome:
    accepted: list[dict[str, Any]]
    rejected: list[dict[str, Any]]
    tally: Tally
    decisions: dict[str, tuple[bool, str | None]]
    order: list[str]
    settings: dict[str, Any]
    #: what validators asked the teacher (the agreement validator): answers from the cache, and
    #: those that were not there and became real calls
    teacher_calls: ValidatorCalls = attrs.field(factory=ValidatorCalls)


def run_cascade(
    project: Project,
    candidates: list[dict[str, Any]],
    overrides: dict[str, Any] | None = None,
    progress: Any = None,
    reviews: dict[str, Review] | None = None,
) -> Outcome:
    """The cascade over ``candidates``, a person's decisions (``reviews``, by candidate id) first. A
    validator that asks the teacher gets an engine made from the project's teacher settings, cache
    on: generation's answers are replayed from the cache."""
    seeds = [r.data for r in project.seeds]
    engines = Engines(project)
    try:
        cascade = build_cascade(project.task_type, project.config, seeds, overrides, engines=engines)
        ledger = Ledger(Tally(cascade.names), accepted=seed_rows(seeds), reviews=reviews or {})
        ledger.judge_all(cascade, candidates, progress=progress)
        calls = ValidatorCalls.of(engines)
    finally:
        engines.close()
    settings = {step.name: step.settings for step in cascade.steps}
    return Outcome(ledger.accepted, ledger.rejected, ledger.tally, ledger.decisions, cascade.names, settings, calls)


def previous_decisions(run: RunFolder) -> dict[str, tuple[bool, str | None]]:
    decisions: dict[str, tuple[bool, str | None]] = {}
    for row in run.rows(run.accepted):
        if row.get("source") != "seed":
            decisions[row["id"]] = (True, None)
    for row in run.rows(run.rejected):
        decisions[row["id"]] = (False, row.get("validator"))
    return decisions


def compare(before: dict[str, tuple[bool, str | None]], after: dict[str, tuple[bool, str | None]]) -> dict[str, Any]:
    newly_accepted: Counter = Counter()
    newly_rejected: Counter = Counter()
    moved: Counter = Counter()
    for cid, (ok, validator) in after.items():
        if cid not in before:
            continue
        was_ok, was_validator = before[cid]
        if ok and not was_ok:
            newly_accepted[was_validator] += 1
        elif was_ok and not ok:
            newly_rejected[validator] += 1
        elif not ok and validator != was_validator:
            moved[f"{was_validator} -> {validator}"] += 1
    return {
        "newly_accepted": dict(newly_accepted),
        "newly_rejected": dict(newly_rejected),
        "rejected_by_another_validator": dict(moved),
        "unchanged": sum(1 for cid in after if cid in before and after[cid][0] == before[cid][0]),
    }


def save(run: RunFolder, outcome: Outcome) -> None:
    run.ensure()
    write_jsonl(run.accepted, outcome.accepted)
    write_jsonl(run.rejected, outcome.rejected)
    write_json(
        run.validation_summary, {"order": outcome.order, "settings": outcome.settings, **outcome.tally.as_dict()}
    )


def rebuild(project: Project, run: RunFolder) -> tuple[Outcome, dict[str, Any]]:
    """accepted.jsonl, rejected.jsonl and validation.json rebuilt from the run's candidates the
    way a generation resume rebuilds them (task.yaml's cascade, a person's decisions first), and
    what changed against the files as they were."""
    from germinate.validate.review import load_reviews

    before = previous_decisions(run)
    outcome = run_cascade(project, load_candidates(run, None, project), reviews=load_reviews(run))
    save(run, outcome)
    return outcome, compare(before, outcome.decisions)
