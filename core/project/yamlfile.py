"""YAML loading that remembers where each value was written, so errors can name the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from germinate.problems import GerminateError, Problem

Path_ = tuple[Any, ...]


class LineMap:
    """Maps a path into the loaded data (keys and list indexes) to its 1-based line."""

    def __init__(self) -> None:
        self.lines: dict[Path_, int] = {}

    def line(self, path: Path_) -> int | None:
        path = tuple(path)
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]


def _walk(node: yaml.Node, path: Path_, lines: LineMap, duplicates: list[tuple[Path_, int]]) -> None:
    lines.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            child = path + (key,)
            if key in seen:
                duplicates.append((child, key_node.start_mark.line + 1))
            seen.add(key)
            lines.lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), lines, duplicates)


def load_yaml(path: Path, display: str) -> tuple[dict[str, Any], LineMap]:
    """Load a YAML mapping; any problem is raised as a GerminateError naming ``display:line``."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GerminateError(
            Problem(display, None, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        ) from None
    except OSError as exc:
        raise GerminateError(Problem(display, None, None, f"cannot read: {exc.strerror or exc}")) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise GerminateError(Problem(display, mark.line + 1 if mark else None, "yaml", reason)) from None
    lines = LineMap()
    if node is None or not isinstance(data, dict):
        raise GerminateError(Problem(display, 1, None, "expected a mapping of settings (key: value)"))
    duplicates: list[tuple[Path_, int]] = []
    _walk(node, (), lines, duplicates)
    if duplicates:
        raise GerminateError(
            [Problem(display, line, ".".join(map(str, p)), "key given twice") for p, line in duplicates]
        )
    return data, lines
