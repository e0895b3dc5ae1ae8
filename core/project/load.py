"""A project folder: task.yaml, seeds.jsonl, optional test.jsonl and context/, loaded and checked.

Every problem found is reported as ``file:line: field: message``; loading never stops at the
first one, so a user fixes everything in one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from germinate.jsonl import Record, read_jsonl
from germinate.plugins import Plugins, get_plugins
from germinate.problems import GerminateError, Problem
from germinate.project.errors import field_name, schema_problems
from germinate.project.schema import DEFAULT_MAX_SEEDS, MIN_SEEDS, merged_schema
from germinate.project.yamlfile import LineMap, load_yaml

TASK_FILE = "task.yaml"
SEEDS_FILE = "seeds.jsonl"
TEST_FILE = "test.jsonl"
CONTEXT_DIR = "context"


@attrs.define
class Project:
    root: Path
    config: dict[str, Any]
    lines: LineMap
    task_type: Any
    seeds: list[Record]
    test: list[Record]
    context_files: list[Path]

    @property
    def name(self) -> str:
        return self.config.get("name") or self.root.resolve().name

    def section(self, key: str) -> dict[str, Any]:
        value = self.config.get(key)
        return value if isinstance(value, dict) else {}


def _check_config(config: dict, lines: LineMap, plugins: Plugins) -> tuple[Any, list[Problem]]:
    problems: list[Problem] = []

    def add(path: tuple, message: str) -> None:
        problems.append(Problem(TASK_FILE, lines.line(path), field_name(path), message))

    task_type = None
    name = config.get("task_type")
    if isinstance(name, str) and name:
        task_type = plugins.task_types.get(name)
        if task_type is None:
            known = ", ".join(sorted(plugins.task_types)) or "none"
            add(("task_type",), f"unknown task type {name!r} (installed: {known})")
    for path, message in schema_problems(merged_schema(task_type), config):
        add(path, message)
    if task_type is not None and not problems:
        for path, message in task_type.check_config(config):
            add(tuple(path), message)

    teacher = config.get("teacher")
    if isinstance(teacher, dict) and isinstance(teacher.get("backend"), str):
        backend = plugins.teachers.get(teacher["backend"])
        if backend is None:
            known = ", ".join(sorted(plugins.teachers)) or "none"
            add(("teacher", "backend"), f"unknown teacher backend {teacher['backend']!r} (installed: {known})")
        else:
            for path, message in schema_problems(backend.config_schema, teacher):
                if path == ("api_key",):
                    message = (
                        "API keys do not belong in task.yaml: export the key in an environment "
                        "variable and name that variable in teacher.api_key_env"
                    )
                add(("teacher",) + path, message)

    validation = config.get("validation")
    if isinstance(validation, dict):
        validators = plugins.validators
        installed = ", ".join(sorted(validators)) or "none"
        for index, vname in enumerate(validation.get("order") or []):
            if isinstance(vname, str) and vname not in validators:
                add(("validation", "order", index), f"unknown validator {vname!r} (installed: {installed})")
        for key, settings in validation.items():
            if key == "order":
                continue
            if key not in validators:
                add(("validation", key), f"unknown validator (installed: {installed})")
            elif isinstance(settings, dict):
                for path, message in schema_problems(validators[key].config_schema, settings):
                    add(("validation", key) + path, message)
    return task_type, problems


def _check_records(
    records: list[Record], display: str, task_type: Any, config: dict | None, problems: list[Problem]
) -> list[Record]:
    """Schema and task checks per record; returns the records that passed. ``config`` is None
    when task.yaml is broken: then the task's own checks (labels, tools...) would only echo it."""
    good = []
    for record in records:
        found = [
            Problem(display, record.line, field_name(path) or None, message)
            for path, message in schema_problems(task_type.record_schema, record.data)
        ]
        if not found and config is not None:
            found = [
                Problem(display, record.line, field, message)
                for field, message in task_type.check_record(record.data, config)
            ]
        problems.extend(found)
        if not found:
            good.append(record)
    return good


def _duplicates(
    records: list[Record],
    display: str,
    task_type: Any,
    problems: list[Problem],
    against: dict[str, tuple[str, int]] | None = None,
) -> dict[str, tuple[str, int]]:
    first: dict[str, tuple[str, int]] = {}
    for record in records:
        key = task_type.record_key(record.data)
        if against is not None and key in against:
            other, line = against[key]
            problems.append(
                Problem(
                    display,
                    record.line,
                    task_type.key_fields[0],
                    f"same example as {other}:{line} (test data must not overlap the seeds)",
                )
            )
        elif against is None and key in first:
            problems.append(
                Problem(display, record.line, task_type.key_fields[0], f"duplicate of line {first[key][1]}")
            )
        else:
            first[key] = (display, record.line)
    return first


def _context_files(root: Path, problems: list[Problem]) -> list[Path]:
    folder = root / CONTEXT_DIR
    if not folder.exists():
        return []
    if not folder.is_dir():
        problems.append(Problem(CONTEXT_DIR, None, None, "expected a folder of documents"))
        return []
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    for path in files:
        display = str(path.relative_to(root))
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(Problem(display, None, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
        except OSError as exc:
            problems.append(Problem(display, None, None, f"cannot read: {exc.strerror or exc}"))
    return files


def check_project(root: Path, plugins: Plugins | None = None) -> tuple[Project | None, Sequence[Problem | str]]:
    """Load and check everything; the project is None when problems make it unusable."""
    plugins = plugins or get_plugins()
    root = Path(root)
    if not root.is_dir():
        return None, [Problem(str(root), None, None, "no such project folder")]
    task_path = root / TASK_FILE
    if not task_path.exists():
        return None, [Problem(TASK_FILE, None, None, "missing; every project needs one (see `germinate init`)")]
    try:
        config, lines = load_yaml(task_path, TASK_FILE)
    except GerminateError as exc:
        return None, exc.problems
    task_type, problems = _check_config(config, lines, plugins)
    if task_type is None:
        return None, problems
    usable_config = None if problems else config

    seeds_path = root / SEEDS_FILE
    if not seeds_path.exists():
        problems.append(Problem(SEEDS_FILE, None, None, f"missing; a project needs {MIN_SEEDS} or more seed examples"))
        seeds: list[Record] = []
    else:
        raw, read_problems = read_jsonl(seeds_path, SEEDS_FILE)
        problems.extend(read_problems)
        seeds = _check_records(raw, SEEDS_FILE, task_type, usable_config, problems)
        seen = _duplicates(seeds, SEEDS_FILE, task_type, problems)
        max_seeds = config.get("max_seeds", DEFAULT_MAX_SEEDS)
        count = len(raw) + len(read_problems)
        if not read_problems and count < MIN_SEEDS:
            problems.append(
                Problem(SEEDS_FILE, None, "seeds", f"{count} seed examples; at least {MIN_SEEDS} are needed")
            )
        elif isinstance(max_seeds, int) and count > max_seeds:
            problems.append(
                Problem(
                    SEEDS_FILE,
                    None,
                    "seeds",
                    f"{count} seed examples; at most {max_seeds} "
                    f"are allowed (raise max_seeds in {TASK_FILE} to use more)",
                )
            )

    test: list[Record] = []
    test_path = root / TEST_FILE
    if test_path.exists() or test_path.is_symlink():
        raw, read_problems = read_jsonl(test_path, TEST_FILE)
        problems.extend(read_problems)
        test = _check_records(raw, TEST_FILE, task_type, usable_config, problems)
        if seeds:
            _duplicates(test, TEST_FILE, task_type, problems, against=seen)

    context = _context_files(root, problems)
    if problems:
        return None, problems
    return Project(root, config, lines, task_type, seeds, test, context), []


def load_project(root: Path, plugins: Plugins | None = None) -> Project:
    project, problems = check_project(root, plugins)
    if project is None:
        raise GerminateError(problems)
    return project
