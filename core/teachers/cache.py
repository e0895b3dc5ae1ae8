"""The persistent cache of teacher calls: SQLite (WAL) under the project's ``.germinate/``.

Only successful answers are stored, keyed by :meth:`ChatRequest.key`, so a rerun or a resumed run
never pays twice for a finished call, and a failure is always retried. Requests are stored
beside the answers for inspection; they never contain secrets (keys live in the environment).
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from germinate.teachers.base import ChatRequest, Completion

CACHE_DIR = ".germinate"
CACHE_FILE = "cache.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    stage TEXT NOT NULL,
    request TEXT NOT NULL,
    text TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    finish_reason TEXT,
    created REAL NOT NULL
)
"""


class Cache:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        # a process killed mid-run keeps every committed call; only a power cut could lose the last
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(_SCHEMA)

    @classmethod
    def for_project(cls, root: Path) -> Cache:
        return cls(Path(root) / CACHE_DIR / CACHE_FILE)

    def get(self, key: str) -> Completion | None:
        row = self.db.execute(
            "SELECT text, input_tokens, output_tokens, finish_reason FROM calls WHERE key = ?", (key,)
        ).fetchone()
        return Completion(*row) if row else None

    def put(self, key: str, model: str, request: ChatRequest, completion: Completion) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                model,
                request.stage,
                json.dumps(
                    {"messages": request.messages, "params": request.params, "sample": request.sample},
                    ensure_ascii=False,
                ),
                completion.text,
                completion.input_tokens,
                completion.output_tokens,
                completion.finish_reason,
                time.time(),
            ),
        )

    def stats(self) -> dict[str, Any]:
        rows = self.db.execute(
            "SELECT model, stage, COUNT(*), SUM(input_tokens), SUM(output_tokens) FROM calls "
            "GROUP BY model, stage ORDER BY model, stage"
        ).fetchall()
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.exists())
        return {
            "path": str(self.path),
            "bytes": size,
            "calls": sum(r[2] for r in rows),
            "by": [
                {"model": m, "stage": s, "calls": c, "input_tokens": i or 0, "output_tokens": o or 0}
                for m, s, c, i, o in rows
            ],
        }

    def clear(self, stage: str | None = None) -> int:
        cursor = self.db.execute("DELETE FROM calls" + (" WHERE stage = ?" if stage else ""), (stage,) if stage else ())
        self.db.execute("VACUUM")
        return cursor.rowcount

    def close(self) -> None:
        self.db.close()
