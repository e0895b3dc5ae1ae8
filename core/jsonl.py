"""Reading and durably appending JSON Lines files, keeping each record's line number.

An append-only log (a run's candidates.jsonl) killed mid-write ends in a torn line: bytes after
the last newline that are not a whole JSON object. This module is the one place that handles it:
:func:`read_log` leaves it out, :func:`append_jsonl` cuts it off before writing. A last line that
is whole but lacks its newline is a record like any other.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from germinate.problems import GerminateError, Problem


@attrs.frozen
class Record:
    data: dict[str, Any]
    line: int


def read_jsonl(path: Path, display: str) -> tuple[list[Record], list[Problem]]:
    """Every JSON object in the file with its line; blank lines are skipped, bad lines reported."""
    records: list[Record] = []
    problems: list[Problem] = []
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        return [], [Problem(display, None, None, "is a folder, expected a JSON Lines file")]
    except OSError as exc:
        return [], [Problem(display, None, None, f"cannot read: {exc.strerror or exc}")]
    for number, line in enumerate(raw.splitlines(), start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(Problem(display, number, "encoding", f"not UTF-8 ({exc.reason} at byte {exc.start})"))
            continue
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(Problem(display, number, "json", f"{exc.msg} (column {exc.colno})"))
            continue
        if not isinstance(value, dict):
            problems.append(Problem(display, number, None, f"expected a JSON object, got {type(value).__name__}"))
            continue
        records.append(Record(value, number))
    return records, problems


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


def read_log(path: Path) -> list[dict[str, Any]]:
    """The records of an append-only log, leaving out a torn last line; any other bad line is an
    error naming it. A missing file is an empty log."""
    if not path.exists():
        return []
    records, problems = read_jsonl(path, str(path))
    tail = _torn_tail(path)
    if problems and tail is not None and tail[1]:
        with open(path, "rb") as handle:
            last_line = sum(1 for _ in handle)
        if problems[-1].line == last_line:
            problems.pop()
    if problems:
        raise GerminateError(problems)
    return [r.data for r in records]


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
    """Replace a file atomically: readers see the old or the new content, never half."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
