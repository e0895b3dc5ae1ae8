"""Student accuracy per training minute under each ``training.system_prompt``.

    flock /tmp/germinate-heavy.lock python bench/system_prompt.py [--datasets trec] [--train 300]
        [--test 100] [--modes description short none] [--preset standard]

For each shared dataset, one training set (gold rows of its test split, passed through the
validation cascade as ``germinate validate --candidates`` does) and one disjoint test subset; per
mode, the same preset's training recipe on the embedded student (`germinate train`), then
`germinate evaluate --points trained --repeats 1`. Prints training minutes, tokens per example,
accuracy and accuracy per training minute, and the ratio of training time against the
``description`` mode of the same run. Writes bench/results/system_prompt.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from _data import DATASETS, REPO, rows

GERMINATE = [sys.executable, "-m", "germinate"]


def run(*args: object) -> float:
    started = time.perf_counter()
    result = subprocess.run(GERMINATE + [str(a) for a in args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"germinate {' '.join(map(str, args))} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["trec"])
    parser.add_argument("--train", type=int, default=300, help="gold rows offered as accepted examples")
    parser.add_argument("--test", type=int, default=100)
    parser.add_argument("--modes", nargs="+", default=["description", "short", "none"])
    parser.add_argument("--preset", default="standard", help="whose training recipe to use")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "system_prompt.json")
    args = parser.parse_args()
    from germinate.settings import PRESETS

    recipe = PRESETS[args.preset]["training"]
    report: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            gold = rows(name, "test")
            test, train = gold[: args.test], gold[args.test : args.test + args.train]
            results = {}
            for mode in args.modes:
                project = Path(tmp) / f"{name}-{mode}"
                run("init", project, "--from", DATASETS / name)
                config = yaml.safe_load((project / "task.yaml").read_text())
                config["training"] = {**recipe, "system_prompt": mode}
                config["evaluation"] = {"repeats": 1}
                (project / "task.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
                (project / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in test))
                (project / "offered.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train))
                run("validate", project, "--candidates", project / "offered.jsonl", "--apply")
                seconds = run("train", project)
                run("evaluate", project, "--points", "trained", "--repeats", "1")
                evaluated = json.loads((project / "runs" / "default" / "report.json").read_text())
                model = project / "runs" / "default" / "model"
                used = json.loads((model / "train_config.json").read_text())
                accuracy = evaluated["points"]["trained"]["mean"]
                results[mode] = {
                    "train_minutes": round(seconds / 60, 2),
                    "examples": used["examples"],
                    "accuracy": round(accuracy, 3),
                    "accuracy_per_train_minute": round(accuracy / (seconds / 60), 4),
                    "system_text": used["system_text"],
                }
                print(f"{name} {mode}: {json.dumps(results[mode])}", flush=True)
            report[name] = results
    print(
        f"\n{'dataset':<16}{'system_prompt':<14}{'examples':>9}{'train min':>10}{'vs desc':>9}{'accuracy':>10}{'acc/min':>9}"
    )
    for name, results in report.items():
        base = results.get("description", {}).get("train_minutes")
        for mode, r in results.items():
            ratio = f"{r['train_minutes'] / base:.2f}x" if base else "-"
            print(
                f"{name:<16}{mode:<14}{r['examples']:>9}{r['train_minutes']:>10.1f}{ratio:>9}"
                f"{r['accuracy']:>10.3f}{r['accuracy_per_train_minute']:>9.3f}"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
