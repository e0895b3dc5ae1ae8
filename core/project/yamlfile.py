"""YAML loading that remembers where each value was written, so errors can name the line, and
that refuses what a settings file never needs and later code cannot take.

The document is composed into nodes once (nesting deeper than MAX_DEPTH stops the composer), the
node graph is walked once to check it, and only then are values built. The walk follows aliases
the way every later reader of the values will, so it bounds what they will see: an alias bomb
(aliases of aliases expanding to millions of values) stops at :data:`MAX_VALUES`, an anchor that
contains itself is refused. Values must be what JSON can hold: text keys, finite numbers, no
dates, sets or binary, no lone surrogates, no integers hundreds of digits long.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml

from germinate.files import MAX_DEPTH, MAX_INT_DIGITS, decode, read_bytes
from germinate.problems import GerminateError, Problem

Path_ = tuple[Any, ...]

#: how an integer is written in JSON (a sign aside): what YAML 1.1 also reads as octal (010),
#: hexadecimal, binary, base 60 (1:30) or with underscores is not
_DECIMAL_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
#: values (aliases expanded) a task.yaml may hold; real ones hold a few hundred
MAX_VALUES = 100_000
#: mappings (aliases expanded) a task.yaml may hold: each one of a JSON Schema (tool parameters,
#: output_schema) costs about half a millisecond to check and more for every record validated
#: against it, so 1 MB of ``anyOf: [{}, {}, ...]`` would take minutes; a large tool catalog holds
#: a few thousand
MAX_MAPPINGS = 5_000

_T = "tag:yaml.org,2002:"
_SCALARS = {_T + "str", _T + "int", _T + "float", _T + "bool", _T + "null"}
_NAMES = {
    _T + "timestamp": "a date; quote it if it is text",
    _T + "binary": "binary data (!!binary) is not a setting",
    _T + "set": "a set (!!set); write a list",
    _T + "omap": "an ordered map (!!omap); write a mapping",
    _T + "pairs": "pairs (!!pairs); write a mapping",
}


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


class _Loader(yaml.SafeLoader):
    """The safe loader with a bound on nesting, checked while composing (before any recursion
    could run away)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _field(path: Path_, top: str = "yaml") -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or top


class _Walk:
    """One pass over the node graph: line numbers, duplicate keys and every value check."""

    def __init__(self, loader: _Loader) -> None:
        self.loader = loader
        self.lines = LineMap()
        self.problems: list[tuple[Path_, int, str]] = []
        self.values = 0
        self.mappings = 0

    def fail(self, path: Path_, node: yaml.Node, message: str) -> None:
        self.problems.append((path, node.start_mark.line + 1, message))

    def scalar(self, node: yaml.ScalarNode, path: Path_) -> None:
        if node.tag == _T + "int":
            digits = sum(c.isalnum() for c in node.value)
            if digits > MAX_INT_DIGITS:
                self.fail(path, node, f"an integer of {digits} digits (at most {MAX_INT_DIGITS})")
            elif not _DECIMAL_INT.fullmatch(node.value):
                self.not_decimal(node, path, self.loader.construct_yaml_int(node))
        elif node.tag == _T + "float":
            value = self.loader.construct_yaml_float(node)
            if not math.isfinite(value):
                self.fail(path, node, f"{node.value[:20]} is not a finite number")
            elif "_" in node.value or ":" in node.value:
                self.not_decimal(node, path, value)
        elif node.tag == _T + "str":
            try:
                node.value.encode("utf-8")
            except UnicodeEncodeError as exc:
                self.fail(path, node, f"a lone surrogate (\\u{ord(node.value[exc.start]):04x}) is not Unicode text")

    def not_decimal(self, node: yaml.ScalarNode, path: Path_, value: float) -> None:
        """YAML 1.1 reads ``1:30`` as 90, ``010`` as 8 and ``0x10`` as 16: a number JSON would not
        read the same way (or a time or a code meant as text) is refused, never silently changed."""
        self.fail(
            path, node, f"YAML reads {node.value[:40]} as the number {value}; write {value}, or quote it if it is text"
        )

    def walk(self, node: yaml.Node, path: Path_, open_nodes: set[int]) -> bool:
        """False once walking must stop (a cycle or too many values)."""
        self.values += 1
        if self.values > MAX_VALUES:
            # named where the top-level value that expands so far begins
            top = path[:1]
            self.problems.append((top, self.lines.line(top) or 1, f"aliases expand to more than {MAX_VALUES:,} values"))
            return False
        self.lines.lines.setdefault(path, node.start_mark.line + 1)
        if node.tag in _NAMES:
            self.fail(path, node, _NAMES[node.tag])
            return True
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALARS:
                self.fail(path, node, f"unsupported YAML tag {node.tag}")
            else:
                self.scalar(node, path)
            return True
        if node.tag not in (_T + "seq", _T + "map"):
            self.fail(path, node, f"unsupported YAML tag {node.tag}")
            return True
        if id(node) in open_nodes:
            self.fail(path, node, "an anchor that contains an alias of itself")
            return False
        if isinstance(node, yaml.MappingNode):
            self.mappings += 1
            if self.mappings > MAX_MAPPINGS:
                top = path[:1]
                self.problems.append(
                    (
                        top,
                        self.lines.line(top) or 1,
                        f"more than {MAX_MAPPINGS:,} mappings (key: value blocks) in all: too big to check",
                    )
                )
                return False
        open_nodes.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, path, open_nodes)
            return all(self.walk(item, path + (i,), open_nodes) for i, item in enumerate(node.value))
        finally:
            open_nodes.discard(id(node))

    def mapping(self, node: yaml.MappingNode, path: Path_, open_nodes: set[int]) -> bool:
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _T + "merge":
                if not self.walk(value_node, path, open_nodes):
                    return False
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _T + "str":
                shown = str(key_node.value)[:40] if isinstance(key_node, yaml.ScalarNode) else "?"
                kind = "a list or mapping" if shown == "?" else key_node.tag.rsplit(":", 1)[-1]
                self.fail(path + (shown,), key_node, f"a key must be text, not {kind} (quote it)")
                continue
            key = key_node.value
            child = path + (key,)
            if key in seen:
                self.fail(child, key_node, "key given twice")
            seen.add(key)
            self.scalar(key_node, child)
            self.lines.lines[child] = key_node.start_mark.line + 1
            if not self.walk(value_node, child, open_nodes):
                return False
        return True


def _reader_problem(exc: yaml.reader.ReaderError, text: str, display: str) -> GerminateError:
    line = text.count("\n", 0, exc.position) + 1
    return GerminateError(Problem(display, line, "yaml", f"character #x{exc.character:04x} is not allowed in YAML"))


def _parse(text: str, display: str, mapping: bool, top: str = "yaml") -> tuple[Any, LineMap]:
    try:
        loader = _Loader(text)  # the reader checks every character here
    except yaml.reader.ReaderError as exc:
        raise _reader_problem(exc, text, display) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.reader.ReaderError as exc:
            raise _reader_problem(exc, text, display) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise GerminateError(Problem(display, mark.line + 1 if mark else None, "yaml", reason)) from None
        if mapping and (node is None or not isinstance(node, yaml.MappingNode)):
            raise GerminateError(Problem(display, 1, None, "expected a mapping of settings (key: value)"))
        walk = _Walk(loader)
        if node is None:
            return None, walk.lines
        walk.walk(node, (), set())
        if walk.problems:
            raise GerminateError(
                [Problem(display, line, _field(p, top), message) for p, line, message in walk.problems]
            )
        try:
            data = loader.construct_document(node)
        except (yaml.YAMLError, ValueError, TypeError) as exc:  # e.g. a merge key over a list of scalars
            mark = getattr(exc, "problem_mark", None)
            reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise GerminateError(Problem(display, mark.line + 1 if mark else None, "yaml", reason)) from None
    finally:
        loader.dispose()
    return data, walk.lines


def parse_yaml(text: str, display: str) -> tuple[dict[str, Any], LineMap]:
    """A YAML mapping from text; any problem is raised as a GerminateError naming ``display:line``."""
    data, lines = _parse(text, display, mapping=True)
    return data, lines


def parse_value(text: str, display: str) -> Any:
    """One YAML value (a command-line ``--set`` value), checked like task.yaml's values; a refused
    value is reported under the field ``value`` (``yaml`` means it is not YAML at all)."""
    return _parse(text, display, mapping=False, top="value")[0]


def load_yaml(
    path: Path, display: str, *, limit: int, setting: str, root: Path | None = None
) -> tuple[dict[str, Any], LineMap]:
    """Load a YAML mapping from a regular file of at most ``limit`` bytes; any problem is raised
    as a GerminateError naming ``display:line``."""
    return parse_yaml(decode(read_bytes(path, display, limit=limit, setting=setting, root=root), display), display)
