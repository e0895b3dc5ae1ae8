"""The engines one command uses, made on first need and shared by everyone who asks for the same
settings: the teacher's, the judge's, and any other model a validator names.

A stage asks ``get()`` for the teacher (task.yaml's ``teacher:``), ``get(override, where)`` for
settings layered on it (``{"model": ...}`` tunes the teacher's; a ``backend`` key replaces them)
and ``judge(settings)`` for evaluation's judge. One ``budget`` (``germinate run --max-cost``)
caps them all together; ``given`` is a caller's own engine, used for the plain teacher and never
closed here.
"""

from __future__ import annotations

import json
from typing import Any

from germinate.project.load import Project
from germinate.teachers.cost import Budget, Usage
from germinate.teachers.engine import Engine


class Engines:
    def __init__(
        self,
        project: Project,
        given: Engine | None = None,
        *,
        use_cache: bool = True,
        max_cost: float | None = None,
        budget: Budget | None = None,
    ) -> None:
        self.project, self.use_cache, self.max_cost, self.budget = project, use_cache, max_cost, budget
        self.given = given
        self._engines: dict[str, Engine] = {"{}": given} if given is not None else {}
        self._made: list[Engine] = []
        self._used: dict[int, Engine] = {id(given): given} if given is not None else {}  # for accounting after close

    def get(self, override: dict[str, Any] | None = None, where: tuple = ("teacher",)) -> Engine:
        """The teacher's engine, or one for ``override`` (whose errors name ``where`` in task.yaml)."""
        from germinate.teachers.setup import make_engine

        key = json.dumps(override or {}, sort_keys=True)
        if key not in self._engines:
            made = make_engine(
                self.project,
                use_cache=self.use_cache,
                max_cost=self.max_cost,
                budget=self.budget,
                override=override,
                replace="backend" in (override or {}),
                where=where if override else ("teacher",),
            )
            self._engines[key] = made
            self._made.append(made)
            self._used[id(made)] = made
        return self._engines[key]

    def judge(self, backend: dict[str, Any] | None) -> Engine:
        """Evaluation's judge: the teacher's own engine unless ``evaluation.judge`` names a model."""
        return self.get(backend, where=("evaluation", "judge")) if backend else self.get()

    def cost_rows(self) -> list[dict[str, Any]]:
        """Calls, tokens and money per stage and model over every engine handed out (also after close)."""
        return [row for engine in self._used.values() for row in engine.meter.as_dict()["by"]]

    def usage(self, stage: str) -> Usage:
        """One stage's calls, tokens and money summed over every engine handed out."""
        total = Usage()
        for engine in self._used.values():
            for (used_in, _model), usage in engine.meter.usage.items():
                if used_in == stage:
                    total = total + usage
        return total

    def close(self) -> None:
        """Close the engines made here (a ``given`` engine is its owner's to close)."""
        for engine in self._made:
            engine.close()
        self._made.clear()
        self._engines = {"{}": self.given} if self.given is not None else {}
