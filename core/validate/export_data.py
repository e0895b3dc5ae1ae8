"""The accepted set (seeds and accepted synthetic examples, a person's review decisions applied)
exported for other trainers: a Hugging Face ``datasets`` folder in the Hub's layout (parquet
under data/, a dataset card with provenance: teacher, θ per row, validator counts) and the same
conversations as chat JSONL in OpenAI's fine-tuning layout, which TRL, Unsloth, Axolotl and
LLaMA-Factory take unchanged.

Every row's conversation is exactly what the student is trained on: the system prompt, the task
type's user turn and its assistant turn. ``datasets`` and ``pyarrow`` (the ``germinate[data]``
extra) are imported only here.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import attrs

from germinate.jsonl import write_jsonl
from germinate.problems import GerminateError
from germinate.project.load import Project
from germinate.run_folder import DataExport, RunFolder


@attrs.frozen
class DataExportResult:
    folder: Path
    rows: int
    seeds: int
    synthetic: int
    parquet: Path
    chat: Path
    card: Path


def conversation(project: Project, record: dict[str, Any], system_prompt: str) -> list[dict[str, str]]:
    """The chat messages the student is trained on for ``record``."""
    return project.task_type.to_messages(record, system_prompt)


def table_rows(project: Project, accepted: list[dict[str, Any]], system_prompt: str) -> list[dict[str, Any]]:
    """One flat row per accepted example: the conversation, the task type's input and output
    text, the record itself (JSON, lossless for every task type) and its provenance."""
    task = project.task_type
    rows = []
    for row in accepted:
        record = row["record"]
        rows.append(
            {
                "id": row["id"],
                "source": row.get("source", "synthetic"),
                "messages": conversation(project, record, system_prompt),
                "input": task.prompt_text(record),
                "output": task.target_text(record),
                "record": json.dumps(record, ensure_ascii=False, sort_keys=True),
                "teacher": row.get("teacher"),
                "prompt_hash": row.get("prompt_hash"),
                "theta": row.get("theta") or {},
                "scores": row.get("scores") or {},
                "review": (row.get("review") or {}).get("action"),
            }
        )
    return rows


def _features(rows: list[dict[str, Any]]) -> Any:
    """Explicit column types: θ and scores as structs over every key any row has (missing: null),
    so parquet readers see one schema whatever the first row holds."""
    from datasets import Features, Value

    theta_keys = sorted({k for row in rows for k in row["theta"]})
    score_keys = sorted({k for row in rows for k in row["scores"]})
    text = Value("string")
    features = {
        "id": text,
        "source": text,
        "messages": [{"role": text, "content": text}],
        "input": text,
        "output": text,
        "record": text,
        "teacher": text,
        "prompt_hash": text,
        "review": text,
    }
    if theta_keys:
        features["theta"] = {k: text for k in theta_keys}
    if score_keys:
        features["scores"] = {k: Value("float64") for k in score_keys}
    for row in rows:
        row["theta"] = {k: row["theta"].get(k) for k in theta_keys} if theta_keys else None
        row["scores"] = {k: row["scores"].get(k) for k in score_keys} if score_keys else None
        if not theta_keys:
            del row["theta"]
        if not score_keys:
            del row["scores"]
    return Features(features)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def _card(project: Project, run: RunFolder, rows: list[dict[str, Any]], system_prompt: str) -> str:
    """The dataset card: YAML front matter the Hub and ``load_dataset`` read, then provenance."""
    import yaml

    seeds = sum(1 for r in rows if r["source"] == "seed")
    synthetic = len(rows) - seeds
    teachers = Counter(r["teacher"] for r in rows if r["source"] != "seed")
    validation = _read_json(run.validation_summary)
    properties = _read_json(run.properties).get("properties", {})
    reviewed = Counter(r["review"] for r in rows if r.get("review"))
    front = {
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*.parquet"}]}],
        "tags": ["germinate", "synthetic"],
        "size_categories": ["n<1K" if len(rows) < 1000 else "1K<n<10K" if len(rows) < 10_000 else "10K<n<100K"],
    }
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False).strip(),
        "---",
        "",
        f"# {project.name}: the accepted training set",
        "",
        f"Made with germinate for a `{project.task_type.name}` task: {len(rows)} examples, "
        f"{seeds} seed examples written by people and {synthetic} synthetic examples a teacher model "
        "wrote and a validation cascade accepted. Each row holds the conversation the student was "
        "trained on (`messages`), and its provenance.",
        "",
        "## Task",
        "",
        project.config.get("description", "").strip(),
        "",
        "## Provenance",
        "",
        "| teacher | synthetic rows |",
        "|---|---|",
        *(f"| {name or '-'} | {count} |" for name, count in teachers.most_common()),
        "",
    ]
    if validation:
        lines += [
            f"Validation cascade ({' -> '.join(validation.get('order', []))}): "
            f"{validation.get('candidates', 0)} candidates, {validation.get('accepted', 0)} accepted.",
            "",
            "| rejected by | count | share of candidates |",
            "|---|---|---|",
            *(f"| {name} | {r['count']} | {r['share']:.1%} |" for name, r in validation.get("rejected", {}).items()),
            "",
            f"Validator settings: `{json.dumps(validation.get('settings', {}), sort_keys=True)}`",
            "",
        ]
    if reviewed:
        lines += [
            "Human review: " + ", ".join(f"{action} {n}" for action, n in sorted(reviewed.items())) + ".",
            "",
        ]
    if properties:
        lines += [
            "Latent properties θ (each synthetic row's are in the `theta` column), sampled from the posterior:",
            "",
            "| property | value | posterior mean | rows |",
            "|---|---|---|---|",
        ]
        for name, info in properties.items():
            counts = Counter((r.get("theta") or {}).get(name) for r in rows if r["source"] != "seed")
            for value, mean in (info.get("posterior_mean") or {}).items():
                lines.append(f"| {name} | {value} | {mean:.3f} | {counts.get(value, 0)} |")
        lines.append("")
    lines += [
        "## Columns",
        "",
        "| column | what it holds |",
        "|---|---|",
        "| `messages` | the conversation: system prompt, user turn, assistant turn (what the student learns) |",
        "| `input`, `output` | the user turn and the assistant turn as text |",
        "| `record` | the example in the task type's own record format (JSON) |",
        "| `source` | `seed` (written by people) or `synthetic` |",
        "| `teacher`, `prompt_hash` | the model that wrote it and a hash of the prompt it was given |",
        "| `theta` | the latent properties it was generated under |",
        "| `scores` | each validator's score (novelty: max ROUGE-L against the anchors) |",
        "| `review` | a person's decision about it (accept, fix), if any |",
        "",
        f"The system prompt of every row: {json.dumps(system_prompt, ensure_ascii=False)}",
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        'rows = load_dataset("parquet", data_files="data/train-*.parquet", split="train")',
        "```",
        "",
        '`chat.jsonl` holds the same conversations in OpenAI\'s fine-tuning layout (`{"messages": [...]}` per line).',
        "",
    ]
    return "\n".join(lines)


def export_data(project: Project, run: RunFolder, dest: DataExport, system_prompt: str) -> DataExportResult:
    """Write the accepted set to ``dest`` (replacing an earlier export there): parquet, card, chat
    JSONL. The folder is written beside and swapped in whole, so a reader never sees half."""
    try:
        from datasets import Dataset, disable_progress_bars
    except ImportError:
        raise GerminateError(
            "exporting data needs the datasets and pyarrow packages: pip install 'germinate[data]'"
        ) from None

    disable_progress_bars()  # its bars would tear the CLI's own status line
    accepted = [row for row in run.rows(run.accepted) if isinstance(row.get("record"), dict)]
    if not accepted:
        raise GerminateError(f"{run.accepted}: nothing accepted yet; run `germinate generate` first")
    rows = table_rows(project, accepted, system_prompt)
    card = _card(project, run, rows, system_prompt)
    features = _features(rows)
    staging = DataExport(dest.path.with_name(dest.path.name + ".partial"))
    shutil.rmtree(staging.path, ignore_errors=True)
    staging.parquet.parent.mkdir(parents=True)
    Dataset.from_list(rows, features=features).to_parquet(str(staging.parquet))
    write_jsonl(staging.chat, ({"messages": row["messages"]} for row in rows))
    staging.card.write_text(card, encoding="utf-8")
    if dest.path.exists():
        old = dest.path.with_name(dest.path.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(dest.path, old)
        os.replace(staging.path, dest.path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        dest.path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging.path, dest.path)
    seeds = sum(1 for r in rows if r["source"] == "seed")
    return DataExportResult(dest.path, len(rows), seeds, len(rows) - seeds, dest.parquet, dest.chat, dest.card)
