"""Writing a new project folder: a commented task.yaml, seeds, optional test split and context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from germinate.jsonl import read_jsonl, write_jsonl
from germinate.problems import GerminateError, Problem
from germinate.project.load import CONTEXT_DIR, SEEDS_FILE, TASK_FILE, TEST_FILE
from germinate.project.schema import DEFAULT_MAX_SEEDS


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
    path = source / "task.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GerminateError(
            Problem(str(path), None, None, "missing; --from needs a folder with task.json and seeds.jsonl")
        ) from None
    except json.JSONDecodeError as exc:
        raise GerminateError(Problem(str(path), exc.lineno, "json", exc.msg)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GerminateError(Problem(str(path), None, None, f"cannot read: {exc}")) from None
    if not isinstance(data, dict):
        raise GerminateError(Problem(str(path), 1, None, "expected a JSON object"))
    return data


def read_records(path: Path) -> list[dict]:
    records, problems = read_jsonl(path, str(path))
    if problems:
        raise GerminateError(problems)
    return [r.data for r in records]


def scaffold(
    dest: Path,
    task_type: str,
    description: str,
    extra: dict[str, Any],
    *,
    name: str | None = None,
    seeds: list[dict] | None = None,
    test: list[dict] | None = None,
    context: dict[str, Path] | None = None,
    force: bool = False,
) -> list[Path]:
    """Create the project; refuses to overwrite an existing task.yaml unless ``force``."""
    if (dest / TASK_FILE).exists() and not force:
        raise GerminateError(
            Problem(str(dest / TASK_FILE), None, None, "already exists; use --force to overwrite the project's files")
        )
    try:
        dest.mkdir(parents=True, exist_ok=True)
        seeds = seeds or []
        max_seeds = len(seeds) if len(seeds) > DEFAULT_MAX_SEEDS else None
        written = [dest / TASK_FILE]
        (dest / TASK_FILE).write_text(
            render_task_yaml(task_type, description, name, extra, max_seeds), encoding="utf-8"
        )
        write_jsonl(dest / SEEDS_FILE, seeds)
        written.append(dest / SEEDS_FILE)
        if test:
            write_jsonl(dest / TEST_FILE, test)
            written.append(dest / TEST_FILE)
        for target, source in (context or {}).items():
            (dest / CONTEXT_DIR).mkdir(exist_ok=True)
            (dest / CONTEXT_DIR / target).write_bytes(source.read_bytes())
            written.append(dest / CONTEXT_DIR / target)
    except OSError as exc:
        raise GerminateError(
            Problem(str(getattr(exc, "filename", None) or dest), None, None, f"cannot write: {exc.strerror or exc}")
        ) from None
    return written


def scaffold_from(dest: Path, source: Path, task_type_obj: Any, *, force: bool = False) -> list[Path]:
    """A project from a benchmark-style folder: task.json, seeds.jsonl, optional test.jsonl and
    documents (a knowledge base, copied into context/)."""
    task = read_task_json(source)
    keys = set(task_type_obj.config_schema.get("properties", {}))
    extra = {k: v for k, v in task.items() if k in keys}
    seeds = read_records(source / SEEDS_FILE) if (source / SEEDS_FILE).exists() else []
    test = read_records(source / TEST_FILE) if (source / TEST_FILE).exists() else []
    context = {p.name: p for p in sorted(source.glob("documents*")) if p.is_file()}
    if (source / CONTEXT_DIR).is_dir():
        context.update({p.name: p for p in sorted((source / CONTEXT_DIR).iterdir()) if p.is_file()})
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
    from germinate.plugins import lookup

    name = task_type or read_task_json(source).get("task_type")
    return scaffold_from(dest, source, lookup("task_types", str(name)), force=force)
