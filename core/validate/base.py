"""The base classes a validation-cascade step implements, and the verdict it returns."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class Verdict:
    accepted: bool
    reason: str = ""
    score: float | None = None
    #: extra evidence for the rejection ledger (nearest anchor, field, thresholds...)
    detail: dict[str, Any] = attrs.field(factory=dict)

    @classmethod
    def accept(cls, score: float | None = None, **detail: Any) -> "Verdict":
        return cls(True, "", score, detail)

    @classmethod
    def reject(cls, reason: str, score: float | None = None, **detail: Any) -> "Verdict":
        return cls(False, reason, score, detail)


class Check:
    """A validator prepared for one run: judges candidates, learns from accepted ones."""

    def check(self, record: dict) -> Verdict:
        raise NotImplementedError

    def accepted(self, record: dict) -> None:
        """Called once a record passed the whole cascade (the novelty anchors grow here)."""


class Validator:
    #: the name used in task.yaml's ``validation`` section
    name: str = ""
    #: default position in the cascade; lower runs first, so cheap checks come first
    order: int = 100
    summary: str = ""
    #: JSON Schema of this validator's settings under ``validation.<name>`` in task.yaml
    config_schema: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}

    def prepare(self, seeds: list[dict], settings: dict, task: Any) -> Check:
        """Build the run's Check from the seeds, this validator's settings and the task
        (``task.task_type`` and ``task.config``)."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "order": self.order, "summary": self.summary,
                "config_schema": self.config_schema}
