"""A user-facing problem with a location, and the exception that carries a batch of them.

Every message a user sees about bad input is rendered by :class:`Problem` as
``file:line: field: message`` so editors can jump to it and tests can match it exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs


@attrs.frozen(order=True)
class Problem:
    file: str
    line: int | None = None
    field: str | None = None
    message: str = ""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class GerminateError(Exception):
    """Bad input or a broken environment, reported to the user without a traceback (exit code 2)."""

    def __init__(self, problems: Sequence[Problem | str] | Problem | str):
        #: each a Problem, or a message that already says where (``"runs/x: not trained"``)
        self.problems: list[Problem | str] = [problems] if isinstance(problems, (Problem, str)) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
