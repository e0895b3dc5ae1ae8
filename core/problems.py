"""A user-facing problem with a location, and the exception that carries a batch of them.

Every message a user sees about bad input is rendered by :class:`Problem` as
``file:line: field: message`` so editors can jump to it and tests can match it exactly. The
rendering is always one line (a newline in user text is shown as ``\\n``) and never shows a
secret (anything key-shaped is redacted, see :mod:`germinate.secrets`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from germinate.secrets import redact

_CONTROL = str.maketrans({"\n": "\\n", "\r": "\\r", "\x00": "\\0"})


def one_line(text: str) -> str:
    """``text`` as one printable, redacted line."""
    return redact(text.translate(_CONTROL))


@attrs.frozen(order=True)
class Problem:
    file: str
    line: int | None = None
    field: str | None = None
    message: str = ""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.field:
            return one_line(f"{where}: {self.field}: {self.message}")
        if not self.message:  # a message that says where by itself (see :func:`located`)
            return one_line(where)
        return one_line(f"{where}: {self.message}")


def located(problems: Iterable[Problem | str]) -> list[Problem]:
    """Problems as :class:`Problem` objects: a plain message, which already says where, becomes one
    whose ``file`` is the whole message (it prints unchanged)."""
    return [p if isinstance(p, Problem) else Problem(p) for p in problems]


class GerminateError(Exception):
    """Bad input or a broken environment, reported to the user without a traceback (exit code 2)."""

    def __init__(self, problems: Sequence[Problem | str] | Problem | str):
        #: each a Problem, or a message that already says where (``"runs/x: not trained"``)
        self.problems: list[Problem | str] = [problems] if isinstance(problems, (Problem, str)) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
