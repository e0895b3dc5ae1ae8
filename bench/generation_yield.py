"""Accepted synthetic examples per teacher-minute: today's way against the new default.

    flock /tmp/germinate-heavy.lock python bench/generation_yield.py [--datasets trec docs_extraction]
        [--n 30] [--max-attempts 240] [--teacher qwen2.5-coder-0.5b] [--variant 'NAME={"per_call": 4}']

For each shared dataset (a classification and an extraction task by default) the embedded local
teacher generates until ``n`` examples pass the validation cascade, once per variant, in the same
process on the same loaded model:

* today: one example per call with germinate 0.1's prompts (``per_call: 1, prompt_style: single``);
* new:   the default settings (several examples per call, listed prompts with a shared prefix).

The seeds' properties are labelled once per dataset and shared by every variant, so only example
generation is timed. Prints, per variant, accepted examples per teacher-minute, prompt tokens per
accepted example (all of them, and those llama.cpp had to compute after the prefix it reused),
output tokens per accepted example, the share rejected as near-copies (novelty), and the ratio of
accepted per minute against today's in the same run. Writes bench/results/generation_yield.json.
Target: new >= 3x today on both datasets.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from _data import DATASETS, REPO

from germinate.generate.loop import build_posterior, run_generation
from germinate.project.load import load_project
from germinate.project.scaffold import init_from
from germinate.run_folder import RunFolder, write_json
from germinate.settings import GenerationSettings
from germinate.teachers.cost import CostMeter
from germinate.teachers.engine import Engine, EngineSettings
from germinate.teachers.setup import make_engine

TODAY = {"per_call": 1, "prompt_style": "single"}


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """``NAME`` or ``NAME={"per_call": 4, ...}``: generation settings over the defaults."""
    name, _, body = text.partition("=")
    return name, json.loads(body) if body else {}


def measure(project_dir: Path, client: Any, settings: GenerationSettings) -> dict[str, Any]:
    """One generation run on a fresh run folder (the shared properties.json copied in), no cache."""
    project = load_project(project_dir)
    engine = Engine(client, None, CostMeter(free=True), EngineSettings(concurrency=1, use_cache=False))
    run = RunFolder.of(project_dir, "bench")
    started = time.perf_counter()
    result = run_generation(project, engine, settings, run)
    seconds = time.perf_counter() - started
    usage = engine.meter.usage[("generate", client.model)]
    accepted = max(result.accepted, 1)
    rejected = result.validation["rejected"]
    return {
        "accepted": result.accepted,
        "candidates": result.candidates,
        "calls": usage.calls,
        "seconds": round(seconds, 1),
        "accepted_per_minute": round(result.accepted / seconds * 60, 2),
        "prompt_tokens_per_accepted": round(usage.input_tokens / accepted, 1),
        "computed_prompt_tokens_per_accepted": round((usage.input_tokens - usage.reused_input_tokens) / accepted, 1),
        "output_tokens_per_accepted": round(usage.output_tokens / accepted, 1),
        "accepted_share": result.validation["accepted_share"],
        "near_copy_share": rejected.get("novelty", {}).get("share", 0.0),
        "rejected": {k: v["count"] for k, v in rejected.items() if v["count"]},
        "stopped": result.stopped,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["trec", "docs_extraction"])
    parser.add_argument("--n", type=int, default=30, help="accepted examples per variant")
    parser.add_argument("--max-attempts", type=int, default=240, help="candidates per variant at most")
    parser.add_argument("--teacher", default="qwen2.5-coder-0.5b")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="generation settings to measure besides today's (default: new, the defaults)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "generation_yield.json")
    parser.add_argument("--keep", type=Path, help="copy every variant's project (run folders included) here")
    args = parser.parse_args()
    variants = [("today", TODAY)] + [parse_variant(v) for v in (args.variant or ["new"])]

    report: dict[str, Any] = {"teacher": args.teacher, "n": args.n, "max_attempts": args.max_attempts, "datasets": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            base = Path(tmp) / name
            init_from(DATASETS / name, base)
            config_path = base / "task.yaml"
            config_path.write_text(
                config_path.read_text() + f"\nteacher:\n  backend: local\n  model: {args.teacher}\n", encoding="utf-8"
            )
            project = load_project(base)
            labelling = make_engine(project, use_cache=False)
            started = time.perf_counter()
            _, record = build_posterior(project, labelling, GenerationSettings())
            record.update({"seed": 0, "prior": 1.0})
            print(f"{name}: seeds labelled in {time.perf_counter() - started:.0f} s (not counted)", flush=True)
            rows = {}
            for label, values in variants:
                folder = Path(tmp) / f"{name}-{label}"
                shutil.copytree(base, folder)
                write_json(RunFolder.of(folder, "bench").ensure().properties, record)
                settings = GenerationSettings(**{"n": args.n, "max_attempts": args.max_attempts, **values})
                rows[label] = {"settings": values, **measure(folder, labelling.client, settings)}
                print(f"{name} {label}: {json.dumps(rows[label])}", flush=True)
            labelling.close()
            if args.keep:
                for label, _ in variants:
                    shutil.copytree(Path(tmp) / f"{name}-{label}", args.keep / f"{name}-{label}", dirs_exist_ok=True)
            today = rows["today"]["accepted_per_minute"] or float("nan")
            for row in rows.values():
                row["accepted_per_minute_vs_today"] = round(row["accepted_per_minute"] / today, 2)
            report["datasets"][name] = rows

    print()
    header = (
        f"{'dataset':<16}{'variant':<10}{'accepted':>9}{'cands':>7}{'calls':>7}{'min':>7}{'acc/min':>9}"
        f"{'prompt/acc':>11}{'computed/acc':>13}{'out/acc':>9}{'near-copy':>10}{'vs today':>9}"
    )
    print(header)
    for name, rows in report["datasets"].items():
        for label, r in rows.items():
            print(
                f"{name:<16}{label:<10}{r['accepted']:>9}{r['candidates']:>7}{r['calls']:>7}{r['seconds'] / 60:>7.1f}"
                f"{r['accepted_per_minute']:>9.2f}{r['prompt_tokens_per_accepted']:>11.0f}"
                f"{r['computed_prompt_tokens_per_accepted']:>13.0f}{r['output_tokens_per_accepted']:>9.0f}"
                f"{r['near_copy_share']:>10.1%}{r['accepted_per_minute_vs_today']:>8.2f}x"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
