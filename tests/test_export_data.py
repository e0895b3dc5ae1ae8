"""`germinate export --data`: the accepted set as a Hugging Face dataset folder (parquet + a card
with provenance) that `datasets` reads back, and chat JSONL that validates against OpenAI's
fine-tuning layout; a person's review decisions are in both."""

import json

import jsonschema
import pytest
from conftest import germinate
from fake_teacher import fake_teacher

pytestmark = pytest.mark.fast

# OpenAI's chat fine-tuning format (platform docs, "Preparing your dataset"): one JSON object per
# line with a "messages" list of {"role", "content"} turns, roles system/user/assistant, the
# assistant's turn last (the one the model learns).
OPENAI_CHAT_LINE = {
    "type": "object",
    "required": ["messages"],
    "additionalProperties": False,
    "properties": {
        "messages": {
            "type": "array",
            "minItems": 2,
            "items": {
                "type": "object",
                "required": ["role", "content"],
                "additionalProperties": False,
                "properties": {
                    "role": {"enum": ["system", "user", "assistant"]},
                    "content": {"type": "string", "minLength": 1},
                },
            },
            "contains": {"properties": {"role": {"const": "user"}}},
        }
    },
}


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from germinate.testing import write_project

    with fake_teacher() as server:
        project = write_project(
            tmp_path_factory.mktemp("export") / "sentiment",
            config={
                "task_type": "classification",
                "name": "sentiment",
                "description": "Classify a product review as positive or negative.",
                "labels": ["positive", "negative"],
                "teacher": {"backend": "openai", "model": "fake", "base_url": server.url + "/v1", "concurrency": 4},
                "generation": {"batch_size": 6},
            },
        )
        assert germinate("generate", project, "--n", "8").returncode == 0
    run = project / "runs" / "default"
    synthetic = [r for r in _rows(run / "accepted.jsonl") if r["source"] == "synthetic"]
    fixed = synthetic[0]
    label = {"positive": "negative", "negative": "positive"}[fixed["record"]["output"]]
    assert germinate("review", project, "--set-output", fixed["id"], label, check=0)
    result = germinate("export", project, "--data")
    assert result.returncode == 0, result.stderr
    return project, run, run / "export" / "data", fixed["id"], label, result.stdout


def test_datasets_reads_the_parquet_with_provenance(exported):
    from datasets import load_dataset

    _, run, folder, fixed_id, label, stdout = exported
    accepted = _rows(run / "accepted.jsonl")
    rows = load_dataset("parquet", data_files=str(folder / "data" / "*.parquet"), split="train")
    assert len(rows) == len(accepted) == 10 + 8
    assert f"data: 18 rows (10 seeds, 8 synthetic) -> {folder}" in stdout
    by_id = {row["id"]: row for row in rows}
    for row in accepted:
        got = by_id[row["id"]]
        assert json.loads(got["record"]) == row["record"] and got["source"] == row["source"]
        assert got["output"] == row["record"]["output"] and got["input"] == row["record"]["input"]
        assert [m["role"] for m in got["messages"]] == ["system", "user", "assistant"]
        assert got["messages"][0]["content"] == "Classify a product review as positive or negative."
        if row["source"] == "synthetic":
            assert got["theta"] == row["theta"] and got["teacher"] == "fake"
            assert got["scores"]["novelty"] == pytest.approx(row["scores"]["novelty"])
        else:
            assert got["theta"] == {"complexity": None, "label": None} and got["teacher"] is None
    assert by_id[fixed_id]["output"] == label and by_id[fixed_id]["review"] == "fix"


def test_the_folder_loads_as_a_dataset_by_its_card(exported, monkeypatch):
    from datasets import load_dataset

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _, run, folder, *_ = exported
    rows = load_dataset(str(folder), split="train")  # the card's `configs` point at data/*.parquet
    assert len(rows) == len(_rows(run / "accepted.jsonl"))
    card = (folder / "README.md").read_text()
    validation = json.loads((run / "validation.json").read_text())
    assert "| fake | 8 |" in card
    for name, counts in validation["rejected"].items():
        assert f"| {name} | {counts['count']} |" in card
    assert f"{validation['candidates']} candidates, {validation['accepted']} accepted" in card
    assert "Human review: fix 1." in card


def test_chat_jsonl_validates_against_openai_fine_tuning_layout(exported):
    _, run, folder, _, label, _ = exported
    lines = _rows(folder / "chat.jsonl")
    assert len(lines) == len(_rows(run / "accepted.jsonl"))
    validator = jsonschema.Draft202012Validator(OPENAI_CHAT_LINE)
    for line in lines:
        validator.validate(line)
        assert line["messages"][-1]["role"] == "assistant"
    # the schema is strict enough to fail a broken line
    assert not validator.is_valid({"messages": [{"role": "bot", "content": "hi"}]})
    outputs = [line["messages"][-1]["content"] for line in lines]
    assert label in outputs


def test_export_without_accepted_data_or_format_is_one_line(make_project):
    project = make_project()
    result = germinate("export", project, "--data")
    assert result.returncode == 2
    assert result.stderr.strip().endswith("nothing accepted yet; run `germinate generate` first")
    result = germinate("export", project)
    assert result.returncode == 2 and result.stderr.strip() == "--format: give --format FORMAT, --data, or both"
    result = germinate("export", project, "--format", "gguf")
    assert result.returncode == 2
    assert "no finished student to export; run `germinate train` first" in result.stderr
    assert "Traceback" not in result.stderr
