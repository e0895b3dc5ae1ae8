"""A project folder: task.yaml, seeds.jsonl, optional test.jsonl, context/ and prompts/, loaded
and checked.

Every problem found is reported as ``file:line: field: message``; loading never stops at the
first one, so a user fixes everything in one pass. Every file is read through
:mod:`germinate.files` (regular files inside the project, within ``limits:``), and everything a
later stage reads is checked here (see :mod:`germinate.project.checks` and
:mod:`germinate.project.prompts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from germinate.jsonl import Record, count_lines, read_jsonl
from germinate.plugins import Plugins, get_plugins
from germinate.problems import GerminateError, Problem
from germinate.project.checks import judge_problems, property_problems, secret_problems, validator_problems
from germinate.project.context import CONTEXT_DIR, context_files
from germinate.project.errors import field_name, schema_problems
from germinate.project.prompts import read_prompt_files, template_problems
from germinate.project.schema import DEFAULT_MAX_SEEDS, MIN_SEEDS, merged_schema
from germinate.project.yamlfile import LineMap, load_yaml
from germinate.settings import InputLimits, section_schema

TASK_FILE = "task.yaml"
SEEDS_FILE = "seeds.jsonl"
TEST_FILE = "test.jsonl"
__all__ = [
    "CONTEXT_DIR",
    "SEEDS_FILE",
    "TASK_FILE",
    "TEST_FILE",
    "Project",
    "check_project",
    "input_problems",
    "load_project",
]

#: seed lines read and checked past max_seeds: enough to list a file's problems, not 200,000 of them
SEEDS_CHECKED_PAST_MAX = 10


@attrs.define
class Project:
    root: Path
    config: dict[str, Any]
    lines: LineMap
    task_type: Any
    seeds: list[Record]
    test: list[Record]
    context_files: list[Path]
    #: caps on what is read (task.yaml's ``limits:``)
    limits: InputLimits = attrs.field(factory=InputLimits)
    #: ``prompts/*.txt`` by name, as checked
    prompt_files: dict[str, str] = attrs.field(factory=dict)

    @property
    def name(self) -> str:
        return self.config.get("name") or self.root.resolve().name

    def section(self, key: str) -> dict[str, Any]:
        value = self.config.get(key)
        return value if isinstance(value, dict) else {}


def _check_config(config: dict, lines: LineMap, plugins: Plugins, root: Path) -> tuple[Any, list[Problem]]:
    problems: list[Problem] = []
    reported: set[tuple] = set()

    def add(path: tuple, message: str) -> None:
        if tuple(path) in reported:  # a secret is reported once, not again as an unknown key
            return
        problems.append(Problem(TASK_FILE, lines.line(path), field_name(path), message))

    for path, message in secret_problems(config):
        add(path, message)
        reported.add(tuple(path))

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
        for path, message in property_problems(config, task_type):
            add(path, message)

    teacher = config.get("teacher")
    if isinstance(teacher, dict) and isinstance(teacher.get("backend"), str):
        backend = plugins.teachers.get(teacher["backend"])
        if backend is None:
            known = ", ".join(sorted(plugins.teachers)) or "none"
            add(("teacher", "backend"), f"unknown teacher backend {teacher['backend']!r} (installed: {known})")
        else:
            found = list(schema_problems(backend.config_schema, teacher))
            if not found:
                found = list(backend.check_settings(teacher, root))
            for path, message in found:
                add(("teacher",) + tuple(path), message)
    if not problems:
        for path, message in judge_problems(config, plugins, root):
            add(path, message)

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


def input_problems(records: list[Record], display: str, task_type: Any) -> list[Problem]:
    """Records to predict on (``predict --input``): each must carry, with the record schema's
    types, the fields the student's prompt is made of; the reference output is optional."""
    schema = task_type.input_schema()
    return [
        Problem(display, record.line, field_name(path) or None, message)
        for record in records
        for path, message in schema_problems(schema, record.data)
    ]


def _limits(config: dict[str, Any]) -> InputLimits:
    """task.yaml's ``limits:``, or the defaults when it is missing or broken (reads stay bounded)."""
    section = config.get(InputLimits.section)
    if not isinstance(section, dict) or any(True for _ in schema_problems(section_schema(InputLimits), section)):
        return InputLimits()
    return InputLimits.from_config(section)


def _read_records(
    path: Path, display: str, limits: InputLimits, root: Path, max_lines: int | None = None
) -> tuple[list[Record], list[Problem]]:
    return read_jsonl(
        path, display, limit=limits.bytes("records_mb"), setting="limits.records_mb", root=root, max_lines=max_lines
    )


def check_project(root: Path, plugins: Plugins | None = None) -> tuple[Project | None, Sequence[Problem | str]]:
    """Load and check everything; the project is None when problems make it unusable."""
    plugins = plugins or get_plugins()
    root = Path(root)
    if not root.is_dir():
        return None, [Problem(str(root), None, None, "no such project folder")]
    task_path = root / TASK_FILE
    if not task_path.exists() and not task_path.is_symlink():
        return None, [Problem(TASK_FILE, None, None, "missing; every project needs one (see `germinate init`)")]
    try:
        config, lines = load_yaml(
            task_path, TASK_FILE, limit=InputLimits.task_file_bytes(), setting="the cap on task.yaml", root=root
        )
    except GerminateError as exc:
        return None, exc.problems
    task_type, problems = _check_config(config, lines, plugins, root)
    if task_type is None:
        return None, problems
    usable_config = None if problems else config
    limits = _limits(config)

    seeds_path = root / SEEDS_FILE
    seeds: list[Record] = []
    if not seeds_path.exists() and not seeds_path.is_symlink():
        problems.append(Problem(SEEDS_FILE, None, None, f"missing; a project needs {MIN_SEEDS} or more seed examples"))
        seen: dict[str, tuple[str, int]] = {}
    else:
        max_seeds = config.get("max_seeds", DEFAULT_MAX_SEEDS)
        # seeds far past max_seeds are refused by their count: reading, checking and listing
        # problems for 200,000 of them would take minutes and print as many lines
        cap = max_seeds + SEEDS_CHECKED_PAST_MAX if isinstance(max_seeds, int) else None
        raw, read_problems = _read_records(seeds_path, SEEDS_FILE, limits, root, max_lines=cap)
        problems.extend(read_problems)
        seeds = _check_records(raw, SEEDS_FILE, task_type, usable_config, problems)
        seen = _duplicates(seeds, SEEDS_FILE, task_type, problems)
        count = len(raw) + len([p for p in read_problems if p.line is not None])
        unreadable = any(p.line is None for p in read_problems)
        if cap is not None and count >= cap and not unreadable:
            count = count_lines(
                seeds_path, SEEDS_FILE, limit=limits.bytes("records_mb"), setting="limits.records_mb", root=root
            )
        if not read_problems and count < MIN_SEEDS:
            problems.append(
                Problem(SEEDS_FILE, None, "seeds", f"{count} seed examples; at least {MIN_SEEDS} are needed")
            )
        elif not unreadable and isinstance(max_seeds, int) and count > max_seeds:
            problems.append(
                Problem(
                    SEEDS_FILE,
                    None,
                    "seeds",
                    f"{count} seed examples; at most {max_seeds} "
                    f"are allowed (raise max_seeds in {TASK_FILE} to use more)",
                )
            )
    if usable_config is not None and seeds and not problems:
        for path, message in validator_problems(config, plugins, task_type, [r.data for r in seeds], root):
            problems.append(Problem(TASK_FILE, lines.line(path), field_name(path), message))

    test: list[Record] = []
    test_path = root / TEST_FILE
    if test_path.exists() or test_path.is_symlink():
        raw, read_problems = _read_records(test_path, TEST_FILE, limits, root)
        problems.extend(read_problems)
        test = _check_records(raw, TEST_FILE, task_type, usable_config, problems)
        if seeds:
            _duplicates(test, TEST_FILE, task_type, problems, against=seen)

    context = context_files(root, limits, problems)
    prompt_files = read_prompt_files(root, limits, problems)
    if usable_config is not None:
        problems.extend(template_problems(config, lines.line, task_type, prompt_files))
    if problems:
        return None, problems
    return Project(root, config, lines, task_type, seeds, test, context, limits, prompt_files), []


def load_project(root: Path, plugins: Plugins | None = None) -> Project:
    project, problems = check_project(root, plugins)
    if project is None:
        raise GerminateError(problems)
    return project
