"""Token and money accounting per stage and per model, and the budget that stops spending.

Prices are USD per million tokens. The table below holds a few well-known models; a project's
``prices:`` section in task.yaml overrides or extends it. A model with no known price is counted
in tokens only and shown as "?"; with a budget set, such a model is refused before the first call
(see ``germinate.teachers.setup``). Local models cost nothing.

One :class:`Budget` is shared by every engine of a command (``germinate run --max-cost``: the
teacher's generation and evaluation calls and the judge's), so the limit holds across them all.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import attrs

#: USD per million (input, output) tokens; prices change, so task.yaml's ``prices`` wins
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "claude-3-5-haiku-latest": (0.80, 4.00),
    "claude-3-5-sonnet-latest": (3.00, 15.00),
    "claude-sonnet-4-0": (3.00, 15.00),
    "claude-opus-4-0": (15.00, 75.00),
}


@attrs.define
class Usage:
    calls: int = 0
    cached: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    #: of input_tokens, those the server reused from an earlier call's prompt prefix
    reused_input_tokens: int = 0
    cost: float | None = 0.0

    def __add__(self, other: Usage) -> Usage:
        """Counts summed; the cost is unknown ("?") as soon as one side's is."""
        cost = None if self.cost is None or other.cost is None else self.cost + other.cost
        return Usage(
            calls=self.calls + other.calls,
            cached=self.cached + other.cached,
            failed=self.failed + other.failed,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            reused_input_tokens=self.reused_input_tokens + other.reused_input_tokens,
            cost=cost,
        )


def add_rows(before: list[dict[str, Any]], now: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Two lists of cost rows (a meter's ``as_dict()["by"]``, as pipeline.json keeps them) summed
    per stage and model; a field missing from an older row counts as zero."""
    names = {field.name for field in attrs.fields(Usage)}
    merged: dict[tuple[str, str], Usage] = {}
    for row in [*before, *now]:
        key = (row["stage"], row["model"])
        usage = Usage(**{name: value for name, value in row.items() if name in names})
        merged[key] = merged[key] + usage if key in merged else usage
    return [{"stage": stage, "model": model, **attrs.asdict(usage)} for (stage, model), usage in merged.items()]


@attrs.define
class Budget:
    """USD that may be spent across every engine that shares this object; ``limit`` None: no cap."""

    limit: float | None = None
    spent: float = 0.0

    def charge(self, usd: float) -> None:
        self.spent += usd

    @property
    def reached(self) -> bool:
        return self.limit is not None and self.spent >= self.limit


class CostMeter:
    def __init__(
        self, overrides: dict[str, dict[str, float]] | None = None, free: bool = False, budget: Budget | None = None
    ) -> None:
        self.prices = dict(PRICES)
        for model, price in (overrides or {}).items():
            self.prices[model] = (float(price["input"]), float(price["output"]))
        self.free = free
        self.budget = budget
        self.usage: dict[tuple[str, str], Usage] = defaultdict(Usage)

    def over_budget(self, limit: float | None) -> bool:
        """The shared budget is spent, or, without one, this meter's total reached ``limit``."""
        if self.budget is not None:
            return self.budget.reached
        return limit is not None and self.total_cost >= limit

    def price(self, model: str) -> tuple[float, float] | None:
        if self.free:
            return (0.0, 0.0)
        return self.prices.get(model)

    def cost_of(self, model: str, input_tokens: int, output_tokens: int) -> float | None:
        price = self.price(model)
        if price is None:
            return None
        return (input_tokens * price[0] + output_tokens * price[1]) / 1e6

    def add(
        self, stage: str, model: str, input_tokens: int, output_tokens: int, cached: bool = False, reused: int = 0
    ) -> None:
        usage = self.usage[(stage, model)]
        if cached:
            usage.cached += 1  # already paid for in an earlier run: no tokens, no money
            return
        usage.calls += 1
        usage.input_tokens += input_tokens
        usage.output_tokens += output_tokens
        usage.reused_input_tokens += reused
        cost = self.cost_of(model, input_tokens, output_tokens)
        usage.cost = None if cost is None or usage.cost is None else usage.cost + cost
        if cost is not None and self.budget is not None:
            self.budget.charge(cost)

    def fail(self, stage: str, model: str) -> None:
        self.usage[(stage, model)].failed += 1

    @property
    def total_cost(self) -> float:
        return sum(u.cost or 0.0 for u in self.usage.values())

    @property
    def total_tokens(self) -> int:
        return sum(u.input_tokens + u.output_tokens for u in self.usage.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "total_cost_usd": round(self.total_cost, 6),
            "by": [{"stage": s, "model": m, **attrs.asdict(u)} for (s, m), u in sorted(self.usage.items())],
        }

    def table(self):
        from rich.table import Table

        table = Table("stage", "model", "calls", "cached", "failed", "input tok", "output tok", "cost $")
        for (stage, model), u in sorted(self.usage.items()):
            table.add_row(
                stage,
                model,
                str(u.calls),
                str(u.cached),
                str(u.failed),
                str(u.input_tokens),
                str(u.output_tokens),
                "?" if u.cost is None else f"{u.cost:.4f}",
            )
        return table
