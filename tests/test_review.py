"""`germinate review`: a person's decisions (reject, accept, fix the output) are kept in the run's
review file by candidate id and survive every rebuild of accepted.jsonl and rejected.jsonl:
generation resuming (and extending), `validate --apply`, and review itself."""

import json

import pytest
from conftest import germinate
from fake_teacher import fake_teacher

pytestmark = pytest.mark.fast

OTHER = {"positive": "negative", "negative": "positive"}


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _generated(make_project, n):
    with fake_teacher() as server:
        config = {
            "task_type": "classification",
            "name": "sentiment",
            "description": "Classify a product review as positive or negative.",
            "labels": ["positive", "negative"],
            "teacher": {"backend": "openai", "model": "fake", "base_url": server.url + "/v1", "concurrency": 4},
            # one example per call: this teacher then breaks some on purpose (markdown, empty replies),
            # so the run has format and parse rejections to review
            "generation": {"batch_size": 6, "prompt_style": "single", "per_call": 1},
            # the seeds' bare length band: some of this teacher's texts fall outside it, which gives
            # the run a rejection a person may overrule
            "validation": {"length": {"slack": 1}},
        }
        project = make_project(config=config)
        result = germinate("generate", project, "--n", str(n))
        assert result.returncode == 0, result.stderr
    return project, project / "runs" / "default"


def _state(run):
    accepted = {r["id"]: r for r in _rows(run / "accepted.jsonl") if r["source"] != "seed"}
    rejected = {r["id"]: r for r in _rows(run / "rejected.jsonl")}
    return accepted, rejected


def _check_decisions(run, reject_id, accept_id, fix_id, fixed_label, overrode=True):
    accepted, rejected = _state(run)
    assert reject_id not in accepted and rejected[reject_id]["validator"] == "review"
    assert rejected[reject_id]["review"]["action"] == "reject"
    assert accept_id in accepted and accept_id not in rejected
    assert accepted[accept_id]["review"]["action"] == "accept"
    # which validator the person overruled is kept (unless the cascade now accepts it anyway)
    assert ("overrode" in accepted[accept_id]["review"]) == overrode
    assert accepted[fix_id]["record"]["output"] == fixed_label
    assert accepted[fix_id]["review"]["original_record"]["output"] == OTHER[fixed_label]
    return accepted, rejected


@pytest.fixture
def reviewed(make_project, germinate_cli):
    project, run = _generated(make_project, 8)
    accepted, rejected = _state(run)
    reject_id, fix_id = sorted(accepted)[:2]
    # a candidate the cascade rejected for a reason a person may overrule (too close to a seed...)
    accept_id = next(cid for cid, row in sorted(rejected.items()) if row["validator"] in ("novelty", "length"))
    fixed_label = OTHER[accepted[fix_id]["record"]["output"]]
    result = germinate_cli(
        "review",
        project,
        "--reject",
        reject_id,
        "--accept",
        accept_id,
        "--set-output",
        fix_id,
        fixed_label,
        "--note",
        "checked by hand",
    )
    assert result.exit_code == 0, result.stderr
    assert "recorded 3 decision(s)" in result.stdout
    _check_decisions(run, reject_id, accept_id, fix_id, fixed_label)
    return project, run, (reject_id, accept_id, fix_id, fixed_label)


def test_decisions_survive_generation_resume_and_extension(reviewed):
    project, run, decisions = reviewed
    # the same target: a person's rejection costs one accepted example, so generation resumes and
    # makes more; then a larger target extends the run. Every rebuild keeps the decisions.
    for n in (8, 12):
        with fake_teacher() as server:
            config = (project / "task.yaml").read_text()
            (project / "task.yaml").write_text(
                config.replace(config.split("base_url: ")[1].split()[0], server.url + "/v1")
            )
            result = germinate("generate", project, "--n", str(n))
        assert result.returncode == 0, result.stderr
        accepted, _ = _check_decisions(run, *decisions)
        assert len(accepted) == n
        summary = json.loads((run / "validation.json").read_text())
        assert summary["accepted"] == n and summary["rejected"]["review"]["count"] == 1
        assert summary["reviewed"] == {"accept": 1, "fix": 1, "reject": 1}
    candidates = _rows(run / "candidates.jsonl")
    assert len({c["id"] for c in candidates}) == len(candidates)  # nothing duplicated by the rebuilds


def test_decisions_survive_validate_apply_and_clear_withdraws_one(reviewed, germinate_cli):
    project, run, (reject_id, accept_id, fix_id, fixed_label) = reviewed
    result = germinate_cli("validate", project, "--set", "novelty.tau_max=0.95", "--disable", "length", "--apply")
    assert result.exit_code == 0, result.stderr
    # with the length filter off and novelty looser, the cascade itself may now accept accept_id
    accepted, _ = _state(run)
    _check_decisions(run, reject_id, accept_id, fix_id, fixed_label, "overrode" in accepted[accept_id]["review"])
    assert germinate_cli("review", project, "--clear", reject_id).exit_code == 0
    accepted, _ = _state(run)
    assert reject_id in accepted and "review" not in accepted[reject_id]  # the cascade decides again
    assert accepted[fix_id]["record"]["output"] == fixed_label
    # the review file is an append-only record of every decision, the withdrawal included
    actions = [row["action"] for row in _rows(run / "reviews.jsonl")]
    assert actions == ["reject", "accept", "fix", "clear"]
    assert all(row.get("note") == "checked by hand" for row in _rows(run / "reviews.jsonl")[:3])


def test_listing_filters_by_validator_label_score_and_review(reviewed, germinate_cli):
    project, run, (reject_id, accept_id, fix_id, _) = reviewed

    def listed(*args):
        result = germinate_cli("review", project, "--json", "--limit", "0", *args)
        assert result.exit_code == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]

    everything = listed()
    accepted, rejected = _state(run)
    assert {r["id"] for r in everything} == set(accepted) | set(rejected)
    by_format = listed("--validator", "format")
    assert by_format and all(r["validator"] == "format" and r["status"] == "rejected" for r in by_format)
    assert {r["id"] for r in by_format} == {cid for cid, row in rejected.items() if row["validator"] == "format"}
    assert [r["id"] for r in listed("--validator", "review")] == [reject_id]
    positives = listed("--label", "positive", "--status", "accepted")
    assert positives and all(r["labels"]["label"] == "positive" for r in positives)
    assert {r["id"] for r in listed("--reviewed")} == {reject_id, accept_id, fix_id}
    # not one a person let past the length filter: the novelty filter never scored it
    scored = {cid: row["scores"]["novelty"] for cid, row in accepted.items() if "novelty" in row["scores"]}
    middle = sorted(scored.values())[len(scored) // 2]
    high = listed("--status", "accepted", "--score-by", "novelty", "--min-score", str(middle))
    low = listed("--status", "accepted", "--score-by", "novelty", "--max-score", str(middle))
    assert high and low and all(r["scores"]["novelty"] >= middle for r in high)
    assert all(r["scores"]["novelty"] <= middle for r in low)
    assert {r["id"] for r in high} | {r["id"] for r in low} == set(scored)
    table = germinate_cli("review", project, "--validator", "review")
    assert reject_id in table.stdout and "1 of 1 matching" in table.stdout


def test_bad_decisions_are_one_line_each_and_change_nothing(reviewed, germinate_cli):
    project, run, (_, _, fix_id, _) = reviewed
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    unparsed = next(r["id"] for r in _rows(run / "rejected.jsonl") if r["validator"] == "parse")
    result = germinate(  # a real process: its stderr holds only this command's lines
        "review",
        project,
        "--reject",
        "c999999",
        "--set-output",
        fix_id,
        "neutral",
        "--accept",
        unparsed,
        "--set-record",
        fix_id,
        '{"input": "fine"}',
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "--reject: c999999: no candidate with this id in candidates.jsonl",
        "--accept: " + unparsed + ": has no record (the teacher's text did not parse); use --set-record",
        f"--set-output: {fix_id}.output: label 'neutral' is not in the label set (positive, negative)",
        f"--set-record: {fix_id}.output: required field is missing",
    ]
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


def test_interactive_review_records_each_decision(reviewed, germinate_cli):
    project, run, _ = reviewed
    pending = [r for r in _state(run)[0] if r not in reviewed[2]][:3]
    # reject the first, skip the second, correct the third's label, then quit
    accepted, _ = _state(run)
    third_label = OTHER[accepted[pending[2]]["record"]["output"]]
    result = germinate_cli(
        "review", project, "--status", "accepted", "--unreviewed", "-i", input=f"r\ns\no\n{third_label}\nq\n"
    )
    assert result.exit_code == 0, result.stderr
    assert "recorded 2 decision(s)" in result.stdout
    accepted, rejected = _state(run)
    assert rejected[pending[0]]["validator"] == "review"
    assert pending[1] in accepted and "review" not in accepted[pending[1]]
    assert accepted[pending[2]]["record"]["output"] == third_label


def test_review_file_torn_tail_is_ignored_and_a_bad_line_is_named(reviewed, germinate_cli):
    project, run, (reject_id, *_rest) = reviewed
    path = run / "reviews.jsonl"
    path.write_bytes(path.read_bytes() + b'{"id": "c0000')  # killed while appending
    result = germinate_cli("review", project, "--json")
    assert result.exit_code == 0, result.stderr
    path.write_bytes(path.read_bytes()[: -len(b'{"id": "c0000')] + b'{"id": "c000001", "action": "maybe"}\n')
    result = germinate("review", project, "--reject", reject_id)
    assert result.returncode == 2
    assert result.stderr.strip() == f"{path}:4: action: 'maybe' is not one of reject, accept, fix, clear"
