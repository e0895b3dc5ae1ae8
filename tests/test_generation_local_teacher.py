"""Every task family generates schema-valid examples with recorded θ, end to end, with the real
embedded local teacher (Qwen2.5-Coder-0.5B via llama.cpp) on a project built from the shared
datasets; a resumed run pays for no finished call again."""

import json
import sqlite3

import jsonschema
import pytest
from conftest import germinate

from germinate.project.load import load_project

pytestmark = pytest.mark.slow

FAMILIES = {
    "trec": "classification",
    "git_tool_calling": "tool_calling",
    "pii_redaction": "information_extraction",
    "hotpotqa": "open_book_qa",
    "squad2_closed_book": "closed_book_qa",
}


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def _generates_the_family(project, dataset, result):
    assert result.returncode == 0, result.stderr
    loaded = load_project(project)
    assert loaded.task_type.name == FAMILIES[dataset]
    accepted = [r for r in _rows(project / "runs" / "default" / "accepted.jsonl") if r["source"] == "synthetic"]
    assert len(accepted) == 2, result.stdout[-2000:]
    for row in accepted:
        for rule in loaded.task_type.schema_rules(loaded.config):
            jsonschema.validate(row["record"], rule)
        assert "complexity" in row["theta"] and row["teacher"] == "qwen2.5-coder-0.5b"
    properties = json.loads((project / "runs" / "default" / "properties.json").read_text())
    assert len(properties["seed_labels"]) == len(loaded.seeds)


# trec's first generation is the resume test's below
@pytest.mark.parametrize("dataset", [d for d in FAMILIES if d != "trec"])
def test_family_generates_with_the_local_teacher(dataset, datasets, tmp_path):
    project = tmp_path / dataset
    germinate("init", project, "--from", datasets / dataset, check=0)
    _generates_the_family(project, dataset, germinate("generate", project, "--n", "2", "--batch-size", "4"))


def test_classification_generates_then_a_resume_pays_for_no_finished_call(datasets, tmp_path):
    project = tmp_path / "trec"
    germinate("init", project, "--from", datasets / "trec", check=0)
    _generates_the_family(project, "trec", germinate("generate", project, "--n", "2", "--batch-size", "4"))
    cache = project / ".germinate" / "cache.sqlite"
    first = sqlite3.connect(cache).execute("SELECT key, created FROM calls").fetchall()
    germinate("generate", project, "--n", "4", "--batch-size", "4", check=0)
    after = dict(sqlite3.connect(cache).execute("SELECT key, created FROM calls").fetchall())
    # a call made again would have replaced its row: every first-run row is untouched
    assert all(after[key] == created for key, created in first)
    assert len(after) > len(first)
    candidates = _rows(project / "runs" / "default" / "candidates.jsonl")
    labelled = sqlite3.connect(cache).execute("SELECT COUNT(*) FROM calls WHERE stage = 'properties'").fetchone()[0]
    assert labelled == 20 and len(after) - labelled >= len(candidates)
