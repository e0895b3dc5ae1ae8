"""The validation cascade: validators from plugins, in order, each prepared over the seeds.

A candidate passes only if every validator accepts it; the first rejection ends its trip and is
recorded with the validator's reason and score. Validators learn only from records that passed
the whole cascade (the novelty filter's anchor set grows there).
"""

from __future__ import annotations

from typing import Any

import attrs

from germinate.plugins import Plugins, get_plugins
from germinate.problems import GerminateError, Problem
from germinate.project.errors import field_name, schema_problems
from germinate.validate.base import Check, TaskContext, Verdict


@attrs.frozen
class Decision:
    accepted: bool
    #: the validator that rejected, or None
    validator: str | None = None
    verdict: Verdict | None = None
    #: each validator's score for this candidate, as far as it got
    scores: dict[str, float] = attrs.field(factory=dict)


@attrs.define
class Step:
    name: str
    settings: dict[str, Any]
    check: Check


def resolve_settings(
    validation: dict[str, Any],
    validators: dict[str, Any],
    overrides: dict[str, Any] | None = None,
    task: TaskContext | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """(name, settings) in cascade order: names in ``validation.order`` first, in that order,
    then the rest by their default order; a validator set to ``false`` is left out, and so is one
    that is off by default for ``task`` unless it is named with settings or ``true``."""
    merged: dict[str, Any] = {k: (v if v is not True else {}) for k, v in validation.items() if k != "order"}
    for key, value in (overrides or {}).items():
        if value is False or value is True:
            if value is False or not isinstance(merged.get(key), dict):
                merged[key] = {} if value is True else False
        else:
            current = merged.get(key)
            merged[key] = {**(current if isinstance(current, dict) else {}), **value}
    explicit = [n for n in validation.get("order") or [] if n in validators]
    rest = sorted((n for n in validators if n not in explicit), key=lambda n: (validators[n].order, n))
    out = []
    for name in explicit + rest:
        if name not in merged and task is not None and not validators[name].enabled_by_default(task):
            continue
        settings = merged.get(name, {})
        if settings is False:
            continue
        out.append((name, dict(settings or {})))
    return out


def _guarded(name: str, action: str, function: Any, *args: Any) -> Any:
    """A validator plugin that raises becomes one clear line (exit 2) instead of a traceback; what
    was already appended to the run folder stays as it is."""
    try:
        return function(*args)
    except (GerminateError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise GerminateError(
            Problem(
                "validation",
                None,
                name,
                f"validator raised {type(exc).__name__} in {action}: {exc} "
                f"(disable it with `validation: {{{name}: false}}`)",
            )
        ) from None


class Cascade:
    def __init__(self, steps: list[Step]) -> None:
        self.steps = steps

    @property
    def names(self) -> list[str]:
        return [step.name for step in self.steps]

    def prefetch(self, records: list[dict[str, Any]]) -> None:
        """Tell the steps that ask a model which records come next, so they can ask for all of
        them at once: each such step gets the records that pass every step before it as things
        stand (the novelty anchors may still grow, so this is a forecast; a step's ``check``
        answers for records it was not told about too). Free when no step asks a model."""
        # a check implements it, or inherits Check's no-op, or (duck-typed) has none
        batched = [
            i
            for i, step in enumerate(self.steps)
            if getattr(type(step.check), "prefetch", Check.prefetch) is not Check.prefetch
        ]
        if not batched or not records:
            return
        pending = list(records)
        for index, step in enumerate(self.steps[: batched[-1] + 1]):
            if index in batched:
                _guarded(step.name, "prefetch", step.check.prefetch, pending)
            if index < batched[-1]:
                pending = [r for r in pending if _guarded(step.name, "check", step.check.check, r).accepted]
            if not pending:
                return

    def judge(self, record: dict[str, Any]) -> Decision:
        scores: dict[str, float] = {}
        for step in self.steps:
            verdict = _guarded(step.name, "check", step.check.check, record)
            if verdict.score is not None:
                scores[step.name] = verdict.score
            if not verdict.accepted:
                return Decision(False, step.name, verdict, scores)
        self.learn(record)
        return Decision(True, None, None, scores)

    def learn(self, record: dict[str, Any]) -> None:
        """Tell every validator a record was accepted (the novelty anchors grow here)."""
        for step in self.steps:
            _guarded(step.name, "accepted", step.check.accepted, record)


def build_cascade(
    task_type: Any,
    config: dict[str, Any],
    seeds: list[dict[str, Any]],
    overrides: dict[str, Any] | None = None,
    plugins: Plugins | None = None,
    engines: Any = None,
) -> Cascade:
    """The project's cascade, each validator prepared over the seeds. ``engines`` (a
    germinate.teachers.engines.Engines) lets validators ask the teacher."""
    plugins = plugins or get_plugins()
    validators = plugins.validators
    section = config.get("validation")
    validation: dict[str, Any] = section if isinstance(section, dict) else {}
    for name in overrides or {}:
        if name not in validators:
            raise GerminateError(
                Problem(
                    "--set", None, name, f"unknown validator (installed: {', '.join(sorted(validators)) or 'none'})"
                )
            )
    task = TaskContext(task_type, config, engines)
    steps = []
    for name, settings in resolve_settings(validation, validators, overrides, task):
        problems = [
            Problem("validation", None, field_name((name,) + path), message)
            for path, message in schema_problems(validators[name].config_schema, settings)
        ]
        if problems:
            raise GerminateError(problems)
        defaults = {
            key: sub["default"]
            for key, sub in validators[name].config_schema.get("properties", {}).items()
            if "default" in sub
        }
        settings = {**defaults, **settings}
        check = getattr(validators[name], "check_settings", None)
        found = _guarded(name, "check_settings", lambda c=check, s=settings: list(c(s, seeds, task_type) if c else ()))
        problems = [Problem("validation", None, field_name((name, *path)), message) for path, message in found]
        if problems:
            raise GerminateError(problems)
        steps.append(Step(name, settings, _guarded(name, "prepare", validators[name].prepare, seeds, settings, task)))
    return Cascade(steps)
