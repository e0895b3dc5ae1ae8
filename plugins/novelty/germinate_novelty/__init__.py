"""Novelty validator: φ(x) = max ROUGE-L F of x against the anchors (the seeds and every example
accepted so far); keep τ_min ≤ φ ≤ τ_max. Too high is a near-copy, too low has drifted off-task.
Scores equal rouge-score's ``rougeL`` F-measure exactly (see lcs_index)."""

from __future__ import annotations

from germinate import Check, Validator, Verdict, hookimpl


def record_text(task_type, record: dict) -> str:
    return "\n".join(task_type.text_fields(record).values())


class NoveltyCheck(Check):
    def __init__(self, tau_min: float, tau_max: float, task_type) -> None:
        from .lcs_index import AnchorIndex, tokens  # numpy: only when a cascade is built

        self.tokens = tokens
        self.tau_min, self.tau_max, self.task_type = tau_min, tau_max, task_type
        self.index = AnchorIndex()
        self.anchors: list[str] = []

    def add_anchor(self, record: dict) -> None:
        text = record_text(self.task_type, record)
        self.index.add(self.tokens(text))
        self.anchors.append(text)

    def check(self, record: dict) -> Verdict:
        score, nearest = self.index.best(self.tokens(record_text(self.task_type, record)))
        anchor = self.anchors[nearest] if nearest is not None else None
        if score > self.tau_max:
            return Verdict.reject(
                f"near-copy: ROUGE-L {score:.3f} > τ_max {self.tau_max:g}", score, nearest_anchor=anchor
            )
        if score < self.tau_min:
            return Verdict.reject(
                f"off-task: ROUGE-L {score:.3f} < τ_min {self.tau_min:g}", score, nearest_anchor=anchor
            )
        return Verdict.accept(score, nearest_anchor=anchor)

    def accepted(self, record: dict) -> None:
        self.add_anchor(record)


class Novelty(Validator):
    name = "novelty"
    order = 90
    summary = "Keep τ_min ≤ max ROUGE-L F against seeds ∪ accepted ≤ τ_max (defaults 0.1 / 0.9)."
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "tau_min": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.1},
            "tau_max": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.9},
        },
    }

    def check_settings(self, settings, seeds, task_type):
        if settings["tau_min"] > settings["tau_max"]:
            yield (
                ("tau_min",),
                f"{settings['tau_min']:g} is above tau_max ({settings['tau_max']:g}): nothing could pass",
            )

    def prepare(self, seeds, settings, task):
        check = NoveltyCheck(settings.get("tau_min", 0.1), settings.get("tau_max", 0.9), task.task_type)
        for seed in seeds:
            check.add_anchor(seed)
        return check


@hookimpl
def register_validators(register):
    register(Novelty())
