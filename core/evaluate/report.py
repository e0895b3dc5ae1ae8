"""report.md, report.json and report.png from one or more evaluation results (one row each)."""

from __future__ import annotations

from pathlib import Path

from germinate.evaluate.harness import EvalResult, cell
from germinate.evaluate.points import POINTS, TITLES
from germinate.run_folder import report_path, write_json


def table(results: list[EvalResult]) -> list[str]:
    header = "| dataset | task type | metric | test n | " + " | ".join(TITLES[p] for p in POINTS) + " |"
    lines = [header, "|" + "---|" * (4 + len(POINTS))]
    for result in results:
        cells = [cell(result.points.get(p)) for p in POINTS]
        metric = result.metric + (" (unreliable judge)" if result.judge_unreliable else "")
        lines.append(
            f"| {result.project} | {result.task_type} | {metric} | {result.test_examples} | " + " | ".join(cells) + " |"
        )
    return lines


def _details(result: EvalResult) -> list[str]:
    settings = result.settings
    lines = [
        f"### {result.project}",
        "",
        f"* test examples: {result.test_examples} of {result.test_split} "
        f"(max_examples {settings['max_examples']}, seed {settings['seed']}); "
        f"teacher {result.shots}-shot from the seeds; {settings['repeats']} repeat(s) per trained point",
        f"* judge: prompt {result.judge['prompt_id']}, model {result.judge['model'] or '-'}, "
        f"{result.judge['calls']} calls",
    ]
    check = result.judge.get("check")
    if check:
        lines.append(
            f"* judge check on the seeds: accepted {check['own_accepted']}/{check['own_answers']} of their "
            f"own answers, rejected {check['swapped_rejected']}/{check['swapped_answers']} swapped answers"
            + (
                ""
                if check["reliable"]
                else " — **the judge cannot tell right from wrong answers here; "
                "judged scores are not meaningful (configure a stronger "
                "evaluation.judge)**"
            )
        )
    if result.pipeline:
        lines.append("* pipeline: " + ", ".join(f"{k} {v}" for k, v in result.pipeline.items()))
    lines += ["", "| model | correct | accuracy | unparseable | predictions |", "|---|---|---|---|---|"]
    for name, model in result.models.items():
        lines.append(
            f"| {name} | {model['correct']}/{model['examples']} | {model['accuracy']:.3f} | "
            f"{model['unparseable']} | {result.predictions_dir}/{name}.jsonl |"
        )
    wrong = result.examples_wrong
    if wrong:
        lines += ["", f"What {wrong[0]['model']} gets wrong (first {len(wrong)}):", ""]
        for row in wrong:
            reason = f" — {row['error']}" if row.get("error") else ""
            lines.append(
                f"* `{_short(row['input'])}` → `{_short(row['prediction'])}` "
                f"(expected `{_short(row['reference'])}`){reason}"
            )
    return lines + [""]


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(str(text).split()).replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def write_report(results: list[EvalResult], folder: Path, title: str = "germinate evaluation") -> dict[str, Path]:
    """report.md, report.json (one result, or a list of them) and report.png in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"# {title}", "", "Mean over repeats; ± is the sample standard deviation when it is at least 0.005.", ""]
    lines += table(results) + [""]
    for result in results:
        lines += _details(result)
    paths = {kind: report_path(folder, kind) for kind in ("md", "json", "png")}
    paths["md"].write_text("\n".join(lines), encoding="utf-8")
    data = [r.as_dict() for r in results]
    write_json(paths["json"], data if len(data) > 1 else data[0])
    chart(results, paths["png"])
    return paths


def chart(results: list[EvalResult], path: Path) -> None:
    """Grouped bars: one group per dataset, one bar per reference point, error bars from repeats."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    width = 0.8 / len(POINTS)
    figure, axes = plt.subplots(figsize=(max(5.0, 1.8 * len(results) + 2), 3.6), dpi=120)
    for i, point in enumerate(POINTS):
        means = [r.points[point]["mean"] if point in r.points else 0.0 for r in results]
        errors = [r.points[point]["std"] if point in r.points else 0.0 for r in results]
        positions = [j + (i - (len(POINTS) - 1) / 2) * width for j in range(len(results))]
        bars = axes.bar(positions, means, width, yerr=errors, capsize=3, label=TITLES[point])
        axes.bar_label(bars, fmt="%.2f", fontsize=7, padding=2)
    axes.set_xticks(range(len(results)), [r.project for r in results])
    axes.set_ylim(0, 1)
    axes.set_ylabel("score")
    axes.legend(ncol=len(POINTS), fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.12))
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
