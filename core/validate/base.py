"""The base classes a validation-cascade step implements, and the verdict it returns."""

from __future__ import annotations

from collections.abc import Iterable
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
    def accept(cls, score: float | None = None, **detail: Any) -> Verdict:
        return cls(True, "", score, detail)

    @classmethod
    def reject(cls, reason: str, score: float | None = None, **detail: Any) -> Verdict:
        return cls(False, reason, score, detail)


class Check:
    """A validator prepared for one run: judges candidates, learns from accepted ones."""

    def check(self, record: dict) -> Verdict:
        raise NotImplementedError

    def accepted(self, record: dict) -> None:
        """Called once a record passed the whole cascade (the novelty anchors grow here)."""


@attrs.frozen
class TaskContext:
    """What a validator's ``prepare`` learns about the task: its TaskType and the parsed task.yaml."""

    task_type: Any
    config: dict[str, Any]

    def schema_rules(self, strict: bool = True) -> list[dict[str, Any]]:
        """The JSON Schemas every generated record must satisfy: the task type's own and each
        plugin's ``schema_rules`` answer. With ``strict``, structured outputs may not carry keys
        their schema does not list."""
        from germinate.plugins import get_plugins

        rules = list(self.task_type.schema_rules(self.config, strict=strict))
        for extra in get_plugins().pm.hook.schema_rules(task_type=self.task_type, config=self.config):
            rules.extend(extra if isinstance(extra, list) else [extra])
        return [rule for rule in rules if rule]


class Validator:
    #: the name used in task.yaml's ``validation`` section
    name: str = ""
    #: default position in the cascade; lower runs first, so cheap checks come first
    order: int = 100
    summary: str = ""
    #: JSON Schema of this validator's settings under ``validation.<name>`` in task.yaml
    config_schema: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}

    def prepare(self, seeds: list[dict], settings: dict, task: TaskContext) -> Check:
        """Build the run's Check from the seeds, this validator's settings and the task."""
        raise NotImplementedError

    def check_settings(self, settings: dict, seeds: list[dict], task_type: Any) -> Iterable[tuple[tuple, str]]:
        """Yield ``(path inside the settings, message)`` for what ``config_schema`` cannot say (bounds
        in the wrong order, a field the task does not have). ``settings`` has the schema's defaults
        filled in; ``germinate check`` and every cascade build call this before ``prepare``."""
        return ()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "order": self.order, "summary": self.summary, "config_schema": self.config_schema}
