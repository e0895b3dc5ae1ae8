"""A user-facing problem with a location, and the exception that carries a batch of them.

Every message a user sees about bad input is rendered by :class:`Problem` as
``file:line: field: message`` so editors can jump to it and tests can match it exactly. The
rendering is always one line (a newline in user text is shown as ``\\n``, any other control or
invisible formatting character as an escape such as ``\\x1b`` or ``\\u202e``: no line break a
reader would split on, no terminal escape sequence, no right-to-left override reordering what is
shown) and never shows a secret (anything key-shaped is redacted, see :mod:`germinate.secrets`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

import attrs

from germinate.secrets import redact

_NAMED = {"\n": "\\n", "\r": "\\r", "\x00": "\\0", "\t": "\t"}
#: categories a message may not show as they are: control characters (C0, DEL and C1, NEL among
#: them), invisible formatting (zero-width, bidi overrides, BOM), lone surrogates (a file name that
#: is not UTF-8), line and paragraph separators
_UNSHOWN = ("Cc", "Cf", "Cs", "Zl", "Zp")
_NOT_PLAIN = re.compile(r"[^\x20-\x7e]")


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    if unicodedata.category(char) not in _UNSHOWN:
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def one_line(text: str) -> str:
    """``text`` as one printable, redacted line (see the module docstring)."""
    return redact(_NOT_PLAIN.sub(_escape, text))


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
