"""End to end on ../shared/datasets/trec with the embedded local models and no API key: `germinate
run` generates, trains two repeats of the trained and the seed student, evaluates the four points
and writes a complete report; a rerun reuses every model and prediction. The judge, run on the real
local teacher, gives a verdict that parses."""

import json
import os
from pathlib import Path

import pytest
import yaml
from conftest import germinate

from germinate.evaluate.judge import JUDGE_PROMPT, judge_request, read_verdict
from germinate.project.load import load_project
from germinate.project.scaffold import init_from
from germinate.teachers.setup import make_engine

pytestmark = pytest.mark.slow

SMALL = {
    "generation": {"n": 4, "batch_size": 4},
    # the short system text: trec's description would be ~230 of every example's ~250 tokens
    "training": {"epochs": 1, "batch_size": 4, "learning_rate": 5e-4, "save_steps": 100, "system_prompt": "short"},
    "evaluation": {"max_examples": 6, "repeats": 2, "k_shot": 3},
    "gate": {"max_examples": 6},
}


def test_run_on_trec_writes_a_complete_report(tmp_path, datasets):
    folder = tmp_path / "trec"
    init_from(datasets / "trec", folder)
    config = yaml.safe_load((folder / "task.yaml").read_text())
    (folder / "task.yaml").write_text(yaml.safe_dump({**config, **SMALL}, sort_keys=False))
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    # --force: this test is about the report, whatever the small local teacher's gate verdict
    first = germinate("run", folder, "--force", env=env, check=0, timeout=1800)
    run = folder / "runs" / "default"
    report = json.loads((run / "report.json").read_text())
    names = {"teacher", "trained-r0", "trained-r1", "seeds-r0", "seeds-r1", "base"}
    assert set(report["models"]) == names
    for name in names:
        rows = [json.loads(line) for line in (run / "eval" / "predictions" / f"{name}.jsonl").read_text().splitlines()]
        assert len(rows) == 6 and all(isinstance(r["correct"], bool) for r in rows)
        assert report["models"][name]["correct"] == sum(r["correct"] for r in rows)  # the report recounts them
        wrong_listed = sum(1 for r in rows if r["error"])
        assert report["models"][name]["unparseable"] == wrong_listed
    for point in ("trained", "seeds"):
        scores = report["points"][point]["scores"]
        assert len(scores) == 2
        assert report["points"][point]["mean"] == pytest.approx(sum(scores) / 2)
    # the two repeats trained with different seeds
    seeds_used = {
        json.loads((run / f"model-r{r}" / "train_config.json").read_text())["seed"]
        if r
        else json.loads((run / "model" / "train_config.json").read_text())["seed"]
        for r in (0, 1)
    }
    assert len(seeds_used) == 2
    assert report["gate"]["verdict"] in ("PROCEED", "ITERATE", "RETHINK") and report["gate"]["examples"] == 6
    assert set(report["points"]["trained"]["metrics"]) == {"accuracy", "macro_f1"}
    table = (run / "report.md").read_text()
    assert table.count("| trec | classification | accuracy | 6 |") == 1
    assert (run / "report.png").read_bytes()[:4] == b"\x89PNG"
    assert "| trec |" in first.stdout

    stamps = {p: p.stat().st_mtime_ns for p in run.glob("model*/adapter/adapter_model.safetensors")}
    again = germinate("run", folder, "--force", env=env, check=0, timeout=1800)
    assert "predicting" not in again.stdout and "train trained" not in again.stdout
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert json.loads((run / "report.json").read_text())["points"] == report["points"]


def test_judge_with_the_local_teacher_gives_a_readable_verdict(tmp_path, datasets):
    folder = tmp_path / "hotpot"
    init_from(datasets / "hotpotqa", folder)
    project = load_project(folder)
    engine = make_engine(project)
    try:
        seeds = [r.data for r in project.seeds][:4]
        requests = [
            judge_request(
                JUDGE_PROMPT, project.config["description"], project.task_type.prompt_text(s), s["answer"], answer
            )
            for s in seeds
            for answer in (s["answer"], "I do not know.")
        ]
        results = engine.run_blocking(requests)
    finally:
        engine.close()
    assert all(r.ok for r in results)
    assert all(read_verdict(r.completion.text) is not None for r in results), [r.completion.text for r in results]
    assert Path(folder / ".germinate" / "cache.sqlite").exists()
