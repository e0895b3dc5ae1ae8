"""Human review that lasts: a person's decisions about candidates, kept in the run's review file
(``reviews.jsonl``, one decision per line, keyed by candidate id; a later line for the same id
replaces an earlier one) and honoured by the :class:`~germinate.validate.ledger.Ledger` whenever
accepted.jsonl and rejected.jsonl are rebuilt: on generation resume, ``germinate validate`` and
``germinate review`` alike.

Decisions:

* ``reject``: the candidate is rejected (pseudo-validator ``review``), whatever the cascade says;
* ``accept``: the candidate is accepted, whatever the cascade says;
* ``fix``: the candidate's record is replaced by the person's (a corrected label or output) and
  accepted;
* ``clear``: an earlier decision is withdrawn; the cascade decides again.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import attrs

from germinate.jsonl import append_jsonl, read_log_records
from germinate.problems import GerminateError, Problem
from germinate.run_folder import RunFolder

#: the pseudo-validator of candidates a person rejected
REVIEW = "review"
ACTIONS = ("reject", "accept", "fix", "clear")


@attrs.frozen
class Review:
    """One person's decision about one candidate."""

    id: str
    action: str
    #: the corrected record (``fix`` only)
    record: dict[str, Any] | None = None
    note: str = ""

    def as_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {"id": self.id, "action": self.action}
        if self.record is not None:
            row["record"] = self.record
        if self.note:
            row["note"] = self.note
        row["at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return row

    def summary(self) -> dict[str, Any]:
        """What accepted.jsonl / rejected.jsonl carry about the decision."""
        return {"action": self.action, **({"note": self.note} if self.note else {})}


def _problem(display: str, line: int, field: str | None, message: str) -> Problem:
    return Problem(display, line, field, message)


def load_reviews(run: RunFolder) -> dict[str, Review]:
    """The decision in force per candidate id (``clear`` leaves none). A torn last line (a kill
    while appending) is left out; any other bad line is an error naming it."""
    path = run.reviews
    display = str(path)
    # bounded like every run file; a torn tail (a kill while appending) is left out
    records = read_log_records(path, limit=run.limits.bytes("run_files_mb"), setting="limits.run_files_mb")
    problems: list[Problem] = []
    reviews: dict[str, Review] = {}
    for record in records:
        row = record.data
        action, cid, fixed = row.get("action"), row.get("id"), row.get("record")
        if not isinstance(cid, str) or not cid:
            problems.append(_problem(display, record.line, "id", "expected a candidate id"))
        elif action not in ACTIONS:
            problems.append(_problem(display, record.line, "action", f"{action!r} is not one of {', '.join(ACTIONS)}"))
        elif action == "fix" and not isinstance(fixed, dict):
            problems.append(_problem(display, record.line, "record", "a fix needs the corrected record (an object)"))
        elif action == "clear":
            reviews.pop(cid, None)
        else:
            note = row.get("note")
            reviews[cid] = Review(
                cid, action, fixed if action == "fix" else None, note if isinstance(note, str) else ""
            )
    if problems:
        raise GerminateError(problems)
    return reviews


def record_reviews(run: RunFolder, reviews: Iterable[Review]) -> None:
    """Append decisions to the review file, durably."""
    run.ensure()
    append_jsonl(run.reviews, [review.as_row() for review in reviews])


def reviewed_record(candidate: Mapping[str, Any], review: Review | None) -> dict[str, Any] | None:
    """The record a decision leaves a candidate with: the fix, else the candidate's own."""
    if review is not None and review.action == "fix":
        return review.record
    return candidate.get("record")


# -- deciding ----------------------------------------------------------------------------------------


def parse_value(text: str) -> Any:
    """A value typed on the command line: JSON when it parses, else the text itself (a label)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def checked_record(task_type: Any, config: dict[str, Any], record: Any, where: str, cid: str) -> dict[str, Any]:
    """``record`` if it is a valid record of the task (schema and the task type's own checks),
    else every problem as ``where: cid.field: message``."""
    from germinate.project.errors import field_name, schema_problems

    if not isinstance(record, dict):
        raise GerminateError(Problem(where, None, cid, "expected a JSON object (a whole record)"))
    found = [(field_name(path), message) for path, message in schema_problems(task_type.record_schema, record)]
    if not found:
        found = [(field, message) for field, message in task_type.check_record(record, config)]
    if found:
        raise GerminateError([Problem(where, None, f"{cid}.{field}" if field else cid, msg) for field, msg in found])
    return record


def decide(
    task_type: Any,
    config: dict[str, Any],
    candidates: Mapping[str, dict[str, Any]],
    *,
    reject: Iterable[str] = (),
    accept: Iterable[str] = (),
    set_output: Iterable[tuple[str, str]] = (),
    set_record: Iterable[tuple[str, str]] = (),
    clear: Iterable[str] = (),
    note: str = "",
) -> list[Review]:
    """The decisions the command line asks for, each checked: the id names one of the run's
    candidates, a fixed record is a valid record, an accepted candidate has a record. Every
    problem is reported at once."""
    problems: list[Problem] = []
    out: list[Review] = []

    def known(option: str, cid: str) -> dict[str, Any] | None:
        if cid not in candidates:
            problems.append(Problem(option, None, cid, "no candidate with this id in candidates.jsonl"))
            return None
        return candidates[cid]

    def attempt(option: str, cid: str, make: Any) -> None:
        candidate = known(option, cid)
        if candidate is None:
            return
        try:
            out.append(make(candidate))
        except GerminateError as exc:
            problems.extend(p if isinstance(p, Problem) else Problem(option, None, cid, str(p)) for p in exc.problems)

    def accepted(candidate: dict[str, Any]) -> Review:
        if candidate.get("record") is None:
            raise GerminateError(
                Problem(
                    "--accept",
                    None,
                    candidate["id"],
                    "has no record (the teacher's text did not parse); use --set-record",
                )
            )
        return Review(candidate["id"], "accept", note=note)

    def output_fixed(value: str) -> Any:
        def make(candidate: dict[str, Any]) -> Review:
            cid, record = candidate["id"], candidate.get("record")
            if record is None:
                raise GerminateError(
                    Problem(
                        "--set-output", None, cid, "has no record (the teacher's text did not parse); use --set-record"
                    )
                )
            fixed = {**record, task_type.output_field: parse_value(value)}
            return Review(cid, "fix", checked_record(task_type, config, fixed, "--set-output", cid), note)

        return make

    def record_fixed(value: str) -> Any:
        def make(candidate: dict[str, Any]) -> Review:
            cid = candidate["id"]
            try:
                fixed = json.loads(value)
            except json.JSONDecodeError as exc:
                raise GerminateError(Problem("--set-record", None, cid, f"not JSON: {exc.msg}")) from None
            return Review(cid, "fix", checked_record(task_type, config, fixed, "--set-record", cid), note)

        return make

    for cid in reject:
        attempt("--reject", cid, lambda c: Review(c["id"], "reject", note=note))
    for cid in accept:
        attempt("--accept", cid, accepted)
    for cid, value in set_output:
        attempt("--set-output", cid, output_fixed(value))
    for cid, value in set_record:
        attempt("--set-record", cid, record_fixed(value))
    for cid in clear:
        attempt("--clear", cid, lambda c: Review(c["id"], "clear"))
    if problems:
        raise GerminateError(problems)
    return out


# -- listing -----------------------------------------------------------------------------------------


@attrs.frozen
class Row:
    """One candidate as ``germinate review`` lists it: where it stands now and why."""

    id: str
    status: str  # accepted | rejected
    validator: str | None
    reason: str
    scores: dict[str, float]
    labels: dict[str, str]
    record: dict[str, Any] | None
    raw: str | None
    review: dict[str, Any] | None

    def score(self, by: str | None) -> float | None:
        """The score of validator ``by``; by default the rejecting validator's, or for an accepted
        candidate the last score the cascade gave it (the novelty filter's φ)."""
        if by is not None:
            return self.scores.get(by)
        if self.validator is not None and self.validator in self.scores:
            return self.scores[self.validator]
        return next(reversed(self.scores.values()), None) if self.scores else None

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def listing(run: RunFolder, task_type: Any, config: dict[str, Any]) -> list[Row]:
    """Every candidate of the run's current accepted.jsonl and rejected.jsonl, in id order."""
    own = [p.name for p in task_type.own_properties(config)]

    def labels(row: dict[str, Any]) -> dict[str, str]:
        record, theta = row.get("record"), row.get("theta") or {}
        values = {k: str(theta[k]) for k in own if k in theta}
        if isinstance(record, dict):
            # a broken record (why it was rejected) may not give the task type its values
            with contextlib.suppress(KeyError, TypeError, AttributeError):
                values.update({k: str(v) for k, v in task_type.seed_values(record, config).items()})
        return values

    rows = []
    for row in run.rows(run.accepted):
        if row.get("source") == "seed":
            continue
        rows.append(
            Row(
                row["id"],
                "accepted",
                None,
                "",
                row.get("scores") or {},
                labels(row),
                row.get("record"),
                None,
                row.get("review"),
            )
        )
    for row in run.rows(run.rejected):
        scores = dict(row.get("scores") or {})
        if row.get("score") is not None:
            scores.setdefault(row["validator"], row["score"])
        rows.append(
            Row(
                row["id"],
                "rejected",
                row.get("validator"),
                row.get("reason") or "",
                scores,
                labels(row),
                row.get("record"),
                row.get("raw"),
                row.get("review"),
            )
        )
    return sorted(rows, key=lambda r: r.id)


def select(
    rows: Iterable[Row],
    *,
    status: str = "all",
    validator: str | None = None,
    label: str | None = None,
    min_score: float | None = None,
    max_score: float | None = None,
    score_by: str | None = None,
    reviewed: bool | None = None,
) -> list[Row]:
    """The rows that pass every filter given (None: no filter)."""
    out = []
    for row in rows:
        if status != "all" and row.status != status:
            continue
        if validator is not None and row.validator != validator:
            continue
        if label is not None and label not in row.labels.values():
            continue
        if reviewed is not None and (row.review is not None) != reviewed:
            continue
        if min_score is not None or max_score is not None:
            score = row.score(score_by)
            if score is None or (min_score is not None and score < min_score):
                continue
            if max_score is not None and score > max_score:
                continue
        out.append(row)
    return out
