"""The live progress line for teacher calls: done / cached / failed, tokens and cost."""

from __future__ import annotations

from typing import Any

from germinate.teachers.cost import CostMeter
from germinate.teachers.engine import EngineStats


class TeacherProgress:
    def __init__(self, total: int, label: str = "teacher") -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeRemainingColumn(),
            transient=False,
        )
        self.task = self.progress.add_task(label, total=total, info="")

    def __enter__(self) -> TeacherProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def __call__(self, stats: EngineStats, meter: CostMeter) -> None:
        finished = stats.done + stats.cached + stats.failed + stats.skipped
        cost = meter.total_cost
        info = (
            f"{stats.done} done · {stats.cached} cached · {stats.failed} failed · "
            f"{meter.total_tokens:,} tok · ${cost:.4f}"
        )
        self.progress.update(self.task, completed=finished, info=info)
