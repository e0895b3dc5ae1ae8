"""Grounding validator: what a record claims its source text says must be in that text. Each task
type names its claims (``TaskType.grounding``): an extraction's string values against its input, an
open-book answer against its context.

A value is supported when it occurs in the source after normalisation (case, punctuation,
spacing, thousands separators), or, for an abstractive value (a free-text answer) of at least
``abstractive_tokens`` words, when at least ``min_overlap`` of its words are in the source.
Placeholders ("null", "N/A", "unknown"...) are not values. The seeds say which fields are extracted
at all: a field whose seed values are mostly unsupported (a role chosen from a list, a redacted
rewrite of the input) is derived and left alone, as is one the output schema marks
``"x-derived": true``.
"""

from __future__ import annotations

from collections import defaultdict

from germinate import PLACEHOLDERS, Check, Grounded, Validator, Verdict, hookimpl, normalise, occurs, token_recall


class Support:
    """Whether a value is supported by its source, and how much of it is."""

    def __init__(self, min_overlap: float, abstractive_tokens: int) -> None:
        self.min_overlap, self.abstractive_tokens = min_overlap, abstractive_tokens

    def overlap(self, item: Grounded, source: str) -> float | None:
        """1.0 when the value occurs in ``source``; else, for a long abstractive value, the share
        of its words in the source; else None (an extracted or short value must occur)."""
        if occurs(item.value, source):
            return 1.0
        if item.abstractive and len(normalise(item.value).split()) >= self.abstractive_tokens:
            return token_recall(item.value, source)
        return None

    def supported(self, item: Grounded, source: str) -> bool:
        share = self.overlap(item, source)
        return share is not None and share >= self.min_overlap


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class GroundingCheck(Check):
    def __init__(self, task, support: Support, derived: set[str], seed_values: set[tuple[str, str]], placeholders):
        self.task, self.support = task, support
        #: fields whose seed values are mostly not in their text: chosen or rewritten, not extracted
        self.derived = derived
        self.seed_values, self.placeholders = seed_values, placeholders

    def check(self, record: dict) -> Verdict:
        grounding = self.task.task_type.grounding(record, self.task.config)
        if grounding is None:
            return Verdict.accept()
        for item in grounding.values:
            key = normalise(item.value)
            if (item.field, key) in self.seed_values:
                continue  # a seed gives this very value in this field without its text holding it
            if self.placeholders and key in PLACEHOLDERS:
                return Verdict.reject(
                    f"{item.path}: {item.value!r} is a placeholder, not a value", field=item.path, value=item.value
                )
            if item.field in self.derived and not item.forced:
                continue
            share = self.support.overlap(item, grounding.source)
            if share is not None and share >= self.support.min_overlap:
                continue
            if share is None:
                reason = f"{item.path}: {_shorten(item.value)!r} does not occur in the {grounding.source_field}"
            else:
                reason = (
                    f"{item.path}: {share:.0%} of its words are in the {grounding.source_field} "
                    f"(at least {self.support.min_overlap:.0%} needed): {_shorten(item.value)!r}"
                )
            return Verdict.reject(reason, share, field=item.path, value=item.value)
        return Verdict.accept()


class GroundingValidator(Validator):
    name = "grounding"
    order = 40
    summary = (
        "Extracted values and open-book answers must be in their source text (after normalisation, "
        "or by word overlap for long answers); placeholders like 'null' or 'N/A' are not values."
    )
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "min_overlap": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "default": 0.5,
                "description": "share of a long value's words the source must hold when it does not occur verbatim",
            },
            "abstractive_tokens": {
                "type": "integer",
                "minimum": 1,
                "default": 4,
                "description": "values of at least this many words may paraphrase the source; shorter ones must occur",
            },
            "seed_share": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "default": 0.8,
                "description": "a field is checked when at least this share of the seeds' values for it are "
                "supported; otherwise it is taken as derived",
            },
            "placeholders": {
                "type": "boolean",
                "default": True,
                "description": "reject placeholder strings (null, N/A, none, unknown...) a seed does not use",
            },
        },
    }

    def prepare(self, seeds, settings, task):
        support = Support(settings.get("min_overlap", 0.5), settings.get("abstractive_tokens", 4))
        tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        seed_values: set[tuple[str, str]] = set()
        for seed in seeds:
            grounding = task.task_type.grounding(seed, task.config)
            for item in grounding.values if grounding else ():
                supported = support.supported(item, grounding.source)
                if not supported:  # the task gives this value without the text saying it: so may a candidate
                    seed_values.add((item.field, normalise(item.value)))
                tally[item.field][0] += supported
                tally[item.field][1] += 1
        share = settings.get("seed_share", 0.8)
        # a field no seed fills is checked: nothing shows it is derived
        derived = {field for field, (good, total) in tally.items() if good < share * total}
        return GroundingCheck(task, support, derived, seed_values, settings.get("placeholders", True))


@hookimpl
def register_validators(register):
    register(GroundingValidator())
