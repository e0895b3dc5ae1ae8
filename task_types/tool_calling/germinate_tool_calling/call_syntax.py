"""Reading a Python-style tool call from model output without ever executing it: the text is
parsed with ``ast`` and only literal keyword arguments are accepted."""

from __future__ import annotations

import ast
from typing import Any


def parse_python_call(text: str) -> dict[str, Any] | None:
    """``name(a=1, b=[2])`` as {"name", "arguments"}; None unless it is exactly one call of a plain
    name with keyword arguments that are all literals (so ``__import__('os').system(...)`` is not)."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        return None
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.args:
        return None
    arguments = {}
    for keyword in node.keywords:
        if keyword.arg is None:
            return None
        try:
            arguments[keyword.arg] = ast.literal_eval(keyword.value)
        except (ValueError, SyntaxError, TypeError):
            return None
    return {"name": node.func.id, "arguments": arguments}
