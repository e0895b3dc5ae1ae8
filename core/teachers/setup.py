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


def _client(
    project: Project,
    override: dict[str, Any] | None,
    replace: bool,
    where: tuple,
    budget: Budget | None,
    limit: float | None,
) -> tuple[dict[str, Any], list[Any], CostMeter]:
    """The backend's settings (checked), its clients (one per server) and a meter; with a cap, an unpriced model is
    refused here, before anything is sent or written."""
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
    meter = CostMeter(project.config.get("prices"), free=client.free, budget=budget)
    if limit is not None and meter.price(client.model) is None:
        for each in clients:
            asyncio.run(each.aclose())
        raise _unpriced(client.model, where)
    return settings, clients, meter


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
    """An engine for the project's teacher (or, with ``override``, its judge) over every server it
    names. A ``budget`` shared with other engines caps them together; ``max_cost`` alone makes one
    for this engine. With a cap, a model without a known price is refused before anything is sent."""
    limit = budget.limit if budget is not None else max_cost
    settings, clients, meter = _client(project, override, replace, where, budget, limit)
    client = clients[0]
    engine_settings = EngineSettings(
        concurrency=int(settings.get("concurrency", client.default_concurrency)),
        timeout=float(settings.get("timeout", 120.0)),
        max_retries=int(settings.get("max_retries", 6)),
        rpm=settings.get("rpm"),
        tpm=settings.get("tpm"),
        max_cost=limit,
        use_cache=use_cache,
        bench_after=int(settings.get("bench_after", 3)),
        bench_seconds=float(settings.get("bench_seconds", 30.0)),
    )
    return Engine(clients, Cache.for_project(project.root), meter, engine_settings, on_progress)


def check_priced(
    project: Project, limit: float | None, override: dict[str, Any] | None = None, where: tuple = ("teacher",)
) -> None:
    """Refuse now, before a stage starts or writes anything, a capped command whose teacher (or,
    with ``override``, judge) has no known price."""
    if limit is None:
        return
    settings = teacher_settings(project.config, override, "backend" in (override or {}))
    backend = lookup("teachers", settings.get("backend", ""))
    model = settings.get("model")
    # no client is built (a local one would load its model): the backend and the name say enough
    if backend.free or (isinstance(model, str) and CostMeter(project.config.get("prices")).price(model) is not None):
        return
    raise _unpriced(str(model), where)
