"""The generation loop with a deterministic teacher behind a real loopback server: schema-valid
records with θ, properties.json, coverage, resume without repeated calls, budget stops,
prompt overrides."""

import json

import pytest
import yaml
from conftest import germinate
from fake_teacher import fake_teacher

pytestmark = pytest.mark.fast


def _project(make_project, server, **generation):
    config = {
        "task_type": "classification",
        "name": "sentiment",
        "description": "Classify a product review as positive or negative.",
        "labels": ["positive", "negative"],
        "teacher": {"backend": "openai", "model": "fake", "base_url": server.url + "/v1", "concurrency": 4},
        "generation": {"batch_size": 6, **generation},
    }
    return make_project(config=config)


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_generates_valid_records_with_theta_properties_and_coverage(make_project):
    with fake_teacher() as server:
        project = _project(make_project, server, prompt_style="listed", per_call=8)
        result = germinate("generate", project, "--n", "12")
    assert result.returncode == 0, result.stderr
    run = project / "runs" / "default"
    accepted = [r for r in _rows(run / "accepted.jsonl") if r["source"] == "synthetic"]
    assert len(accepted) == 12
    for row in accepted:
        assert row["record"]["output"] == row["theta"]["label"] in ("positive", "negative")
        assert set(row["theta"]) == {"complexity", "label"}
        assert row["teacher"] == "fake" and len(row["prompt_hash"]) == 16
    candidates = _rows(run / "candidates.jsonl")
    assert [c["index"] for c in candidates] == list(range(len(candidates)))
    rejected = _rows(run / "rejected.jsonl")
    assert len(candidates) == 12 + len(rejected)
    assert {r["validator"] for r in rejected} <= {"format", "length", "novelty", "parse", "schema"}
    # per_call 8: each call's examples share its prompt and carry their place in its list
    for start in range(0, len(candidates) - 7, 8):
        call = candidates[start : start + 8]
        assert len({c["prompt_hash"] for c in call}) == 1 and [c["item"] for c in call] == list(range(1, 9))
    properties = json.loads((run / "properties.json").read_text())
    assert properties["active"] == ["complexity", "label"]
    assert properties["properties"]["label"]["counts"] == {"positive": 5, "negative": 5}
    assert properties["properties"]["label"]["posterior_alpha"] == {"positive": 6.0, "negative": 6.0}
    assert sum(properties["properties"]["complexity"]["counts"].values()) == 10
    coverage = json.loads((run / "coverage.json").read_text())
    assert sum(v["accepted"] for v in coverage["properties"]["label"].values()) == 12
    assert "coverage of accepted examples" in result.stdout


def test_rerun_and_extension_never_repeat_a_finished_call(make_project):
    with fake_teacher() as server:
        project = _project(make_project, server)
        germinate("generate", project, "--n", "8", check=0)
        calls = len(server.calls)
        germinate("generate", project, "--n", "8", check=0)
        assert len(server.calls) == calls  # complete already: nothing sent
        germinate("generate", project, "--n", "14", check=0)
        bodies = [json.dumps(c.body, sort_keys=True) for c in server.calls]
        assert len(bodies) == len(set(bodies)), "a finished call was sent twice"
    accepted = [r for r in _rows(project / "runs" / "default" / "accepted.jsonl") if r["source"] == "synthetic"]
    assert len(accepted) == 14 and len({r["id"] for r in accepted}) == 14


def test_same_seed_same_run_and_another_seed_differs(make_project, tmp_path):
    with fake_teacher() as server:
        a, b, c = (_project(make_project, server) for _ in range(3))
        germinate("generate", a, "--n", "6", check=0)
        germinate("generate", b, "--n", "6", check=0)
        germinate("generate", c, "--n", "6", "--seed", "5", check=0)
    rows = [
        [(r["record"], r.get("theta")) for r in _rows(p / "runs" / "default" / "accepted.jsonl")] for p in (a, b, c)
    ]
    assert rows[0] == rows[1] and rows[0] != rows[2]


def test_max_cost_stops_cleanly_and_rerun_continues(make_project):
    with fake_teacher() as server:
        project = _project(make_project, server)
        config = yaml.safe_load((project / "task.yaml").read_text())
        config["prices"] = {"fake": {"input": 100.0, "output": 100.0}}
        (project / "task.yaml").write_text(yaml.safe_dump(config))
        stopped = germinate("generate", project, "--n", "10", "--max-cost", "0.1")
        assert stopped.returncode == 0 and "--max-cost reached" in stopped.stderr
        partial = len(_rows(project / "runs" / "default" / "accepted.jsonl"))
        germinate("generate", project, "--n", "10", check=0)
    assert len(_rows(project / "runs" / "default" / "accepted.jsonl")) == 10 + 10 > partial


def test_dry_run_sends_nothing(make_project):
    with fake_teacher() as server:
        project = _project(make_project, server, prompt_style="listed", per_call=8)
        result = germinate("generate", project, "--n", "100", "--dry-run", check=0)
        assert server.calls == []
    estimate = json.loads(result.stdout)
    # 10 seeds labelled, then 100 examples at 8 per call
    assert estimate["at_least_calls"] == 10 + 13 and estimate["model"] == "fake"


def test_prompt_templates_are_overridable_without_code(make_project):
    with fake_teacher() as server:
        project = _project(
            make_project, server, prompt_style="listed", per_call=8, prompts={"system": "MY SYSTEM. Labels: {labels}."}
        )
        (project / "prompts").mkdir()
        (project / "prompts" / "generate.txt").write_text(
            "MY TEMPLATE. {description} Write reviews.\nRequests:\n{requests}"
        )
        germinate("generate", project, "--n", "2", check=0)
        bodies = [c.body["messages"] for c in server.calls if "MY TEMPLATE" in str(c.body)]
    assert bodies and all(m[1]["content"].startswith("MY TEMPLATE. Classify a product review") for m in bodies)
    assert all(m[0]["content"] == "MY SYSTEM. Labels: positive, negative." for m in bodies)


def test_single_style_sends_one_example_per_call_with_the_old_prompts(make_project):
    with fake_teacher() as server:
        project = _project(make_project, server, prompt_style="single", per_call=1)
        (project / "prompts").mkdir()
        (project / "prompts" / "generate.txt").write_text(
            'MY TEMPLATE. {description} Write a review; the correct label is "{label}". {instructions}'
        )
        germinate("generate", project, "--n", "4", check=0)
        prompts = [c.body["messages"][1]["content"] for c in server.calls if "MY TEMPLATE" in str(c.body)]
    candidates = _rows(project / "runs" / "default" / "candidates.jsonl")
    assert len(prompts) == len(candidates) >= 4 and all("item" not in c for c in candidates)
    assert all(p.startswith("MY TEMPLATE. Classify a product review") for p in prompts)


def test_single_style_needs_one_example_per_call(make_project):
    with fake_teacher() as server:
        project = _project(make_project, server, prompt_style="single", per_call=3)
        result = germinate("generate", project, "--n", "2")
        assert server.calls == []
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "task.yaml: generation.prompt_style: 'single' writes one example per call; "
        "set generation.per_call to 1 (it is 3)"
    )


def test_bad_prompt_override_is_a_clear_error(make_project):
    with fake_teacher() as server:
        project = _project(make_project, server, prompts={"generate": "Write a {colour} review"})
        result = germinate("generate", project, "--n", "2")
    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        "generation.prompts.generate: unknown placeholder {colour} (available: count, description, examples, "
        "properties, requests)"
    )


def test_topic_and_length_properties_with_fallback(make_project):
    """The teacher proposes topics (deduplicated into a property) and labels only complexity, so
    every seed's length falls back to its tercile; all three land in properties.json and θ."""
    with fake_teacher() as server:
        project = _project(
            make_project, server, prompt_style="listed", per_call=8, properties=["complexity", "length", "topic"]
        )
        germinate("generate", project, "--n", "4", check=0)
    run = project / "runs" / "default"
    properties = json.loads((run / "properties.json").read_text())
    assert properties["active"] == ["complexity", "length", "topic", "label"]
    assert properties["properties"]["topic"]["values"] == ["travel", "food", "money"]
    sources = [row["source"] for row in properties["seed_labels"]]
    assert all(s["length"] == "fallback: seed length tercile" and s["topic"] == "unusable" for s in sources)
    assert sum(properties["properties"]["length"]["counts"].values()) == 10
    assert sum(properties["properties"]["topic"]["counts"].values()) == 0  # unusable labels: prior only
    accepted = [r for r in _rows(run / "accepted.jsonl") if r["source"] == "synthetic"]
    assert all(set(r["theta"]) == {"complexity", "length", "topic", "label"} for r in accepted)
    # what each value asks for is said once, in the system message every generation call shares
    systems = {c.body["messages"][0]["content"] for c in server.calls if "Requests:" in str(c.body)}
    assert len(systems) == 1 and '"topic: travel": The example should be about travel.' in systems.pop()
