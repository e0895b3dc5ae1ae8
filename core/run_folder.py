"""A run's folder under ``PROJECT/runs/<name>/`` and the files in it.

candidates.jsonl  every candidate in generation order:
                  {"id", "record" (null if the teacher's text could not be parsed), "raw",
                   "error", "theta", "teacher", "prompt_hash"}
accepted.jsonl    seeds and accepted candidates: {"id", "source", "record", "theta", ...}
rejected.jsonl    the rejection ledger: {"id", "validator", "reason", "score", "nearest_anchor",
                   "raw", "record", "theta"}
validation.json   per-validator summary and the settings that produced it
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import attrs

from germinate.jsonl import read_jsonl
from germinate.problems import GerminateError

DEFAULT_RUN = "default"


@attrs.frozen
class RunFolder:
    path: Path

    @classmethod
    def of(cls, project_root: Path, name: str = DEFAULT_RUN) -> "RunFolder":
        return cls(Path(project_root) / "runs" / name)

    @property
    def candidates(self) -> Path:
        return self.path / "candidates.jsonl"

    @property
    def accepted(self) -> Path:
        return self.path / "accepted.jsonl"

    @property
    def rejected(self) -> Path:
        return self.path / "rejected.jsonl"

    @property
    def validation_summary(self) -> Path:
        return self.path / "validation.json"

    @property
    def properties(self) -> Path:
        return self.path / "properties.json"

    def ensure(self) -> "RunFolder":
        self.path.mkdir(parents=True, exist_ok=True)
        return self

    def rows(self, path: Path) -> list[dict[str, Any]]:
        if not path.exists():
            return []
        records, problems = read_jsonl(path, str(path))
        # a torn last line is what a kill -9 mid-write leaves: skip it, report anything else
        if problems and not (len(problems) == 1 and problems[0].line == _line_count(path)):
            raise GerminateError(problems)
        return [r.data for r in records]


def _line_count(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
