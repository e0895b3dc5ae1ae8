"""Reading and durably appending JSON Lines files, keeping each record's line number."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

import attrs

from germinate.problems import Problem


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
            problems.append(Problem(display, number, None,
                                    f"expected a JSON object, got {type(value).__name__}"))
            continue
        records.append(Record(value, number))
    return records, problems


def append_jsonl(path: Path, rows: Iterable[dict[str, Any]], durable: bool = True) -> None:
    """Append rows; with ``durable`` the data is on disk (fsync) before this returns, so a
    kill -9 right after loses nothing."""
    payload = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if not payload:
        return
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
