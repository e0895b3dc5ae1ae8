"""Export round trip: does the exported GGUF answer like the student germinate trained?

    python bench/export_roundtrip.py [PROJECT] [--run default] [--examples 0] [--max-new-tokens 32]

PROJECT (default examples/support-tickets) must have a trained student (e.g. after
`germinate run PROJECT --quick`). The bench exports it with `germinate export --format gguf`
as f16 and as q8_0, then answers the project's test split (or its first --examples records)
three ways, greedy: the transformers student (base + adapter, the baseline, as evaluation runs
it), the f16 GGUF and the q8_0 GGUF through the local backend (llama.cpp in-process). It prints

* agreement: the share of test prompts where the f16 GGUF gives exactly the student's answer
  (target: at least 0.95);
* accuracy of each (the task type's metric) and q8_0's difference from f16, in points
  (target: within 2).

and writes bench/results/export_roundtrip.json.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    from _roundtrip import accuracy, agreement, gguf_answers, student_answers

    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder
    from germinate.student.export import export_name

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path, default=REPO / "examples" / "support-tickets")
    parser.add_argument("--run", default="default")
    parser.add_argument("--examples", type=int, default=0, help="first N test records (0: all)")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    args = parser.parse_args()

    project = load_project(args.project)
    run = RunFolder.of(args.project, args.run)
    if not run.model().trained:
        sys.exit(f"{run.model().path}: no trained student; run `germinate run {args.project} --quick` first")
    records = [r.data for r in project.test]
    records = records[: args.examples] if args.examples else records
    files = {}
    for quant in ("f16", "q8_0"):
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "germinate", "export", str(args.project), "--run", args.run, "--format", "gguf",
             "--quant", quant],
            capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            sys.exit(done.stderr)
        files[quant] = run.export.gguf(export_name(project), quant)
        print(f"exported {quant}: {files[quant]} ({files[quant].stat().st_size / 1e6:.1f} MB, "
              f"{time.monotonic() - started:.0f} s)")  # fmt: skip

    answers = {"transformers": student_answers(project, run, records, args.max_new_tokens)}
    for quant, path in files.items():
        answers[quant] = gguf_answers(path, project, run, records, args.max_new_tokens)
    scores = {name: accuracy(project, records, got) for name, got in answers.items()}
    result = {
        "project": project.name,
        "examples": len(records),
        "agreement_f16": agreement(answers["transformers"], answers["f16"]),
        "agreement_q8_0": agreement(answers["transformers"], answers["q8_0"]),
        "accuracy": scores,
        "q8_0_minus_f16_points": round(100 * (scores["q8_0"] - scores["f16"]), 2),
        "disagreements_f16": [
            {"input": r, "student": a, "f16": b}
            for r, a, b in zip(records, answers["transformers"], answers["f16"])
            if a != b
        ],
    }
    print(
        f"{project.name}, {len(records)} test examples: f16 GGUF agrees with the transformers student on "
        f"{result['agreement_f16']:.3f} (target >= 0.95); q8_0 on {result['agreement_q8_0']:.3f}"
    )
    print(
        f"accuracy: transformers {scores['transformers']:.3f}, f16 {scores['f16']:.3f}, q8_0 {scores['q8_0']:.3f}; "
        f"q8_0 - f16 = {result['q8_0_minus_f16_points']:+.1f} points (target: within 2)"
    )
    out = REPO / "bench" / "results" / "export_roundtrip.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
