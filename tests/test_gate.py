"""The teacher gate against a real loopback teacher: a teacher that always answers wrong stops
`germinate run` with RETHINK before any generation call (non-zero exit, one line); --force goes
on; the seeds are answered leave-one-out; `germinate gate` prints the figure and the worst
answers; the verdict and its numbers land in pipeline.json and the report."""

import json

import pytest
from fake_teacher import answer

from germinate.evaluate.gate import ITERATE, PROCEED, RETHINK, verdict_for
from germinate.plugins import get_plugins
from germinate.testing import SAMPLE_CONFIG, SAMPLE_SEEDS
from germinate.testing.loopback import Action, LoopbackServer, last_user_text

pytestmark = pytest.mark.fast

DESCRIPTION = SAMPLE_CONFIG["description"]
LABELS = {seed["input"]: seed["output"] for seed in SAMPLE_SEEDS}
TEST = [
    {"input": "Works as promised, five stars.", "output": "positive"},
    {"input": "Broke on the first day.", "output": "negative"},
    {"input": "Quick delivery and friendly staff.", "output": "positive"},
    {"input": "Would not recommend it to anyone.", "output": "negative"},
]


def is_kshot(body):
    """An answer-the-task prompt (evaluation or gate): the task description is the system turn."""
    return body["messages"][0]["role"] == "system" and body["messages"][0]["content"].startswith(DESCRIPTION)


def wrong_teacher(call):
    """Answers every task prompt with a label that is never right, and writes synthetic examples
    like the generation tests' fake teacher."""
    if is_kshot(call.body):
        return Action("ok", text="neutral")
    return Action("ok", text=answer(last_user_text(call.body)))


def right_teacher(call):
    text = last_user_text(call.body)
    if is_kshot(call.body):
        return Action("ok", text=LABELS.get(text) or next(t["output"] for t in TEST if t["input"] == text))
    return Action("ok", text=answer(text))


def _project(make_project, server, **extra):
    config = {
        **SAMPLE_CONFIG,
        "teacher": {"backend": "openai", "model": "loop", "base_url": server.url + "/v1", "max_retries": 0},
        "evaluation": {"k_shot": 3},
        "generation": {"batch_size": 8},
        **extra,
    }
    return make_project(config=config, test=TEST)


def test_a_wrong_teacher_stops_run_before_any_generation_call(make_project, germinate_cli):
    with LoopbackServer(wrong_teacher) as server:
        project = _project(make_project, server)
        result = germinate_cli("run", project, "--points", "teacher")
        bodies = [c.body for c in server.calls]
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("germinate: gate: RETHINK: the teacher (loop) scores 0.000 accuracy")
    assert "--force" in lines[0] and "Traceback" not in result.stdout
    # one call per seed, every one a task prompt: no property labelling, no generation
    assert len(bodies) == len(SAMPLE_SEEDS) and all(is_kshot(b) for b in bodies)
    run = project / "runs" / "default"
    assert not (run / "candidates.jsonl").exists() and not (run / "properties.json").exists()
    gate = json.loads((run / "pipeline.json").read_text())["stages"]["gate"]
    assert gate["verdict"] == RETHINK and gate["score"] == 0.0 and gate["examples"] == 10 and not gate["forced"]
    assert gate["cost"][0]["stage"] == "gate" and gate["cost"][0]["calls"] == 10
    assert "gate: RETHINK" in result.stdout and "worst answers (of 10):" in result.stdout


def test_seeds_are_answered_leave_one_out(make_project, germinate_cli):
    with LoopbackServer(wrong_teacher) as server:
        project = _project(make_project, server)
        germinate_cli("gate", project)
        bodies = [c.body for c in server.calls]
    asked = [b["messages"][-1]["content"] for b in bodies]
    assert sorted(asked) == sorted(LABELS)  # every seed answered once
    for body in bodies:
        shots = [m["content"] for m in body["messages"][1:-1:2]]
        assert len(shots) == 3 and set(shots) <= set(LABELS)
        assert body["messages"][-1]["content"] not in shots  # never its own example


def test_force_goes_on_and_the_report_keeps_the_verdict(make_project, germinate_cli):
    with LoopbackServer(wrong_teacher) as server:
        project = _project(make_project, server)
        result = germinate_cli("run", project, "--points", "teacher", "--n", "4", "--force")
        generation_calls = [c for c in server.calls if not is_kshot(c.body)]
    assert result.exit_code == 0, result.stderr
    assert generation_calls  # it went on to label the seeds and generate
    run = project / "runs" / "default"
    report = json.loads((run / "report.json").read_text())
    assert report["gate"]["verdict"] == RETHINK and report["gate"]["forced"]
    assert report["models"]["teacher"]["score"] == 0.0
    assert "teacher gate: **RETHINK** (forced on)" in (run / "report.md").read_text()
    stages = [row["stage"] for row in report["cost"]]
    assert {"gate", "generate", "evaluate"} <= set(stages)


def test_a_capable_teacher_proceeds_and_gate_prints_its_figure(make_project, germinate_cli):
    with LoopbackServer(right_teacher) as server:
        project = _project(make_project, server)
        result = germinate_cli("gate", project, "--source", "test")
        calls = len(server.calls)
    assert result.exit_code == 0, result.stderr
    assert "PROCEED: the teacher (loop) scores 1.000 accuracy on 4 test examples (3-shot)" in result.stdout
    assert calls == len(TEST)


def test_gate_command_exits_3_and_shows_the_worst_answers(make_project, germinate_cli):
    with LoopbackServer(wrong_teacher) as server:
        project = _project(make_project, server, gate={"max_examples": 4})
        result = germinate_cli("gate", project)
    assert result.exit_code == 3
    assert "on 4 seeds (leave-one-out, 3-shot)" in result.stdout
    assert result.stdout.count("  - got: `neutral`") == 4 and "not a label: 'neutral'" in result.stdout


def test_thresholds_are_settings_and_task_types_set_their_own():
    assert verdict_for(0.8, 0.8, 0.6) == PROCEED and verdict_for(0.79, 0.8, 0.6) == ITERATE
    assert verdict_for(0.6, 0.8, 0.6) == ITERATE and verdict_for(0.59, 0.8, 0.6) == RETHINK
    task_types = get_plugins().task_types
    assert task_types["tool_calling"].gate_proceed == 0.7 and task_types["classification"].gate_proceed == 0.8


def test_gate_threshold_from_task_yaml(make_project, germinate_cli):
    with LoopbackServer(wrong_teacher) as server:
        project = _project(make_project, server, gate={"rethink": 0.0, "proceed": 0.5, "max_examples": 2})
        result = germinate_cli("gate", project)
    assert result.exit_code == 0 and "ITERATE: the teacher (loop) scores 0.000 accuracy" in result.stdout
    with LoopbackServer(wrong_teacher) as server:
        project = _project(make_project, server, gate={"rethink": 0.9, "proceed": 0.5})
        result = germinate_cli("gate", project)
    assert result.exit_code == 2
    assert result.stderr.strip() == "task.yaml: gate.rethink: 0.9 is above gate.proceed (0.5)"
