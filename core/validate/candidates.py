"""The shape of a candidate row (a run's candidates.jsonl, or ``validate --candidates``), checked
before any validator sees it: a row of the wrong shape is the file's fault, named by file, line
and field, never a validator's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from germinate.jsonl import Record, read_jsonl, read_log_records
from germinate.problems import GerminateError, Problem
from germinate.project.errors import field_name, schema_problems

_TEXT_OR_NULL = {"type": ["string", "null"]}

#: one candidate row; ``index`` is required in a run's own log (generation resumes after the last)
CANDIDATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "record"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "index": {"type": "integer", "minimum": 0},
        "record": {"type": ["object", "null"]},
        "raw": _TEXT_OR_NULL,
        "error": _TEXT_OR_NULL,
        "theta": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        "teacher": _TEXT_OR_NULL,
        "prompt_hash": _TEXT_OR_NULL,
        "source": {"type": "string"},
    },
}


def candidate_problems(
    rows: list[Record],
    display: str,
    task_type: Any,
    *,
    require_index: bool = False,
    imported: frozenset[int] = frozenset(),
) -> list[Problem]:
    """Every row that is not a usable candidate: its shape, its record against the task type's
    record schema, an id given twice, indexes out of order. Rows on ``imported`` lines were plain
    records in the file: their fields are named as the file has them."""
    schema = {**CANDIDATE_SCHEMA, "required": ["id", "record", *(["index"] if require_index else [])]}
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    last_index = -1
    for row in rows:
        found = [
            Problem(display, row.line, field_name(path) or None, message)
            for path, message in schema_problems(schema, row.data)
        ]
        record = row.data.get("record")
        if not found and record is not None:
            prefix: tuple[Any, ...] = () if row.line in imported else ("record",)
            found = [
                Problem(display, row.line, field_name(prefix + tuple(path)) or None, message)
                for path, message in schema_problems(task_type.record_schema, record)
            ]
        if not found:
            cid = row.data["id"]
            if cid in seen:
                found.append(Problem(display, row.line, "id", f"{cid!r} is given twice (first on line {seen[cid]})"))
            seen.setdefault(cid, row.line)
            if require_index:
                if row.data["index"] <= last_index:
                    found.append(
                        Problem(display, row.line, "index", f"{row.data['index']} does not follow {last_index}")
                    )
                last_index = row.data["index"]
        problems += found
    return problems


def read_candidates(
    path: Path, display: str, task_type: Any, *, limit: int, setting: str, in_run: bool, require_index: bool = False
) -> list[dict[str, Any]]:
    """Candidate rows from a JSONL file, each checked. A run's own log (``in_run``) may end in a
    torn line, which is left out (see :func:`germinate.jsonl.read_log_records`); in a file given
    with ``--candidates``, rows that are plain records (no ``id`` and ``record``) become imported
    candidates."""
    if in_run:
        records = read_log_records(path, limit=limit, setting=setting)
    else:
        records, problems = read_jsonl(path, display, limit=limit, setting=setting)
        if problems:
            raise GerminateError(problems)
    rows: list[Record] = []
    imported = set()
    for record in records:
        if in_run or ("id" in record.data and "record" in record.data):
            rows.append(record)
        else:
            data = {"id": f"import-{record.line:06d}", "record": record.data, "raw": None, "source": "imported"}
            rows.append(Record(data, record.line))
            imported.add(record.line)
    found = candidate_problems(rows, display, task_type, require_index=require_index, imported=frozenset(imported))
    if found:
        raise GerminateError(found)
    return [row.data for row in rows]


def run_candidates(run: Any, task_type: Any, *, require_index: bool = False) -> list[dict[str, Any]]:
    """A run's candidates.jsonl, checked (a torn last line left out); generation, which resumes
    after the last ``index``, requires one on every row."""
    run.contained()
    return read_candidates(
        run.candidates,
        str(run.candidates),
        task_type,
        limit=run.limits.bytes("run_files_mb"),
        setting="limits.run_files_mb",
        in_run=True,
        require_index=require_index,
    )
