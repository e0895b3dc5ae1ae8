"""How many accepted synthetic examples carry a wrong label, before and after the new validators.

For each dataset (default: trec and banking77 from the shared datasets):

1. a project is made from the dataset in the workdir and ``germinate generate --n N`` writes its
   candidates with today's cascade (format, length, schema, novelty; the new validators switched
   off), with the project's teacher (the embedded local one by default). Generation resumes and
   its calls are cached, so a rerun costs nothing;
2. the cascade is replayed over those same candidates three ways: today's validators only
   ("before"), plus structure and grounding, and plus the agreement validator as well ("after");
   the comparison isolates the validators. The agreement validator's calls are cached too;
3. a reference labeller, TF-IDF (words and character n-grams) + logistic regression fit on the
   dataset's gold test split, labels every accepted synthetic input; the label noise is the share
   it disagrees with. Its accuracy on held-back gold rows (5-fold cross-validation over the test
   split, and the seeds, which it never sees) is printed beside the figure: it bounds how far the
   measured noise can fall.

    flock /tmp/germinate-heavy.lock python bench/label_noise.py [--n 100] [--committee 3]

Prints a table per dataset and writes bench/results/label_noise.json. Needs scikit-learn
(requirements-dev.txt); the model runs need the lock on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _data import DATASETS, REPO

NEW_VALIDATORS = ("structure", "grounding", "agreement")


def variants(committee: int | None) -> dict[str, dict]:
    out = {
        "before": {name: False for name in NEW_VALIDATORS},
        "structure+grounding": {"agreement": False},
        "after": {"agreement": True},
    }
    if committee:
        out[f"after, committee of {committee}"] = {"agreement": {"samples": committee}}
    return out


def germinate(*args: str, env: dict[str, str] | None = None) -> None:
    command = [sys.executable, "-m", "germinate", *args]
    result = subprocess.run(command, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")


def make_candidates(name: str, workdir: Path, n: int) -> Path:
    """The dataset's project in ``workdir`` with at least ``n`` candidates accepted by today's cascade."""
    project = workdir / name
    if not (project / "task.yaml").exists():
        germinate("init", str(project), "--from", str(DATASETS / name))
    started = time.monotonic()
    # today's cascade decides when generation stops: the new validators are not loaded
    germinate(
        "generate",
        str(project),
        "--n",
        str(n),
        "--batch-size",
        "8",
        env={"GERMINATE_DISABLED_PLUGINS": ",".join(NEW_VALIDATORS)},
    )
    print(f"{name}: candidates ready in {time.monotonic() - started:.0f} s", flush=True)
    return project


def reference_labeller(texts: list[str], labels: list[str]):
    """TF-IDF over words (1-2) and characters (2-5) + logistic regression (balanced classes); its
    5-fold accuracy."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.pipeline import make_pipeline, make_union

    def fresh():
        return make_pipeline(
            make_union(
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            ),
            # balanced: a class the test split holds few of (trec's abbreviation: 9 of 500) is
            # still predicted when the synthetic data has many
            LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced"),
        )

    folds = KFold(n_splits=5, shuffle=True, random_state=0)
    accuracy = float(cross_val_score(fresh(), texts, labels, cv=folds).mean())
    return fresh().fit(texts, labels), accuracy


def measure(name: str, project_dir: Path, committee: int | None) -> dict:
    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder
    from germinate.teachers.cache import Cache
    from germinate.validate.replay import load_candidates, run_cascade

    project = load_project(project_dir)
    candidates = load_candidates(RunFolder.of(project_dir, "default"), None, project)
    test = [r.data for r in project.test]
    seeds = [r.data for r in project.seeds]
    labeller, cv_accuracy = reference_labeller([r["input"] for r in test], [r["output"] for r in test])
    seed_accuracy = float((labeller.predict([s["input"] for s in seeds]) == [s["output"] for s in seeds]).mean())
    out = {
        "dataset": name,
        "candidates": len(candidates),
        "labeller": {"cv_accuracy_on_test": cv_accuracy, "accuracy_on_seeds": seed_accuracy, "fit_on": len(test)},
        "variants": {},
    }
    for variant, overrides in variants(committee).items():
        started = time.monotonic()
        outcome = run_cascade(project, candidates, overrides)
        seconds = time.monotonic() - started
        synthetic = [row["record"] for row in outcome.accepted if row.get("source") != "seed"]
        predicted = labeller.predict([r["input"] for r in synthetic]) if synthetic else []
        wrong = sum(1 for record, label in zip(synthetic, predicted) if label != record["output"])
        noise = wrong / len(synthetic) if synthetic else None
        out["variants"][variant] = {
            "order": outcome.order,
            "accepted": len(synthetic),
            "labeller_disagrees": wrong,
            "noise": noise,
            # the labeller errs on clean text too: were its accuracy on these texts its 5-fold
            # accuracy a, and never the candidate's own wrong label, true noise = (d - (1 - a)) / a
            "noise_adjusted": None if noise is None else min(1.0, max(0.0, (noise - 1 + cv_accuracy) / cv_accuracy)),
            "rejected": {k: v["count"] for k, v in outcome.tally.as_dict()["rejected"].items() if v["count"]},
            "teacher_calls": outcome.teacher_calls.as_dict(),
            "seconds": round(seconds, 1),
        }
    cache = Cache.for_project(project_dir)
    out["cache"] = cache.stats()["by"]
    cache.close()
    return out


def report(result: dict) -> None:
    labeller = result["labeller"]
    print(
        f"\n{result['dataset']}: {result['candidates']} candidates; reference labeller accuracy "
        f"{labeller['cv_accuracy_on_test']:.3f} (5-fold on the {labeller['fit_on']} gold test rows), "
        f"{labeller['accuracy_on_seeds']:.3f} on the seeds"
    )
    print(
        f"  {'cascade':32s} {'accepted':>8s} {'disagree':>8s} {'noise':>6s} {'vs before':>9s} {'adjusted':>8s}"
        "  teacher calls (sent/cached)  seconds"
    )
    base = result["variants"]["before"]["noise"]
    for variant, row in result["variants"].items():
        ratio = f"{row['noise'] / base:.2f}x" if base and row["noise"] is not None else "-"
        calls = row["teacher_calls"]
        print(
            f"  {variant:32s} {row['accepted']:8d} {row['labeller_disagrees']:8d} "
            f"{(row['noise'] or 0):6.3f} {ratio:>9s} {(row['noise_adjusted'] or 0):8.3f}"
            f"  {calls['sent']}/{calls['cached']}  {row['seconds']}"
        )
    for row in result["cache"]:
        print(
            f"  cache: {row['stage']:10s} {row['calls']:5d} calls {row['input_tokens']:9,d} in {row['output_tokens']:7,d} out"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="trec,banking77")
    parser.add_argument("--n", type=int, default=100, help="synthetic examples today's cascade accepts")
    parser.add_argument("--workdir", type=Path, default=REPO / "bench-runs" / "label_noise")
    parser.add_argument("--committee", type=int, default=None, help="also measure agreement with samples: N")
    args = parser.parse_args()
    results = []
    for name in args.datasets.split(","):
        project = make_candidates(name, args.workdir, args.n)
        results.append(measure(name, project, args.committee))
        report(results[-1])
    for result in results:
        before, after = result["variants"]["before"]["noise"], result["variants"]["after"]["noise"]
        verdict = (
            "falls by half or more" if before and after is not None and after <= before / 2 else "does NOT fall by half"
        )
        print(f"{result['dataset']}: label noise {before:.3f} -> {after:.3f}: {verdict}")
    out = REPO / "bench" / "results" / "label_noise.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
