"""Teacher engines for validators that ask a model (the agreement validator).

During generation the validators share the generation loop's engine: their calls are cached,
counted, priced and bounded by ``--max-cost`` with everything else. ``germinate validate`` has no
engine of its own, so one is made from the project's teacher settings with the cache on: a replay
answers from the cache, and a request that is not there is a real call, which the summary says.
A validator may name another model or backend; that engine is made once and closed at the end.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from germinate.project.load import Project
from germinate.teachers.engine import Engine

#: the cost-accounting stage of validators' teacher calls
STAGE = "validate"


@attrs.define
class ValidatorCalls:
    """What validators asked the teacher in one cascade run: answers sent (real calls), found in
    the cache, failed, their tokens and cost."""

    sent: int = 0
    cached: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = 0.0

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


class Engines:
    """Hands validators an engine: the teacher's (``engine``, else made from task.yaml's teacher
    section on first need), or one for ``override`` settings (``{"model": ...}`` tunes the
    teacher's; a ``backend`` key replaces them)."""

    def __init__(
        self, project: Project, engine: Engine | None = None, *, use_cache: bool = True, max_cost: float | None = None
    ) -> None:
        self.project, self.use_cache, self.max_cost = project, use_cache, max_cost
        self.given = engine
        self._engines: dict[str, Engine] = {"{}": engine} if engine is not None else {}
        self._made: list[Engine] = []

    def get(self, override: dict[str, Any] | None = None, where: tuple = ("teacher",)) -> Engine:
        from germinate.teachers.setup import make_engine

        key = json.dumps(override or {}, sort_keys=True)
        if key not in self._engines:
            made = make_engine(
                self.project,
                use_cache=self.use_cache,
                max_cost=self.max_cost,
                override=override,
                replace="backend" in (override or {}),
                where=where if override else ("teacher",),
            )
            self._engines[key] = made
            self._made.append(made)
        return self._engines[key]

    def calls(self) -> ValidatorCalls:
        """Validators' teacher calls so far, over every engine handed out."""
        out = ValidatorCalls()
        for engine in {id(e): e for e in self._engines.values()}.values():
            for (stage, _model), usage in engine.meter.usage.items():
                if stage != STAGE:
                    continue
                out.sent += usage.calls
                out.cached += usage.cached
                out.failed += usage.failed
                out.input_tokens += usage.input_tokens
                out.output_tokens += usage.output_tokens
                out.cost = None if usage.cost is None or out.cost is None else out.cost + usage.cost
        return out

    def close(self) -> None:
        """Close the engines made here (the generation loop closes its own)."""
        for engine in self._made:
            engine.close()
        self._made.clear()
        self._engines = {"{}": self.given} if self.given is not None else {}
