"""The ``teacher:`` section as a backend receives it, and the judge's, which may replace or tune it.

This lives below the teachers package so that ``germinate check`` validates exactly the settings
that ``germinate.teachers.setup.make_engine`` will later build an engine from.
"""

from __future__ import annotations

from typing import Any

#: with no teacher configured, germinate runs offline on the embedded local model
DEFAULT_TEACHER = {"backend": "local"}


def teacher_settings(
    config: dict[str, Any], override: dict[str, Any] | None = None, replace: bool = False
) -> dict[str, Any]:
    """The teacher section (or the default) with ``override`` on top; ``replace``: override alone
    (a judge on another backend shares nothing with the teacher)."""
    if replace:
        return dict(override or {})
    section = config.get("teacher")
    settings = dict(section) if isinstance(section, dict) else dict(DEFAULT_TEACHER)
    return {**settings, **(override or {})}


def judge_override(config: dict[str, Any]) -> dict[str, Any] | None:
    """``evaluation.judge`` without its prompt: the judge's backend settings, or None when the
    teacher judges."""
    evaluation = config.get("evaluation")
    judge = evaluation.get("judge") if isinstance(evaluation, dict) else None
    chosen = {k: v for k, v in judge.items() if k != "prompt"} if isinstance(judge, dict) else {}
    return chosen or None
