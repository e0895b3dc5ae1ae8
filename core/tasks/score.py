"""What a task type's metric returns for one prediction. A prediction that cannot be parsed
counts as wrong and says why."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class Score:
    #: True / False, or None when the task needs a judge (free-text answers)
    correct: bool | None
    parsed: Any = None
    error: str | None = None
