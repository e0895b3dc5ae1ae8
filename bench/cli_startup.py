"""CLI start-up: `germinate --help` and `germinate plugins --json` against a bare interpreter.

    python bench/cli_startup.py [--repeat 10]

Prints the median wall time of each and the ratio to `python -c pass` measured in the same run
(the target: --help well under a second; heavy libraries are imported lazily).
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path


def median_seconds(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "cli_startup.json")
    args = parser.parse_args()
    bare = median_seconds([sys.executable, "-c", "pass"], args.repeat)
    result = {"python_bare_s": round(bare, 3)}
    for name, cmd in (("help", ["--help"]), ("plugins_json", ["plugins", "--json"])):
        seconds = median_seconds([sys.executable, "-m", "germinate", *cmd], args.repeat)
        result[f"{name}_s"] = round(seconds, 3)
        result[f"{name}_vs_bare"] = round(seconds / bare, 1)
        print(
            f"germinate {' '.join(cmd):15s} {seconds * 1000:6.0f} ms  ({seconds / bare:.1f}x a bare `python -c pass`, "
            f"{bare * 1000:.0f} ms)"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
