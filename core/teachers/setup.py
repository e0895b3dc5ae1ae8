"""From a project's ``teacher`` section (or its absence) to a ready engine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from germinate.plugins import lookup
from germinate.problems import GerminateError, Problem
from germinate.project.errors import field_name, schema_problems
from germinate.project.load import Project
from germinate.project.teacher_section import DEFAULT_TEACHER, teacher_settings
from germinate.teachers.cache import Cache
from germinate.teachers.cost import Budget, CostMeter
from germinate.teachers.engine import Engine, EngineSettings, EngineStats

__all__ = ["DEFAULT_TEACHER", "Budget", "make_engine", "teacher_settings"]


def _unpriced(model: str, where: tuple) -> GerminateError:
    return GerminateError(
        Problem(
            "--max-cost",
            None,
            None,
            f"no price is known for {model!r} ({field_name(where)}), so the budget could not be kept: "
            f"add it to task.yaml as `prices: {{{model}: {{input: USD, output: USD}}}}` (per million tokens)",
        )
    )


def make_engine(
    project: Project,
    *,
    use_cache: bool = True,
    max_cost: float | None = None,
    budget: Budget | None = None,
    override: dict[str, Any] | None = None,
    replace: bool = False,
    where: tuple = ("teacher",),
    on_progress: Callable[[EngineStats, CostMeter], None] | None = None,
) -> Engine:
    """An engine for the project's teacher (or, with ``override``, its judge). A ``budget`` shared
    with other engines caps them together; ``max_cost`` alone makes one for this engine. With a
    cap, a model without a known price is refused before anything is sent."""
    limit = budget.limit if budget is not None else max_cost
    settings = teacher_settings(project.config, override, replace)
    backend = lookup("teachers", settings.get("backend", ""))
    problems = [
        Problem("task.yaml", None, field_name(where + path), message)
        for path, message in schema_problems(backend.config_schema, settings)
    ]
    if problems:
        raise GerminateError(problems)
    client = backend.client(settings, project.root)
    meter = CostMeter(project.config.get("prices"), free=client.free, budget=budget)
    if limit is not None and meter.price(client.model) is None:
        asyncio.run(client.aclose())
        raise _unpriced(client.model, where)
    engine_settings = EngineSettings(
        concurrency=int(settings.get("concurrency", client.default_concurrency)),
        timeout=float(settings.get("timeout", 120.0)),
        max_retries=int(settings.get("max_retries", 6)),
        rpm=settings.get("rpm"),
        tpm=settings.get("tpm"),
        max_cost=limit,
        use_cache=use_cache,
    )
    return Engine(client, Cache.for_project(project.root), meter, engine_settings, on_progress)


def check_priced(project: Project, budget: Budget, override: dict[str, Any] | None, where: tuple) -> None:
    """Refuse now, before any stage starts, a capped run whose judge (or teacher) has no price."""
    if budget.limit is None:
        return
    engine = make_engine(project, budget=budget, override=override, replace="backend" in (override or {}), where=where)
    engine.close()
