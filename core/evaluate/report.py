"""report.md, report.json and report.png from one or more evaluation results (one row each).

report.md: the headline table (one row per project), then per project its metrics per point (a
column per metric, the headline named), the judge's calibration, the teacher gate, each model's
metrics and mistakes by kind, cost and provenance, and what the first student gets wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from germinate.evaluate.harness import EvalResult, cell
from germinate.evaluate.points import POINTS, TITLES
from germinate.run_folder import report_path, write_json

#: a text answer is shown whole up to this many characters
ANSWER_CHARS = 300
#: the input a mistake belongs to, shortened to this
INPUT_CHARS = 160
#: a confusion matrix is drawn as a heat-map up to this many labels
HEATMAP_LABELS = 20


def table(results: list[EvalResult]) -> list[str]:
    """One row per project: the headline metric for each reference point."""
    header = "| dataset | task type | metric | test n | " + " | ".join(TITLES[p] for p in POINTS) + " |"
    lines = [header, "|" + "---|" * (4 + len(POINTS))]
    for result in results:
        cells = [cell(result.points.get(p)) for p in POINTS]
        metric = result.metric + (
            " (unreliable judge)" if result.headline == "judge" and result.judge_unreliable else ""
        )
        lines.append(
            f"| {result.project} | {result.task_type} | {metric} | {result.test_examples} | " + " | ".join(cells) + " |"
        )
    return lines


def _title(result: EvalResult, metric: dict[str, Any]) -> str:
    title = metric["title"] + (" (headline)" if metric["headline"] else "")
    calibration = result.judge.get("calibration")
    if metric["name"] == "judge" and calibration:
        kappa = calibration["kappa"]
        title += f" (κ {'-' if kappa is None else f'{kappa:.2f}'}{', unreliable' if calibration['flagged'] else ''})"
    return title


def metrics_table(result: EvalResult) -> list[str]:
    """Rows: the reference points; columns: every metric (mean over repeats, ± the spread)."""
    lines = [
        "| point | " + " | ".join(_title(result, m) for m in result.metrics) + " |",
        "|" + "---|" * (1 + len(result.metrics)),
    ]
    for point in POINTS:
        if point in result.points:
            values = result.points[point]["metrics"]
            lines.append(
                f"| {TITLES[point]} | " + " | ".join(cell(values.get(m["name"])) for m in result.metrics) + " |"
            )
    return lines


def judge_line(result: EvalResult) -> str | None:
    """The judge's model, prompt and calibration in one line (None when no judge was asked)."""
    judge, calibration = result.judge, result.judge.get("calibration")
    if not judge.get("calls") and not calibration:
        return None
    line = f"judge: {judge['model'] or '-'}, prompt {judge['prompt_id']}, {judge['calls']} calls"
    if not calibration:
        return line + "; not calibrated"

    def rate(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    kinds = calibration["by_kind"]
    retest = calibration["retest"]
    line += (
        f"; calibrated on {calibration['items']} test items ({kinds['gold']['items']} gold, "
        f"{kinds['swapped']['items']} swapped, {kinds['perturbed']['items']} perturbed answers): "
        f"Cohen's κ {rate(calibration['kappa'])}, TPR {rate(calibration['tpr'])}, TNR {rate(calibration['tnr'])}, "
        f"test-retest agreement {rate(retest['agreement'])} on {retest['items']} re-asked items"
    )
    if calibration["flagged"]:
        line += (
            f" — flagged: κ below {calibration['min_kappa']}, the judge column cannot be trusted "
            "(configure a stronger evaluation.judge)"
        )
    return line


def gate_line(gate: dict[str, Any]) -> str:
    where = (
        f"{gate['examples']} seeds (leave-one-out, {gate['k_shot']}-shot)"
        if gate["source"] == "seeds"
        else f"{gate['examples']} test examples ({gate['k_shot']}-shot)"
    )
    return (
        f"teacher gate: **{gate['verdict']}**{' (forced on)' if gate.get('forced') else ''} — "
        f"{gate['teacher']} scores {gate['score']:.3f} {gate['metric']} on {where} "
        f"(PROCEED at {gate['proceed']:.2f} or above, RETHINK below {gate['rethink']:.2f})"
    )


def _short(text: Any, limit: int, *, keep_end: bool = False) -> str:
    """One line of at most ``limit`` characters; ``keep_end`` keeps the end too (an input's question
    comes after its context)."""
    text = " ".join(str(text).split()).replace("`", "'")
    if len(text) <= limit:
        return text
    if keep_end:
        head = limit // 3
        return text[:head] + " … " + text[-(limit - head - 3) :]
    return text[: limit - 1] + "…"


def mistake_lines(row: dict[str, Any]) -> list[str]:
    """One mistake for people: the input, then for structured outputs the fields that differ
    (``path: got -> expected``), for text the whole answer and reference (up to ANSWER_CHARS)."""
    score = row.get("score")
    head = f"* `{_short(row['input'], INPUT_CHARS, keep_end=True)}`" + (
        f" (score {score:.2f})" if score is not None else ""
    )
    lines = [head]
    if row.get("differences"):
        lines += [f"  - `{_short(d, ANSWER_CHARS)}`" for d in row["differences"]]
    else:
        lines += [
            f"  - got: `{_short(row['prediction'], ANSWER_CHARS)}`",
            f"  - expected: `{_short(row['reference'], ANSWER_CHARS)}`",
        ]
    if row.get("error"):
        lines.append(f"  - {row['error']}")
    return lines


def _cost_lines(result: EvalResult) -> list[str]:
    lines = [
        "| stage | model | calls | cached | failed | input tok | output tok | cost $ |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in result.cost:
        cost = "?" if row.get("cost") is None else f"{row['cost']:.4f}"
        lines.append(
            f"| {row['stage']} | {row['model']} | {row['calls']} | {row['cached']} | {row['failed']} | "
            f"{row['input_tokens']} | {row['output_tokens']} | {cost} |"
        )
    return lines


def _confusion_lines(name: str, confusion: dict[str, Any]) -> list[str]:
    columns = confusion["columns"]
    lines = [
        f"Confusion matrix of {name} (rows: reference, columns: answer):",
        "",
        "| | " + " | ".join(columns) + " |",
        "|" + "---|" * (1 + len(columns)),
    ]
    for label, counts in zip(confusion["rows"], confusion["matrix"]):
        lines.append(f"| {label} | " + " | ".join(str(c) for c in counts) + " |")
    return lines


def _headline_model(result: EvalResult) -> str | None:
    """The model a single figure (confusion matrix) is shown for: the first trained student, else
    the first model."""
    names = list(result.models)
    return next((n for n in names if result.models[n]["point"] == "trained"), names[0] if names else None)


def _details(result: EvalResult) -> list[str]:
    settings = result.settings
    lines = [
        f"### {result.project}",
        "",
        f"* test examples: {result.test_examples} of {result.test_split} "
        f"(max_examples {settings['max_examples']}, seed {settings['seed']}); "
        f"teacher {result.shots}-shot from the seeds; {settings['repeats']} repeat(s) per trained point",
        f"* student: {result.student}; headline metric: {result.metric}",
    ]
    if result.gate:
        lines.append(f"* {gate_line(result.gate)}")
    judge = judge_line(result)
    if judge:
        lines.append(f"* {judge}")
    if result.pipeline:
        seconds = result.pipeline.get("seconds") or {}
        lines.append(
            "* wall time per stage (summed over the runs that resumed it): "
            + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items())
        )
        lines.append("* pipeline: " + ", ".join(f"{k} {v}" for k, v in result.pipeline.items() if k != "seconds"))
    lines += ["", *metrics_table(result), ""]
    legend = [m for m in result.metrics if m.get("help")]
    if legend:
        lines += ["Metrics: " + "; ".join(f"{m['title']}: {m['help']}" for m in legend) + ".", ""]
    columns = [m["name"] for m in result.metrics]
    lines += [
        "| model | "
        + " | ".join(m["title"] for m in result.metrics)
        + " | unparseable | mistakes by kind | predictions |",
        "|" + "---|" * (4 + len(columns)),
    ]
    for name, model in result.models.items():
        errors = ", ".join(f"{kind} {n}" for kind, n in model.get("errors", {}).items()) or "-"
        values = " | ".join(f"{model['metrics'][c]:.3f}" for c in columns)
        lines.append(
            f"| {name} | {values} | {model['unparseable']} | {errors} | {result.predictions_dir}/{name}.jsonl |"
        )
    shown = _headline_model(result)
    if shown and result.models[shown].get("confusion"):
        lines += ["", *_confusion_lines(shown, result.models[shown]["confusion"])]
    if result.cost:
        lines += ["", "Cost (calls answered from the cache cost nothing again):", "", *_cost_lines(result)]
    wrong = result.examples_wrong
    if wrong:
        lines += ["", f"What {wrong[0]['model']} gets wrong (worst {len(wrong)} by {result.metric}):", ""]
        for row in wrong:
            lines += mistake_lines(row)
    return lines + [""]


def write_report(results: list[EvalResult], folder: Path, title: str = "germinate evaluation") -> dict[str, Path]:
    """report.md, report.json (one result, or a list of them) and report.png in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# {title}",
        "",
        "Headline metric per project; mean over repeats, ± is the sample standard deviation when it is "
        "at least 0.005. Every metric is in each project's section.",
        "",
    ]
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
    """Grouped bars of the headline metric: one group per dataset, one bar per reference point,
    error bars from repeats; beside them a confusion heat-map for each classification project
    with at most HEATMAP_LABELS labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    heatmaps = []
    for result in results:
        shown = _headline_model(result)
        confusion = result.models[shown].get("confusion") if shown else None
        if confusion and len(confusion["rows"]) <= HEATMAP_LABELS:
            heatmaps.append((result, shown, confusion))
    bar_width = max(5.0, 1.8 * len(results) + 2)
    figure, axes_row = plt.subplots(
        1,
        1 + len(heatmaps),
        figsize=(bar_width + 4.2 * len(heatmaps), 3.8),
        dpi=120,
        gridspec_kw={"width_ratios": [bar_width] + [4.2] * len(heatmaps)},
        squeeze=False,
    )
    axes = axes_row[0][0]
    width = 0.8 / len(POINTS)
    for i, point in enumerate(POINTS):
        means = [r.points[point]["mean"] if point in r.points else 0.0 for r in results]
        errors = [r.points[point]["std"] if point in r.points else 0.0 for r in results]
        positions = [j + (i - (len(POINTS) - 1) / 2) * width for j in range(len(results))]
        bars = axes.bar(positions, means, width, yerr=errors, capsize=3, label=TITLES[point])
        axes.bar_label(bars, fmt="%.2f", fontsize=7, padding=2)
    axes.set_xticks(range(len(results)), [f"{r.project}\n({r.metric})" for r in results], fontsize=8)
    axes.set_ylim(0, 1)
    axes.set_ylabel("headline score")
    axes.legend(ncol=len(POINTS), fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.2))
    for heat, (result, shown, confusion) in zip(axes_row[0][1:], heatmaps):
        matrix = confusion["matrix"]
        image = heat.imshow(matrix, cmap="Blues")
        heat.set_xticks(range(len(confusion["columns"])), confusion["columns"], rotation=60, ha="right", fontsize=6)
        heat.set_yticks(range(len(confusion["rows"])), confusion["rows"], fontsize=6)
        heat.set_title(f"{result.project}: {shown}", fontsize=8)
        heat.set_xlabel("answer", fontsize=7)
        heat.set_ylabel("reference", fontsize=7)
        if len(confusion["rows"]) <= 10:
            darkest = max(max(counts) for counts in matrix) or 1
            for r, counts in enumerate(matrix):
                for c, count in enumerate(counts):
                    if count:
                        color = "white" if count > darkest / 2 else "black"
                        heat.text(c, r, str(count), ha="center", va="center", fontsize=6, color=color)
        figure.colorbar(image, ax=heat, fraction=0.046, pad=0.04)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
