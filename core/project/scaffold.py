"""Writing a new project folder: a commented task.yaml, seeds, optional test split and context.

Everything is read (bounded, see :mod:`germinate.files`) and rendered to bytes before the first
file is written, so bad input never leaves a half-made project; a write that fails part-way
removes what it had created.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from germinate.files import decode, read_bytes
from germinate.jsonl import JSONValueError, json_type, parse_json, read_jsonl
from germinate.problems import GerminateError, Problem, located
from germinate.project.load import CONTEXT_DIR, SEEDS_FILE, TASK_FILE, TEST_FILE
from germinate.project.schema import DEFAULT_MAX_SEEDS
from germinate.settings import InputLimits


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _dump(key: str, value: Any) -> str:
    return yaml.dump({key: value}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


_HEADER = """\
# germinate project: what the expert model should do, and how to make it.
# Check it with `germinate check .`; run everything with `germinate run .`.
"""

_FOOTER = """
# --- Optional sections: uncomment and edit. Every key has a default. -------------------------
#
# Teacher: the model that writes synthetic examples, labels seed properties and judges answers.
# Without this section germinate uses the embedded local model (offline, weak but free).
# teacher:
#   backend: openai                     # openai | anthropic | local  (`germinate teachers` lists them)
#   model: gpt-4o-mini
#   api_key_env: OPENAI_API_KEY         # the NAME of the variable; the key itself is never stored
#   base_url: http://127.0.0.1:8000/v1  # any OpenAI-compatible server: vLLM, Ollama, llama.cpp
#
# Student: the small model that is fine-tuned. Default: the embedded SmolLM2-135M-Instruct.
# student:
#   model: /path/to/hf-folder-or-model.gguf
#
# generation:
#   n: 10000                # accepted synthetic examples to produce
#   seeds_per_prompt: 4     # seed examples shown to the teacher in each prompt
#   properties: [complexity]   # latent properties to vary (plus the task type's own)
#   seed: 0                 # random seed: the same seed gives the same samples
#
# validation:
#   order: [format, length, schema, novelty]   # cheap checks first
#   novelty: {tau_min: 0.1, tau_max: 0.9}
#   length: false           # switch a validator off
#
# training:                 # LoRA defaults from the paper
#   epochs: 4
#   learning_rate: 5.0e-5
#   lora_rank: 64
#   lora_alpha: 64
#   target_modules: [q_proj, v_proj]
#
# evaluation:
#   k_shot: 5               # examples in the teacher's prompt (from the training data only)
#   repeats: 3              # training runs per reference point
"""


def render_task_yaml(
    task_type: str, description: str, name: str | None, extra: dict[str, Any], max_seeds: int | None
) -> str:
    parts = [
        _HEADER,
        "\n# The task family (`germinate task-types` lists those installed).\n",
        _dump("task_type", task_type),
    ]
    if name:
        parts.append(_dump("name", name))
    parts += [
        "\n# Plain-English description of the task: the teacher reads it, and it becomes the\n"
        "# student's system prompt.\n",
        _dump("description", description),
    ]
    for key, value in extra.items():
        parts += ["\n", _dump(key, value)]
    if max_seeds:
        parts += [
            "\n# More seed examples than the usual 10-50 are allowed for this project.\n",
            _dump("max_seeds", max_seeds),
        ]
    parts.append(_FOOTER)
    return "".join(parts)


def read_task_json(source: Path) -> dict[str, Any]:
    """``SOURCE/task.json``: a regular file of at most 1 MB holding one JSON object."""
    path = source / "task.json"
    if not path.exists() and not path.is_symlink():
        raise GerminateError(
            Problem(str(path), None, None, "missing; --from needs a folder with task.json and seeds.jsonl")
        )
    text = decode(
        read_bytes(path, str(path), limit=InputLimits.task_file_bytes(), setting="the cap on task.json"), str(path)
    )
    try:
        data = parse_json(text)
    except json.JSONDecodeError as exc:
        raise GerminateError(Problem(str(path), exc.lineno, "json", exc.msg)) from None
    except JSONValueError as exc:
        raise GerminateError(Problem(str(path), None, exc.field, exc.message)) from None
    if not isinstance(data, dict):
        raise GerminateError(Problem(str(path), 1, None, "expected a JSON object"))
    return data


def read_records(path: Path, limits: InputLimits | None = None) -> list[dict]:
    """The records of a JSONL file given on the command line (bounded by ``limits.records_mb``)."""
    limits = limits or InputLimits()
    records, problems = read_jsonl(path, str(path), limit=limits.bytes("records_mb"), setting="limits.records_mb")
    if problems:
        raise GerminateError(problems)
    return [r.data for r in records]


def _jsonl_bytes(rows: list[dict]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


def _write_all(dest: Path, files: dict[Path, bytes]) -> list[Path]:
    """Write every file (each atomically); on failure remove what this call created."""
    created: list[Path] = []
    made_dirs: list[Path] = []
    try:
        for folder in [dest, *(p.parent for p in files)]:
            missing = [f for f in (folder, *folder.parents) if not f.exists()]
            for part in reversed(missing):
                part.mkdir()
                made_dirs.append(part)
        for path, data in files.items():
            existed = path.exists()
            tmp = path.with_name(path.name + ".tmp")
            try:
                tmp.write_bytes(data)
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
            if not existed:
                created.append(path)
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        for folder in reversed(made_dirs):
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return list(files)


def scaffold(
    dest: Path,
    task_type: str,
    description: str,
    extra: dict[str, Any],
    *,
    name: str | None = None,
    seeds: list[dict] | None = None,
    test: list[dict] | None = None,
    context: dict[str, bytes] | None = None,
    force: bool = False,
) -> list[Path]:
    """Create the project; refuses to overwrite an existing task.yaml unless ``force``.
    ``context`` maps a document's name in context/ to its bytes."""
    if (dest / TASK_FILE).exists() and not force:
        raise GerminateError(
            Problem(str(dest / TASK_FILE), None, None, "already exists; use --force to overwrite the project's files")
        )
    seeds = seeds or []
    max_seeds = len(seeds) if len(seeds) > DEFAULT_MAX_SEEDS else None
    try:
        files = {dest / TASK_FILE: render_task_yaml(task_type, description, name, extra, max_seeds).encode("utf-8")}
        files[dest / SEEDS_FILE] = _jsonl_bytes(seeds)
        if test:
            files[dest / TEST_FILE] = _jsonl_bytes(test)
    except UnicodeEncodeError as exc:  # nothing written yet
        raise GerminateError(
            Problem(str(dest), None, None, f"cannot write text that is not Unicode: {exc.reason}")
        ) from None
    for target, data in (context or {}).items():
        files[dest / CONTEXT_DIR / target] = data
    try:
        return _write_all(dest, files)
    except OSError as exc:
        raise GerminateError(
            Problem(str(getattr(exc, "filename", None) or dest), None, None, f"cannot write: {exc.strerror or exc}")
        ) from None


def _documents(source: Path) -> dict[str, bytes]:
    """The source's documents (``documents*`` files and ``context/``), read bounded, inside it."""
    limits = InputLimits()
    paths = {p.name: p for p in sorted(source.glob("documents*")) if p.is_file() or p.is_symlink()}
    if (source / CONTEXT_DIR).is_dir():
        paths.update({p.name: p for p in sorted((source / CONTEXT_DIR).iterdir()) if not p.is_dir()})
    out: dict[str, bytes] = {}
    total = 0
    problems: list[Problem] = []
    for name, path in paths.items():
        try:
            out[name] = read_bytes(
                path, str(path), limit=limits.bytes("context_file_mb"), setting="init --from's cap", root=source
            )
        except GerminateError as exc:
            problems.extend(located(exc.problems))
            continue
        total += len(out[name])
        if total > limits.bytes("context_total_mb"):
            raise GerminateError(
                Problem(
                    str(source), None, None, f"documents over {limits.context_total_mb:g} MB in all: too big to copy"
                )
            )
    if problems:
        raise GerminateError(problems)
    return out


def scaffold_from(dest: Path, source: Path, task_type_obj: Any, *, force: bool = False) -> list[Path]:
    """A project from a benchmark-style folder: task.json, seeds.jsonl, optional test.jsonl and
    documents (a knowledge base, copied into context/)."""
    task = read_task_json(source)
    keys = set(task_type_obj.config_schema.get("properties", {}))
    extra = {k: v for k, v in task.items() if k in keys}
    problems: list[Problem] = []
    split: dict[str, list[dict]] = {}
    for file in (SEEDS_FILE, TEST_FILE):
        path = source / file
        if path.exists() or path.is_symlink():
            records, found = read_jsonl(
                path, str(path), limit=InputLimits().bytes("records_mb"), setting="init --from's cap", root=source
            )
            problems += found
            split[file] = [r.data for r in records]
    for key in ("description", "name", "task_type"):
        if key in task and not isinstance(task[key], str):
            problems.append(
                Problem(str(source / "task.json"), None, key, f"expected a string, got {json_type(task[key])}")
            )
    if problems:
        raise GerminateError(problems)
    seeds, test = split.get(SEEDS_FILE, []), split.get(TEST_FILE, [])
    context = _documents(source)
    return scaffold(
        dest,
        task_type_obj.name,
        task.get("description", ""),
        extra,
        name=task.get("name"),
        seeds=seeds,
        test=test,
        context=context,
        force=force,
    )


def init_from(source: Path, dest: Path, task_type: str | None = None, force: bool = False) -> list[Path]:
    """``germinate init DEST --from SOURCE``: the task type from task.json unless given."""
    from germinate.plugins import get_plugins, lookup

    if task_type is None:
        name = read_task_json(source).get("task_type")
        where = str(source / "task.json")
        if name is None:
            raise GerminateError(
                Problem(where, None, "task_type", "missing; name the task type here or with --task-type")
            )
        if not isinstance(name, str):
            raise GerminateError(Problem(where, None, "task_type", f"expected a string, got {json_type(name)}"))
        installed = get_plugins().task_types
        if name not in installed:
            known = ", ".join(sorted(installed))
            raise GerminateError(Problem(where, None, "task_type", f"unknown task type {name!r} (installed: {known})"))
        task_type = name
    return scaffold_from(dest, source, lookup("task_types", task_type), force=force)
