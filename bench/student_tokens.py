"""What the student's training tokens are spent on, per ``training.system_prompt``.

    python bench/student_tokens.py [--datasets trec banking77 ecommerce git_tool_calling docs_extraction]

For each shared dataset, the seeds and up to 300 test records (standing in for accepted synthetic
examples) are encoded exactly as training encodes them, under each system-prompt mode, with the
student's tokenizer (no model is loaded). Prints tokens per example against the ``description``
baseline, answer tokens per example (the only ones the loss covers), and the share of each
length-grouped batch of 8 that is padding: the most that sequence packing could save, since
training already pads each batch only to its own longest sequence.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from _data import DATASETS, REPO

from germinate.project.load import load_project
from germinate.project.scaffold import init_from
from germinate.settings import resolve
from germinate.student.load import base_folder, load_tokenizer
from germinate.student.messages import SYSTEM_PROMPTS, system_text
from germinate.student.train import IGNORE, encode

BATCH = 8


def padding_share(lengths: list[int]) -> float:
    """Padding in batches of BATCH consecutive examples after sorting by length (the best that
    length grouping can do; the Trainer's grouping shuffles within ~50 batches)."""
    ordered = sorted(lengths)
    padded = sum(max(ordered[i : i + BATCH]) * len(ordered[i : i + BATCH]) for i in range(0, len(ordered), BATCH))
    return 1 - sum(ordered) / padded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--datasets", nargs="+", default=["trec", "banking77", "ecommerce", "git_tool_calling", "docs_extraction"]
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "student_tokens.json")
    args = parser.parse_args()
    report: dict[str, dict] = {}
    print(f"{'dataset':<18}{'system_prompt':<14}{'tokens/ex':>10}{'vs description':>16}{'answer/ex':>10}{'padding':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            init_from(DATASETS / name, Path(tmp) / name)
            project = load_project(Path(tmp) / name)
            tokenizer = load_tokenizer(base_folder(resolve(project.config).student))
            records = [r.data for r in project.seeds] + [r.data for r in project.test][:300]
            rows = {}
            for mode in SYSTEM_PROMPTS:
                system = system_text(project.task_type, project.config, mode)
                items = [encode(tokenizer, project.task_type.to_messages(r, system), 100_000) for r in records]
                lengths = [len(item["input_ids"]) for item in items if item]
                answers = sum(sum(1 for t in item["labels"] if t != IGNORE) for item in items if item)
                rows[mode] = {
                    "tokens_per_example": round(sum(lengths) / len(lengths), 1),
                    "answer_tokens_per_example": round(answers / len(lengths), 1),
                    "padding_share": round(padding_share(lengths), 3),
                    "system_text": system,
                }
            for mode, row in rows.items():
                ratio = row["tokens_per_example"] / rows["description"]["tokens_per_example"]
                print(
                    f"{name:<18}{mode:<14}{row['tokens_per_example']:>10.1f}{ratio:>15.2f}x"
                    f"{row['answer_tokens_per_example']:>10.1f}{row['padding_share']:>9.1%}"
                )
            report[name] = rows
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
