"""The one place that prints stage results for people: ``generate``, ``train``, ``run`` and
``bench`` all show a stage's result through these functions, so a summary looks the same
wherever it appears."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from germinate.evaluate.gate import GateResult
    from germinate.evaluate.harness import EvalResult
    from germinate.generate.loop import GenerationResult
    from germinate.student.train import TrainResult


def validation_table(summary: dict[str, Any], title: str = "validation") -> Table:
    """Rejections per validator and the accepted share (a tally's ``as_dict()``)."""
    from rich.table import Table

    table = Table("validator", "rejected", "share", title=title)
    for name, row in summary["rejected"].items():
        table.add_row(name, str(row["count"]), f"{row['share']:.1%}")
    table.add_row("[bold]accepted[/bold]", str(summary["accepted"]), f"{summary['accepted_share']:.1%}")
    return table


def validator_calls_line(calls: Any) -> str | None:
    """What validators asked the teacher during a replay (germinate.validate.engines.ValidatorCalls):
    answers from the cache, and those that were not cached and became real calls. None: nothing asked."""
    if not (calls.sent or calls.cached or calls.failed):
        return None
    line = f"validators asked the teacher {calls.sent + calls.cached + calls.failed} times: {calls.cached} answered from the cache"
    if calls.sent:
        cost = "cost unknown" if calls.cost is None else f"${calls.cost:.4f}"
        line += (
            f", {calls.sent} not in the cache and sent as real calls "
            f"({calls.input_tokens:,} + {calls.output_tokens:,} tokens, {cost})"
        )
    if calls.failed:
        line += f", {calls.failed} failed (those candidates are rejected; rerun to retry them)"
    return line


def coverage_table(coverage: dict[str, Any]) -> Table:
    from rich.table import Table

    table = Table("property", "value", "accepted", "share", "posterior", title="coverage of accepted examples")
    for name, values in coverage["properties"].items():
        for value, row in values.items():
            table.add_row(name, value, str(row["accepted"]), f"{row['share']:.1%}", f"{row['posterior']:.1%}")
    return table


def faults_line(faults: dict[str, int]) -> str:
    return f"teacher faults (retried): {json.dumps(faults, sort_keys=True)}"


def servers_lines(servers: dict[str, dict[str, Any]]) -> list[str]:
    """One line per teacher server: what it answered, its faults, how often it was benched."""
    lines = ["teacher servers:"]
    for name, row in servers.items():
        faults = sum(row["faults"].values())
        lines.append(
            f"  {name}: {row['answered']} answered of {row['attempts']} sent"
            + (f", {faults} faults {json.dumps(row['faults'], sort_keys=True)}" if faults else "")
            + (f", benched {row['benched']}x" if row["benched"] else "")
        )
    return lines


def warn(console: Console, line: str) -> None:
    """A line for the user's attention, on stderr (so output piped elsewhere still shows it)."""
    from rich.console import Console

    Console(stderr=True, no_color=console.no_color).print(
        line, style="yellow", soft_wrap=True, markup=False, highlight=False
    )


def generation(console: Console, result: GenerationResult, *, where: Path | None = None) -> None:
    """The validation table, teacher faults and why generation stopped early; for ``germinate
    generate`` (``where``: its run folder) also coverage, cost and the count accepted."""
    detail = where is not None
    console.print(validation_table(result.validation, title=f"validation ({' -> '.join(result.order)})"))
    if detail:
        console.print(coverage_table(result.coverage))
        if result.meter is not None:
            console.print(result.meter.table())
    if result.faults:
        console.print(faults_line(result.faults), soft_wrap=True, markup=False, highlight=False)
    for line in servers_lines(result.servers) if result.servers else ():
        console.print(line, soft_wrap=True, markup=False, highlight=False)
    if result.stopped:
        warn(console, result.stopped)
    if detail:
        console.print(
            f"{result.accepted}/{result.target} accepted in {where}", soft_wrap=True, markup=False, highlight=False
        )


def training(console: Console, result: TrainResult) -> None:
    losses = result.losses
    console.print(
        f"trained {result.examples} examples in {result.steps} steps"
        + (f" (resumed from {Path(result.resumed_from).name})" if result.resumed_from else "")
        + (f"; loss {losses[0]:.4f} -> {losses[-1]:.4f}" if losses else "")
        + (f"; held-out loss {result.eval_losses[-1]:.4f}" if result.eval_losses else ""),
        soft_wrap=True,
        markup=False,
        highlight=False,
    )
    console.print(
        f"adapter: {result.adapter}" + (f"\nmerged model: {result.merged}" if result.merged else ""),
        soft_wrap=True,
        markup=False,
        highlight=False,
    )


def _plain(console: Console, line: str) -> None:
    console.print(line, soft_wrap=True, markup=False, highlight=False)


def gate(console: Console, result: GateResult) -> None:
    """The teacher gate's verdict with its figure, then its worst mistakes."""
    from germinate.evaluate.gate import ADVICE, PROCEED
    from germinate.evaluate.report import mistake_lines

    style = "green" if result.verdict == PROCEED else "yellow" if result.verdict == "ITERATE" else "red"
    console.print(f"gate: {result.summary}", style=f"bold {style}", soft_wrap=True, markup=False, highlight=False)
    _plain(console, f"gate: {ADVICE[result.verdict]}")
    if result.mistakes:
        _plain(console, f"worst answers (of {result.examples}):")
        for row in result.mistakes:
            for line in mistake_lines(row):
                _plain(console, line)


def evaluation(console: Console, results: list[EvalResult], paths: dict[str, Path]) -> None:
    """The comparison table, each project's metrics per point, then where the report and the
    per-example predictions are."""
    from germinate.evaluate.report import judge_line, metrics_table, table

    for line in table(results):
        _plain(console, line)
    for result in results:
        _plain(console, "")
        _plain(console, f"{result.project} ({result.task_type}, {result.test_examples} test examples):")
        for line in metrics_table(result):
            _plain(console, line)
        judged = judge_line(result)
        if judged:
            _plain(console, judged)
    from germinate.run_folder import RunFolder

    where = ", ".join(str(RunFolder(Path(r.run_dir)).predictions) for r in results)
    console.print(
        f"report: {paths['md']} (also {paths['json'].name}, {paths['png'].name}); predictions: {where}",
        soft_wrap=True,
        markup=False,
        highlight=False,
    )


def changes_line(change: dict[str, Any]) -> str:
    """What a rebuild of accepted/rejected changed (germinate.validate.replay.compare's result)."""

    def counts(by: dict[str, int]) -> str:
        total = sum(by.values())
        return f"{total} ({', '.join(f'{k} {v}' for k, v in sorted(by.items()))})" if total else "0"

    return (
        f"against the recorded decisions: {counts(change['newly_accepted'])} newly accepted "
        f"(by who rejected them before), {counts(change['newly_rejected'])} newly rejected, "
        f"{change['unchanged']} unchanged"
    )


def review_table(rows: list[Any], display: Any, score_by: str | None = None, title: str = "candidates") -> Table:
    """``germinate review``'s listing: one candidate per row (germinate.validate.review.Row);
    ``display`` turns a record into one line of text."""
    from rich.table import Table

    table = Table("id", "status", "by", "score", "labels", "example", "review", title=title)
    for row in rows:
        score = row.score(score_by)
        text = display(row.record) if row.record is not None else f"(unparsed) {row.raw or ''}"
        text = " ".join(str(text).split())
        table.add_row(
            row.id,
            row.status,
            row.validator or "-",
            "-" if score is None else f"{score:.3f}",
            ", ".join(row.labels.values()) or "-",
            text if len(text) <= 100 else text[:99] + "…",
            (row.review or {}).get("action", "-"),
        )
    return table
