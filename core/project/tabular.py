"""Seed examples from a table for ``germinate init --from``: a CSV or TSV file, a parquet file, or
a local Hugging Face ``datasets`` folder (what ``save_to_disk`` writes), its columns mapped to the
task type's record fields.

By default a column named like a record field fills it; ``--input-column`` and
``--output-column`` name the columns of the task type's input and output fields, and a JSON
mapping (``--columns '{"context": "passage"}'``) covers any other record shape. A cell whose field
is not text in the record schema (a tool call, an extraction's object) is read as JSON. Bad rows
are reported as ``file:line: field: message``, all at once. pyarrow and datasets (the
``germinate[data]`` extra) are imported only for parquet files and datasets folders.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from germinate.jsonl import JSONValueError, parse_json
from germinate.problems import GerminateError, Problem

DELIMITERS = {".csv": ",", ".tsv": "\t"}
#: a row of the source: (line or row number, {column: value})
Row = tuple[int, dict[str, Any]]


def is_table(source: Path) -> bool:
    """A CSV/TSV/parquet file, or a folder ``datasets.save_to_disk`` wrote."""
    if source.is_file():
        return source.suffix.lower() in (*DELIMITERS, ".parquet")
    return (source / "dataset_dict.json").is_file() or (source / "state.json").is_file()


def _bounded(source: Path) -> Any:
    """An open handle on ``source`` once it is known to be a regular file within the cap that
    ``init --from`` puts on seed files (:func:`germinate.files.open_bounded`)."""
    from germinate.files import open_bounded
    from germinate.settings import InputLimits

    limit = InputLimits().bytes("records_mb")
    return open_bounded(source, str(source), limit=limit, setting="init --from's cap")


def _csv_rows(path: Path, delimiter: str) -> Iterator[Row]:
    from germinate.files import decode

    csv.field_size_limit(1 << 24)  # long passages (QA contexts) are legitimate cells
    with _bounded(path) as handle:
        data = handle.read()
    text = decode(data, str(path))  # UTF-8, a leading byte order mark (Excel's "CSV UTF-8") left out
    del data
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        names = reader.fieldnames or []
        twice = [name for index, name in enumerate(names) if name in names[:index]]
        if twice:  # DictReader would keep the last such column's cells and drop the others
            raise GerminateError(Problem(str(path), 1, None, f"column {twice[0]!r} appears twice in the header line"))
        for row in reader:
            yield reader.line_num, {k: v for k, v in row.items() if k is not None}
    except csv.Error as exc:
        raise GerminateError(Problem(str(path), None, None, f"not a readable table: {exc}")) from None


def _needs_data_extra(what: str) -> GerminateError:
    return GerminateError(f"reading {what} needs pyarrow and datasets: pip install 'germinate[data]'")


def read_splits(source: Path, split: str) -> dict[str, list[Row]]:
    """The rows of ``source`` by split: ``seeds`` (the datasets folder's ``split``, or the whole
    file) and, for a datasets folder that has one, ``test``."""
    suffix = source.suffix.lower()
    if source.is_file() and suffix in DELIMITERS:
        return {"seeds": list(_csv_rows(source, DELIMITERS[suffix]))}
    if source.is_file():
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise _needs_data_extra("parquet files") from None
        try:
            with _bounded(source) as handle:
                rows = pq.read_table(handle).to_pylist()
        except GerminateError:
            raise
        except Exception as exc:  # pyarrow's errors share no base class worth naming
            raise GerminateError(Problem(str(source), None, None, f"not a readable parquet file: {exc}")) from None
        return {"seeds": list(enumerate(rows, 1))}
    try:
        from datasets import Dataset, disable_progress_bars, load_from_disk
    except ImportError:
        raise _needs_data_extra("a datasets folder") from None
    disable_progress_bars()
    try:
        loaded = load_from_disk(str(source))
    except Exception as exc:  # datasets raises several unrelated types for an unreadable folder
        raise GerminateError(Problem(str(source), None, None, f"not a readable datasets folder: {exc}")) from None
    if isinstance(loaded, Dataset):
        return {"seeds": list(enumerate(loaded.to_list(), 1))}
    if split not in loaded:
        raise GerminateError(Problem(str(source), None, "--split", f"no split {split!r} (splits: {', '.join(loaded)})"))
    out = {"seeds": list(enumerate(loaded[split].to_list(), 1))}
    if "test" in loaded and split != "test":
        out["test"] = list(enumerate(loaded["test"].to_list(), 1))
    return out


def column_mapping(
    task_type: Any, input_column: str | None = None, output_column: str | None = None, columns: str | None = None
) -> dict[str, str]:
    """Record field -> source column: same-named columns, then the flags."""
    mapping = {field: field for field in task_type.record_schema.get("properties", {})}
    if input_column:
        mapping[task_type.input_field] = input_column
    if output_column:
        mapping[task_type.output_field] = output_column
    if columns:
        try:
            given = parse_json(columns)
        except json.JSONDecodeError as exc:
            raise GerminateError(Problem("--columns", None, None, f"not JSON: {exc.msg}")) from None
        except JSONValueError as exc:
            raise GerminateError(Problem("--columns", None, None, f"not JSON germinate reads: {exc.message}")) from None
        if not isinstance(given, dict) or not all(isinstance(v, str) and v for v in given.values()):
            raise GerminateError(Problem("--columns", None, None, 'expected {"record field": "column", ...}'))
        fields = task_type.record_schema.get("properties", {})
        unknown = [key for key in given if key not in fields]
        if unknown:
            raise GerminateError(
                Problem("--columns", None, unknown[0], f"not a field of the records (fields: {', '.join(fields)})")
            )
        mapping.update(given)
    return mapping


def _is_text(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "string" or (isinstance(kind, list) and "string" in kind) or not schema


def to_records(
    rows: list[Row], mapping: dict[str, str], task_type: Any, display: str
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The rows as records of the task type; an empty cell leaves its field out (the record
    schema says whether it may be missing)."""
    fields = task_type.record_schema.get("properties", {})
    columns = {column for _, row in rows for column in row}
    problems = [
        Problem(display, None, field, f"no column {column!r} (columns: {', '.join(sorted(columns))})")
        for field, column in mapping.items()
        if rows and column not in columns and field in task_type.record_schema.get("required", [])
    ]
    if problems:
        return [], problems
    records = []
    for line, row in rows:
        record: dict[str, Any] = {}
        for field, column in mapping.items():
            value = row.get(column)
            if value is None or value == "":
                continue
            if isinstance(value, str) and not _is_text(fields.get(field, {})):
                try:
                    value = parse_json(value)  # strictly: no NaN, no key twice, no runaway nesting
                except json.JSONDecodeError as exc:
                    problems.append(Problem(display, line, field, f"expected JSON in column {column!r}: {exc.msg}"))
                    continue
                except JSONValueError as exc:
                    problems.append(Problem(display, line, field, f"JSON in column {column!r}: {exc.message}"))
                    continue
            record[field] = value
        records.append(record)
    return records, problems


def read_table(
    source: Path, task_type: Any, mapping: dict[str, str], split: str = "train"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(seeds, test) records from a table source; every bad row reported at once."""
    splits = read_splits(source, split)
    if not splits["seeds"]:
        raise GerminateError(Problem(str(source), None, None, "no rows: a header line and at least one row are needed"))
    problems: list[Problem] = []
    out: dict[str, list[dict[str, Any]]] = {}
    for name, rows in splits.items():
        display = str(source) if name == "seeds" or source.is_file() else f"{source}[{name}]"
        out[name], found = to_records(rows, mapping, task_type, display)
        problems += found
    if problems:
        raise GerminateError(problems)
    return out["seeds"], out.get("test", [])
