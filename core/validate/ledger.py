"""Running the cascade over a stream of candidates, and the evidence it leaves: every rejection
in the ledger with its validator, reason, score, nearest anchor and the teacher's raw text, and a
per-validator summary. A person's decisions (germinate.validate.review) are applied here, so every
path that rebuilds accepted.jsonl and rejected.jsonl (generation resume, ``validate``,
``review``) honours them the same way."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from germinate.validate.base import Verdict
from germinate.validate.cascade import Cascade, Decision
from germinate.validate.review import REVIEW, Review, reviewed_record

PARSE = "parse"  # the pseudo-validator for teacher text that could not be parsed into a record
TEACHER = "teacher"  # the pseudo-validator for candidates whose teacher call failed


def rejection_row(candidate: dict[str, Any], decision: Decision) -> dict[str, Any]:
    verdict = decision.verdict
    detail = dict(verdict.detail) if verdict else {}
    return {
        "id": candidate.get("id"),
        "validator": decision.validator,
        "reason": verdict.reason if verdict else "",
        "score": verdict.score if verdict else None,
        "scores": decision.scores,
        "nearest_anchor": detail.pop("nearest_anchor", None),
        "detail": detail,
        "raw": candidate.get("raw"),
        "record": candidate.get("record"),
        "theta": candidate.get("theta"),
        **({"review": candidate["review"]} if "review" in candidate else {}),
    }


def accepted_row(candidate: dict[str, Any], decision: Decision) -> dict[str, Any]:
    row = {k: v for k, v in candidate.items() if k not in ("raw", "error")}
    row.setdefault("source", "synthetic")
    row["scores"] = decision.scores
    return row


def seed_rows(seeds: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": f"seed-{i:04d}", "source": "seed", "record": seed} for i, seed in enumerate(seeds, 1)]


def judge_candidate(cascade: Cascade, candidate: dict[str, Any]) -> Decision:
    """A candidate without a record was rejected before the cascade: by the teacher call failing,
    or by its text not parsing."""
    if candidate.get("record") is None:
        error = candidate.get("error") or "unparseable teacher output"
        return Decision(False, TEACHER if error.startswith(TEACHER) else PARSE, Verdict.reject(error))
    return cascade.judge(candidate["record"])


@attrs.define
class Tally:
    """Counts of decisions, per validator."""

    order: list[str]
    candidates: int = 0
    accepted: int = 0
    rejected: Counter = attrs.field(factory=Counter)
    #: a person's decisions applied, by action
    reviewed: Counter = attrs.field(factory=Counter)

    def add(self, decision: Decision, review: Review | None = None) -> None:
        self.candidates += 1
        if decision.accepted:
            self.accepted += 1
        else:
            self.rejected[decision.validator] += 1
        if review is not None:
            self.reviewed[review.action] += 1

    def as_dict(self) -> dict[str, Any]:
        share = lambda n: round(n / self.candidates, 4) if self.candidates else 0.0  # noqa: E731
        names = [n for n in (TEACHER, PARSE, REVIEW) if self.rejected.get(n)] + self.order
        summary = {
            "candidates": self.candidates,
            "accepted": self.accepted,
            "accepted_share": share(self.accepted),
            "rejected": {
                name: {"count": self.rejected.get(name, 0), "share": share(self.rejected.get(name, 0))}
                for name in names
            },
        }
        if self.reviewed:
            summary["reviewed"] = dict(sorted(self.reviewed.items()))
        return summary


def judge_reviewed(cascade: Cascade, candidate: dict[str, Any], review: Review) -> tuple[Decision, str | None]:
    """A person's decision, and the validator it overrode (None: the cascade agreed or was not
    asked). An accepted record still passes through the cascade, for its scores and so that the
    novelty anchors grow with it like with any accepted record."""
    if review.action == "reject":
        reason = "rejected by review" + (f": {review.note}" if review.note else "")
        return Decision(False, REVIEW, Verdict.reject(reason)), None
    record = reviewed_record(candidate, review)
    if record is None:  # an unparsed candidate accepted without a fix: nothing to accept
        return judge_candidate(cascade, candidate), None
    automatic = cascade.judge(record)
    if not automatic.accepted:
        cascade.learn(record)
    return Decision(True, None, None, automatic.scores), automatic.validator


@attrs.define
class Ledger:
    """Decisions over a stream of candidates: the accepted and rejected rows and their tally.
    A candidate a person reviewed (``reviews``, by id) gets that decision instead of the
    cascade's."""

    tally: Tally
    accepted: list[dict[str, Any]] = attrs.field(factory=list)
    rejected: list[dict[str, Any]] = attrs.field(factory=list)
    decisions: dict[str, tuple[bool, str | None]] = attrs.field(factory=dict)
    reviews: Mapping[str, Review] = attrs.field(factory=dict)

    def judge_all(
        self, cascade: Cascade, candidates: list[dict[str, Any]], chunk: int = 64, progress: Any = None
    ) -> None:
        """Judge candidates in order, telling the cascade ``chunk`` at a time what comes next, so
        validators that ask a model ask for a chunk at once."""
        for start in range(0, len(candidates), chunk):
            part = candidates[start : start + chunk]
            cascade.prefetch([c["record"] for c in part if c.get("record") is not None])
            for candidate in part:
                self.judge(cascade, candidate)
                if progress is not None:
                    progress()

    def judge(self, cascade: Cascade, candidate: dict[str, Any]) -> Decision:
        review = self.reviews.get(candidate.get("id") or "")
        if review is None:
            decision = judge_candidate(cascade, candidate)
        else:
            decision, overrode = judge_reviewed(cascade, candidate, review)
            original = candidate.get("record")
            candidate = {**candidate, "record": reviewed_record(candidate, review)}
            candidate["review"] = {
                **review.summary(),
                **({"overrode": overrode} if overrode else {}),
                **({"original_record": original} if review.action == "fix" else {}),
            }
        self.tally.add(decision, review)
        self.decisions[candidate["id"]] = (decision.accepted, decision.validator)
        if decision.accepted:
            self.accepted.append(accepted_row(candidate, decision))
        else:
            self.rejected.append(rejection_row(candidate, decision))
        return decision
