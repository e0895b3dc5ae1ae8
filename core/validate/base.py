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

    def prefetch(self, records: list[dict]) -> None:
        """Called with the records about to be checked, in order, before ``check`` sees any of
        them: a check that asks a model sends all their requests here at once (the engine runs them
        concurrently) and ``check`` then finds its answers ready. Only records that pass every
        earlier step, as things stand, are passed. ``check`` must still work for a record that was
        not prefetched."""


@attrs.frozen
class TaskContext:
    """What a validator's ``prepare`` learns about the task: its TaskType, the parsed task.yaml,
    and (through :meth:`engine`) a teacher to ask."""

    task_type: Any
    config: dict[str, Any]
    #: a germinate.teachers.engines.Engines, or None where no teacher may be asked
    engines: Any = None

    def engine(self, override: dict[str, Any] | None = None, where: tuple = ("validation",)) -> Any:
        """The teacher's request engine (germinate.teachers.engine.Engine): calls go through its
        cache, cost meter and ``--max-cost`` like every teacher call (use ``stage="validate"``).
        ``override`` names another model (``{"model": ...}``) or backend (``{"backend": ...}``);
        ``where`` is its place in task.yaml, for error messages."""
        if self.engines is None:
            from germinate.problems import GerminateError, Problem

            raise GerminateError(Problem("validation", None, where[-1], "no teacher is available to this cascade"))
        return self.engines.get(override, where)

    def teacher_messages(self, record: dict, seeds: list[dict]) -> list[dict[str, str]]:
        """The prompt evaluation asks the teacher with, for ``record``: the description, the
        evaluation's ``k_shot`` seeds (same draw, ``evaluation.seed``), then the record's input."""
        from germinate.settings import EvalSettings
        from germinate.tasks.prompting import teacher_messages, teacher_shots

        settings = EvalSettings.from_config(self.config.get("evaluation") or {})
        return teacher_messages(self, teacher_shots(seeds, settings.k_shot, settings.seed), record)

    def prompt_texts(self) -> list[tuple[str, str]]:
        """The texts the teacher reads in a generation prompt besides the seeds, as (what, text):
        the task description, every mutation instruction of the built-in and the task's own
        properties, and the fixed wording of the generation prompt templates (the project's own,
        from task.yaml's ``generation.prompts``, included). A generated input must not copy them."""
        import string

        from germinate.tasks.property import BUILT_IN, topic_property

        out = [("the task description", str(self.config.get("description") or ""))]
        properties = [*BUILT_IN.values(), topic_property(["X"]), *self.task_type.own_properties(self.config)]
        out += [("a generation instruction", text) for p in properties for text in p.instructions.values()]
        section = self.config.get("generation")
        prompts = section.get("prompts") if isinstance(section, dict) else None
        templates = {**self.task_type.templates, **(prompts or {})}
        for template in templates.values():
            try:
                pieces = [literal for literal, *_ in string.Formatter().parse(template)]
            except ValueError:  # a malformed template is reported where it is used
                pieces = [template]
            out += [("the generation prompt", piece) for piece in pieces if piece.strip()]
        return out

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

    def engine_override(self, settings: dict) -> tuple[dict[str, Any], tuple[str, ...]] | None:
        """The teacher settings this validator's model calls go to, laid over task.yaml's teacher
        section (a ``backend`` key replaces the section), and where in task.yaml they are written;
        None when it asks no model, or the teacher as configured. ``germinate check`` checks them
        as it checks the teacher's (schema, then the backend's ``check_settings``), so a misspelt
        model is found before generation, not during it. ``settings`` has the defaults filled in."""
        return None

    def enabled_by_default(self, task: TaskContext) -> bool:
        """Whether the cascade runs this validator for ``task`` when task.yaml's ``validation``
        section does not name it (naming it with settings, or ``true``, turns it on; ``false`` off)."""
        return True

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "order": self.order, "summary": self.summary, "config_schema": self.config_schema}
