"""How far an LLM judge can be trusted on the shared datasets: its calibration (Cohen's kappa
against known verdicts, TPR, TNR, test-retest agreement), exactly as evaluation computes it.

    python bench/judge_calibration.py hotpotqa roman_empire_qa docs_extraction \\
        --judges qwen2.5-coder-0.5b,qwen2.5-coder-1.5b --items 10 --retest 30

For each dataset the first ``--items`` test records (a fixed random subset, seed 0) give a gold
answer (should pass), a swapped and a perturbed answer (should fail) each; the first ``--retest``
items are asked again. Each judge is an embedded local model (llama.cpp, no API key). The first
judge listed is the baseline: the table gives each judge's kappa beside it. Results go to
bench/results/judge_calibration.json.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

from _data import DATASETS

from germinate.evaluate.harness import test_records
from germinate.evaluate.judge import JUDGE_PROMPT, calibrate, calibration_items
from germinate.project.load import load_project
from germinate.project.scaffold import init_from
from germinate.settings import EvalSettings
from germinate.teachers.setup import make_engine


def measure(project, judge: str, items: int, retest: int) -> dict:
    records = test_records(project, EvalSettings(max_examples=items, seed=0))
    asked = calibration_items(project.task_type, records, items, seed=0)
    engine = make_engine(project, override={"backend": "local", "model": judge}, replace=True, use_cache=False)
    started = time.perf_counter()
    try:
        result = calibrate(engine, JUDGE_PROMPT, project.config["description"], asked, retest=retest)
    finally:
        engine.close()
    return {"dataset": project.name, "judge": judge, "seconds": round(time.perf_counter() - started, 1), **result}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("datasets", nargs="+", help="folder names under the shared datasets")
    parser.add_argument("--judges", default="qwen2.5-coder-0.5b,qwen2.5-coder-1.5b")
    parser.add_argument("--items", type=int, default=10, help="test records (3 calibration items each)")
    parser.add_argument("--retest", type=int, default=30)
    args = parser.parse_args()
    judges = args.judges.split(",")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            folder = Path(tmp) / name
            init_from(DATASETS / name, folder)
            project = load_project(folder)
            for judge in judges:
                row = measure(project, judge, args.items, args.retest)
                rows.append(row)
                print(
                    json.dumps({k: row[k] for k in ("dataset", "judge", "kappa", "tpr", "tnr", "seconds")}), flush=True
                )

    def fmt(value):
        return "-" if value is None else f"{value:.2f}".replace("-0.00", "0.00")  # kappa -0.0 reads as 0.00

    print("\n| dataset | judge | items | Cohen's κ | κ − baseline | TPR | TNR | test-retest | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        base = next(r for r in rows if r["dataset"] == row["dataset"] and r["judge"] == judges[0])
        delta = None if row["kappa"] is None or base["kappa"] is None else row["kappa"] - base["kappa"]
        print(
            f"| {row['dataset']} | {row['judge']} | {row['items']} | {fmt(row['kappa'])} | {fmt(delta)} | "
            f"{fmt(row['tpr'])} | {fmt(row['tnr'])} | {fmt(row['retest']['agreement'])} "
            f"({row['retest']['items']}) | {row['seconds']:.0f} |"
        )
    out = Path(__file__).resolve().parent / "results" / "judge_calibration.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"\nwritten: {out}")


if __name__ == "__main__":
    main()
