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
    validation: dict[str, Any], validators: dict[str, Any], overrides: dict[str, Any] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(name, settings) in cascade order: names in ``validation.order`` first, in that order,
    then the rest by their default order; a validator set to ``false`` is left out."""
    merged: dict[str, Any] = {k: v for k, v in validation.items() if k != "order"}
    for key, value in (overrides or {}).items():
        if value is False or value is True:
            merged[key] = {} if value is True else False
        else:
            current = merged.get(key)
            merged[key] = {**(current if isinstance(current, dict) else {}), **value}
    explicit = [n for n in validation.get("order") or [] if n in validators]
    rest = sorted((n for n in validators if n not in explicit), key=lambda n: (validators[n].order, n))
    out = []
    for name in explicit + rest:
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

    def judge(self, record: dict[str, Any]) -> Decision:
        scores: dict[str, float] = {}
        for step in self.steps:
            verdict = _guarded(step.name, "check", step.check.check, record)
            if verdict.score is not None:
                scores[step.name] = verdict.score
            if not verdict.accepted:
                return Decision(False, step.name, verdict, scores)
        for step in self.steps:
            _guarded(step.name, "accepted", step.check.accepted, record)
        return Decision(True, None, None, scores)


def build_cascade(
    task_type: Any,
    config: dict[str, Any],
    seeds: list[dict[str, Any]],
    overrides: dict[str, Any] | None = None,
    plugins: Plugins | None = None,
) -> Cascade:
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
    task = TaskContext(task_type, config)
    steps = []
    for name, settings in resolve_settings(validation, validators, overrides):
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
