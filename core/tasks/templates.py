"""Prompt templates: ``{name}`` placeholders filled with text, and nothing else.

``str.format`` evaluates attribute and index walks (``{description.__class__.__mro__}``), runs
conversions and format specs (a 3 GB pad width), and fails with a traceback on a lone brace.
Templates here are parsed with ``string.Formatter().parse`` and only bare names are allowed:
:func:`check` says what is wrong with a template (``germinate check`` runs it on every template a
project supplies), :func:`fill` substitutes values as plain text. ``{{`` and ``}}`` are literal
braces, as with ``str.format``.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from typing import Any

#: the judge's placeholders, and those its prompt must use
JUDGE_PLACEHOLDERS = ("description", "input", "reference", "prediction")
JUDGE_REQUIRED = ("prediction", "reference")


class TemplateError(ValueError):
    """A template that cannot be used; ``line`` is its 1-based line within the template."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line = message, line


def _lone_brace_line(template: str) -> int | None:
    """The line of the first brace that is neither doubled nor part of a placeholder."""
    i = 0
    while i < len(template):
        if template.startswith(("{{", "}}"), i):
            i += 2
        elif template[i] == "{":
            end = template.find("}", i)
            again = template.find("{", i + 1)
            if end < 0 or 0 <= again < end:  # unclosed, or another placeholder opens inside it
                return template.count("\n", 0, i) + 1
            i = end + 1
        elif template[i] == "}":
            return template.count("\n", 0, i) + 1
        else:
            i += 1
    return None


def _parts(template: str) -> list[tuple[str, str | None, str | None, str | None]]:
    try:
        return list(string.Formatter().parse(template))
    except ValueError as exc:
        message = f"{exc}: write {{{{ or }}}} for a literal brace"
        raise TemplateError(message, _lone_brace_line(template)) from None


def placeholders(template: str) -> list[str]:
    """The placeholder names of ``template`` in order; raises TemplateError for anything but bare
    names."""
    names = []
    line = 1
    for literal, name, spec, conversion in _parts(template):
        line += literal.count("\n")
        if name is None:
            continue
        shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if not name:
            raise TemplateError(f"{shown}: a placeholder needs a name", line)
        if not name.isidentifier():
            raise TemplateError(f"{shown[:60]}: only plain names are allowed, like {{description}}", line)
        if conversion:
            raise TemplateError(f"{shown[:60]}: conversions (!r, !s, !a) are not allowed", line)
        if spec:
            raise TemplateError(f"{shown[:60]}: format specs are not allowed", line)
        names.append(name)
    return names


def check(template: str, available: Iterable[str], required: Iterable[str] = ()) -> None:
    """Raise TemplateError when ``template`` is malformed, uses a name outside ``available`` or
    leaves out one of ``required``."""
    allowed = list(dict.fromkeys(available))
    line = 1
    for literal, name, _, _ in _parts(template):
        line += literal.count("\n")
        if name and name.isidentifier() and name not in allowed:
            raise TemplateError(f"unknown placeholder {{{name}}} (available: {', '.join(allowed)})", line)
    used = placeholders(template)
    missing = [name for name in required if name not in used]
    if missing:
        raise TemplateError(f"must contain {' and '.join('{' + m + '}' for m in missing)}")


def fill(template: str, values: Mapping[str, Any]) -> str:
    """The template with each placeholder replaced by ``str(value)``; raises TemplateError for a
    malformed template or a name ``values`` lacks."""
    out = []
    names = iter(placeholders(template))
    for literal, name, _, _ in _parts(template):
        out.append(literal)
        if name is not None:
            next(names)
            if name not in values:
                raise TemplateError(f"unknown placeholder {{{name}}} (available: {', '.join(values)})")
            out.append(str(values[name]))
    return "".join(out)
