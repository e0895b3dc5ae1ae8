"""A `germinate run` (generation, validation, then the teacher's evaluation) against a loopback teacher that fails 30% of calls in mixed ways (429,
500, hangs, resets, truncated and non-JSON bodies) completes, counts every kind, and crashes
nowhere."""

import hashlib
import json

import pytest
from conftest import germinate
from fake_teacher import FakeTeacher

from germinate.testing.loopback import Action, LoopbackServer, last_user_text

pytestmark = pytest.mark.slow

FAULTS = [
    Action("status", status=429, headers={"retry-after": "0.2"}),
    Action("status", status=500),
    Action("hang"),
    Action("reset"),
    Action("truncated"),
    Action("html"),
    Action("malformed"),
]
KINDS = {"rate_limited", "server_error", "timeout", "connection", "bad_response"}


TEACHER = FakeTeacher()


def flaky(call):
    prompt = last_user_text(call.body)
    digest = int(hashlib.sha256(prompt.encode()).hexdigest(), 16)
    if call.attempt == 1 and digest % 10 < 3:  # 30% of calls fail on their first attempt
        return FAULTS[(digest >> 8) % len(FAULTS)]
    return Action("ok", text=TEACHER.reply(call.body))


def test_run_survives_a_flaky_teacher(make_project):
    test = [
        {"input": f"Test review number {i}: the {w} was fine", "output": ["positive", "negative"][i % 2]}
        for i, w in enumerate(["kettle", "lamp", "chair", "desk", "pen", "mug", "sofa", "rug", "fan", "clock"])
    ]
    with LoopbackServer(flaky) as server:
        project = make_project(
            config={
                "task_type": "classification",
                "description": "Classify a product review as positive or negative.",
                "labels": ["positive", "negative"],
                "teacher": {
                    "backend": "openai",
                    "model": "flaky",
                    "base_url": server.url + "/v1",
                    "concurrency": 4,
                    "timeout": 1.0,
                },
                "generation": {"batch_size": 8},
            },
            test=test,
        )
        # the fake teacher cannot classify: the gate says RETHINK, and --force goes on through the faults
        result = germinate("run", project, "--n", "30", "--points", "teacher", "--force")
        first_attempts = sum(1 for c in server.calls if c.attempt == 1)
        faulty = sum(
            1 for c in server.calls if c.attempt == 1 and isinstance(flaky(c), Action) and flaky(c).kind != "ok"
        )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert 0.2 < faulty / first_attempts < 0.4
    line = next(line for line in result.stdout.splitlines() if line.startswith("teacher faults (retried):"))
    counts = json.loads(line.split(":", 1)[1])
    assert set(counts) == KINDS and all(v > 0 for v in counts.values())
    accepted = [json.loads(row) for row in (project / "runs" / "default" / "accepted.jsonl").read_text().splitlines()]
    assert sum(r["source"] == "synthetic" for r in accepted) == 30
    report = json.loads((project / "runs" / "default" / "report.json").read_text())
    assert report["models"]["teacher"]["examples"] == 10  # every evaluation call got through too
    assert (
        json.loads((project / "runs" / "default" / "pipeline.json").read_text())["stages"]["generate"]["faults"]
        == counts
    )
