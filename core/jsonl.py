"""Reading and durably appending JSON Lines files, keeping each record's line number.

Every JSON value a user hands germinate goes through :func:`parse_json`, which refuses what the
standard parser lets through and later code cannot take: a key given twice (the last one would
silently win), NaN and infinities, integers of hundreds of digits, nesting deeper than
:data:`~germinate.files.MAX_DEPTH`, and lone surrogates (text no UTF-8 writer can write back).
Files are read through :mod:`germinate.files`: a regular file, bounded in size.

An append-only log (a run's candidates.jsonl) killed mid-write ends in a torn line: bytes after
the last newline that are not a whole JSON object. This module is the one place that handles it:
:func:`read_log` leaves it out, :func:`append_jsonl` cuts it off before writing. A last line that
is whole but lacks its newline is a record like any other.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from germinate.files import BOM, MAX_DEPTH, MAX_INT_DIGITS, open_bounded
from germinate.problems import GerminateError, Problem, located


@attrs.frozen
class Record:
    data: dict[str, Any]
    line: int


class JSONValueError(ValueError):
    """A JSON text that parses but is refused; ``field`` is where in the value, if known."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise JSONValueError("json", f"key {key!r} given twice")
        out[key] = value
    return out


def _constant(name: str) -> Any:
    raise JSONValueError("json", f"{name} is not a number JSON allows")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONValueError("json", f"{text[:20]} is too large for a number")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JSONValueError("json", f"an integer of {len(text.lstrip('-'))} digits (at most {MAX_INT_DIGITS})")
    return int(text)


_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object"}


def json_type(value: Any) -> str:
    """What JSON calls ``value``'s type (``null``, ``array``...), for messages: a user wrote JSON,
    not Python."""
    return "null" if value is None else _JSON_TYPES.get(type(value), type(value).__name__)


def _field(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "json"


def _surrogate(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"\\u{ord(text[exc.start]):04x}"
    return None


def check_value(value: Any) -> None:
    """Raise :class:`JSONValueError` for nesting deeper than MAX_DEPTH or a lone surrogate in any
    key or string (iterative: a deep value cannot exhaust the stack here)."""
    stack: list[tuple[Any, list[Any]]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if len(path) >= MAX_DEPTH:  # the top value is level 1
            raise JSONValueError(_field(path[:3]), f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, str):
            bad = _surrogate(item)
            if bad:
                raise JSONValueError(_field(path), f"a lone surrogate ({bad}) is not Unicode text")
        elif isinstance(item, dict):
            for key, sub in item.items():
                bad = _surrogate(key)
                if bad:
                    raise JSONValueError(_field(path), f"a key with a lone surrogate ({bad}) is not Unicode text")
                stack.append((sub, path + [key]))
        elif isinstance(item, list):
            stack.extend((sub, path + [i]) for i, sub in enumerate(item))


def parse_json(text: str) -> Any:
    """A JSON value, strictly (see the module docstring). Raises :class:`JSONValueError`, or
    json.JSONDecodeError for text that is not JSON at all."""
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except RecursionError:
        raise JSONValueError("json", f"nested more than {MAX_DEPTH} levels deep") from None
    check_value(value)
    return value


def _parse_line(text: str, display: str, number: int) -> tuple[Any, Problem | None]:
    try:
        return parse_json(text), None
    except json.JSONDecodeError as exc:
        return None, Problem(display, number, "json", f"{exc.msg} (column {exc.colno})")
    except JSONValueError as exc:
        return None, Problem(display, number, exc.field, exc.message)


def read_jsonl(
    path: Path,
    display: str,
    *,
    limit: int,
    setting: str,
    root: Path | None = None,
    max_lines: int | None = None,
) -> tuple[list[Record], list[Problem]]:
    """Every JSON object in the file with its line; blank lines are skipped, bad lines reported.
    The file must be a regular file of at most ``limit`` bytes (``setting`` names the cap in
    messages) and, with ``root``, lie inside it; otherwise the one problem says why. With
    ``max_lines``, reading stops after that many lines that are not blank (see
    :func:`count_lines` for how many there are)."""
    records: list[Record] = []
    problems: list[Problem] = []
    try:
        with open_bounded(path, display, limit=limit, setting=setting, root=root) as handle:
            read = 0
            for number, line in enumerate(handle, start=1):
                read += len(line)
                if read > limit:  # it grew after it was measured
                    return [], [Problem(display, None, None, f"grew past {setting} while being read")]
                if max_lines is not None and len(records) + len(problems) >= max_lines and line.strip():
                    break
                if number == 1:  # a byte order mark, as some editors write UTF-8, is no JSON error
                    line = line.removeprefix(BOM)
                try:
                    text = line.rstrip(b"\r\n").decode("utf-8")
                except UnicodeDecodeError as exc:
                    problems.append(
                        Problem(display, number, "encoding", f"not UTF-8 ({exc.reason} at byte {exc.start})")
                    )
                    continue
                if not text.strip():
                    continue
                value, problem = _parse_line(text, display, number)
                if problem is not None:
                    problems.append(problem)
                elif not isinstance(value, dict):
                    problems.append(Problem(display, number, None, f"expected a JSON object, got {json_type(value)}"))
                else:
                    records.append(Record(value, number))
    except GerminateError as exc:
        return [], located(exc.problems)
    except OSError as exc:
        return [], [Problem(display, None, None, f"cannot read: {exc.strerror or exc}")]
    return records, problems


def count_lines(path: Path, display: str, *, limit: int, setting: str, root: Path | None = None) -> int:
    """How many lines of the file are not blank (bounded like :func:`read_jsonl`; nothing parsed)."""
    count = 0
    with open_bounded(path, display, limit=limit, setting=setting, root=root) as handle:
        for line in handle:
            count += bool(line.strip())
    return count


def _torn_tail(path: Path) -> tuple[int, bool] | None:
    """(offset of the last line, whether it is torn) when the file does not end in a newline."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    if size == 0:
        return None
    with open(path, "rb") as handle:
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return None
        # the last line alone: read backwards in blocks until its newline (a log line is small)
        start, block = size, 1 << 16
        while start > 0:
            step = min(block, start)
            handle.seek(start - step)
            chunk = handle.read(step)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                start = start - step + cut + 1
                break
            start -= step
        handle.seek(start)
        tail = handle.read()
    try:
        return start, not isinstance(json.loads(tail.decode("utf-8")), dict)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return start, True


def read_log_records(path: Path, *, limit: int, setting: str) -> list[Record]:
    """The records of an append-only log with their lines, leaving out a torn last line; any
    other bad line is an error naming it. A missing file is an empty log."""
    if not path.exists() and not path.is_symlink():
        return []
    records, problems = read_jsonl(path, str(path), limit=limit, setting=setting)
    if problems and problems[-1].line is not None:
        tail = _torn_tail(path)
        if tail is not None and tail[1]:
            with open(path, "rb") as handle:
                last_line = sum(1 for _ in handle)
            if problems[-1].line == last_line:
                problems.pop()
    if problems:
        raise GerminateError(problems)
    return records


def read_log(path: Path, *, limit: int, setting: str) -> list[dict[str, Any]]:
    """The rows of an append-only log (see :func:`read_log_records`)."""
    return [r.data for r in read_log_records(path, limit=limit, setting=setting)]


def append_jsonl(path: Path, rows: Iterable[dict[str, Any]], durable: bool = True) -> None:
    """Append rows; with ``durable`` the data is on disk (fsync) before this returns, so a
    kill -9 right after loses nothing. A torn last line is cut off first, a whole last line
    without its newline gets one."""
    payload = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if not payload:
        return
    tail = _torn_tail(path)
    if tail is not None:
        if tail[1]:
            os.truncate(path, tail[0])
        else:
            payload = "\n" + payload
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(payload)
        handle.flush()
        if durable:
            os.fsync(handle.fileno())


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Replace a file atomically: readers see the old or the new content, never half; a write that
    fails leaves no temporary file behind."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
