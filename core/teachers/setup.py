"""From a project's ``teacher`` section (or its absence) to a ready engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from germinate.plugins import lookup
from germinate.problems import GerminateError, Problem
from germinate.project.errors import field_name, schema_problems
from germinate.project.load import Project
from germinate.teachers.cache import Cache
from germinate.teachers.cost import CostMeter
from germinate.teachers.engine import Engine, EngineSettings, EngineStats

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


def make_engine(
    project: Project,
    *,
    use_cache: bool = True,
    max_cost: float | None = None,
    override: dict[str, Any] | None = None,
    replace: bool = False,
    where: tuple = ("teacher",),
    on_progress: Callable[[EngineStats, CostMeter], None] | None = None,
) -> Engine:
    settings = teacher_settings(project.config, override, replace)
    backend = lookup("teachers", settings.get("backend", ""))
    problems = [
        Problem("task.yaml", None, field_name(where + path), message)
        for path, message in schema_problems(backend.config_schema, settings)
    ]
    if problems:
        raise GerminateError(problems)
    clients = backend.clients(settings, project.root)
    client = clients[0]
    engine_settings = EngineSettings(
        concurrency=int(settings.get("concurrency", client.default_concurrency)),
        timeout=float(settings.get("timeout", 120.0)),
        max_retries=int(settings.get("max_retries", 6)),
        rpm=settings.get("rpm"),
        tpm=settings.get("tpm"),
        max_cost=max_cost,
        use_cache=use_cache,
        bench_after=int(settings.get("bench_after", 3)),
        bench_seconds=float(settings.get("bench_seconds", 30.0)),
    )
    meter = CostMeter(project.config.get("prices"), free=client.free)
    return Engine(clients, Cache.for_project(project.root), meter, engine_settings, on_progress)
