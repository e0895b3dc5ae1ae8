"""`germinate validate`: the rejection ledger explains every rejection, and a replay with changed
thresholds shows what would change without touching the run until --apply."""

import json

import pytest
from conftest import germinate

pytestmark = pytest.mark.fast


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def trec_run(datasets, tmp_path, germinate_cli):
    project = tmp_path / "trec"
    assert germinate_cli("init", project, "--from", datasets / "trec").exit_code == 0
    with (project / "task.yaml").open("a") as config:  # replay mechanics here; the teacher's view is tested elsewhere
        config.write("\nvalidation:\n  agreement: false\n")
    test = _rows(datasets / "trec" / "test.jsonl")[:200]
    candidates = [
        {"id": f"c{i:05d}", "record": r, "raw": json.dumps(r), "error": None, "theta": {"complexity": "simple"}}
        for i, r in enumerate(test)
    ]
    candidates += [
        {"id": "bad-parse", "record": None, "raw": "Sure! Here is an example:", "error": "no JSON object in the reply"},
        {"id": "no-answer", "record": None, "raw": None, "error": "teacher: timeout: no answer within 120 s"},
        {"id": "bad-label", "record": {"input": "What colour is a ripe banana today ?", "output": "fruit"}, "raw": "x"},
        {
            "id": "bad-format",
            "record": {"input": "**What** is the capital city of Peru ?", "output": "location"},
            "raw": "x",
        },
        {"id": "copy", "record": dict(test[0]), "raw": "x"},
    ]
    run = project / "runs" / "default"
    run.mkdir(parents=True)
    (run / "candidates.jsonl").write_text("".join(json.dumps(c) + "\n" for c in candidates))
    return project, run, candidates


def test_ledger_explains_every_rejection(trec_run, germinate_cli):
    project, run, candidates = trec_run
    result = germinate_cli("validate", project, "--apply")
    assert result.exit_code == 0, result.stderr
    accepted, rejected = _rows(run / "accepted.jsonl"), _rows(run / "rejected.jsonl")
    seeds = [r for r in accepted if r["source"] == "seed"]
    assert len(seeds) == 20
    assert len(accepted) - 20 + len(rejected) == len(candidates)
    by_id = {r["id"]: r for r in rejected}
    assert by_id["bad-parse"]["validator"] == "parse" and by_id["bad-parse"]["raw"] == "Sure! Here is an example:"
    assert by_id["no-answer"]["validator"] == "teacher"  # the same label generation gives it
    assert by_id["bad-label"]["validator"] == "schema" and "'fruit' is not one of" in by_id["bad-label"]["reason"]
    assert by_id["bad-format"]["validator"] == "format"
    assert by_id["copy"]["validator"] == "novelty" and by_id["copy"]["score"] == 1.0
    assert by_id["copy"]["nearest_anchor"] == candidates[0]["record"]["input"]
    for row in rejected:
        assert row["validator"] and row["reason"] and "raw" in row and row["id"]
    assert json.loads((run / "validation.json").read_text())["rejected"]["teacher"]["count"] == 1
    summary = json.loads((run / "validation.json").read_text())
    assert summary["order"] == ["format", "structure", "length", "schema", "grounding", "novelty"]
    assert summary["settings"]["novelty"] == {"tau_min": 0.1, "tau_max": 0.9}
    assert sum(v["count"] for v in summary["rejected"].values()) == len(rejected)
    assert summary["accepted"] == len(accepted) - 20


def test_replay_shows_change_and_writes_only_with_apply(trec_run, germinate_cli):
    project, run, _ = trec_run
    shown = germinate_cli("validate", project)  # a fresh run too: nothing written without --apply
    assert "nothing written" in shown.stdout and not (run / "accepted.jsonl").exists()
    germinate_cli("validate", project, "--apply")
    before = (run / "accepted.jsonl").read_bytes(), (run / "rejected.jsonl").read_bytes()
    result = germinate_cli("validate", project, "--set", "novelty.tau_max=0.6", "--disable", "length")
    assert result.exit_code == 0, result.stderr
    assert "newly rejected" in result.stdout and "nothing written" in result.stdout
    assert ((run / "accepted.jsonl").read_bytes(), (run / "rejected.jsonl").read_bytes()) == before
    applied = germinate_cli("validate", project, "--set", "novelty.tau_max=0.6", "--disable", "length", "--apply")
    assert applied.exit_code == 0
    summary = json.loads((run / "validation.json").read_text())
    assert (
        summary["order"] == ["format", "structure", "schema", "grounding", "novelty"]
        and summary["settings"]["novelty"]["tau_max"] == 0.6
    )
    for row in _rows(run / "accepted.jsonl"):
        if row["source"] != "seed":
            assert row["scores"]["novelty"] <= 0.6


def test_replay_matches_a_fresh_validation_with_the_same_settings(trec_run, germinate_cli, tmp_path):
    project, run, _ = trec_run
    germinate_cli("validate", project, "--set", "novelty.tau_max=0.7", "--apply")
    first = (run / "accepted.jsonl").read_bytes()
    germinate_cli("validate", project, "--apply")
    germinate_cli("validate", project, "--set", "novelty.tau_max=0.7", "--apply")
    assert (run / "accepted.jsonl").read_bytes() == first


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--set", "noveltyy.tau_max=0.5"],
            "--set: noveltyy: unknown validator (installed: agreement, format, grounding, length, novelty, schema, structure)",
        ),
        (["--set", "tau_max=0.5"], "--set: tau_max=0.5: expected VALIDATOR.OPTION=VALUE, e.g. novelty.tau_max=0.85"),
        (["--set", "novelty.tau_max=high"], "validation: novelty.tau_max: expected number, got string 'high'"),
        (["--set", "novelty.tau=0.5"], "validation: novelty.tau: unexpected field (allowed: tau_max, tau_min)"),
    ],
)
def test_bad_overrides_are_one_line_errors(trec_run, args, message):
    project, run, _ = trec_run
    result = germinate("validate", project, *args)
    assert result.returncode == 2 and result.stderr.strip() == message
    assert not (run / "accepted.jsonl").exists()


def test_validate_external_records_and_missing_candidates(datasets, tmp_path, germinate_cli):
    project = tmp_path / "p"
    germinate_cli("init", project, "--from", datasets / "git_tool_calling")
    missing = germinate_cli("validate", project)
    assert missing.exit_code == 2 and "no candidates yet" in missing.stderr
    result = germinate_cli("validate", project, "--candidates", datasets / "git_tool_calling" / "test.jsonl", "--apply")
    assert result.exit_code == 0, result.stderr
    accepted = _rows(project / "runs" / "default" / "accepted.jsonl")
    assert all(r["record"]["output"]["name"].startswith("git_") for r in accepted)
    assert len(accepted) > 20
