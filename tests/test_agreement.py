"""The agreement validator against a real loopback teacher that answers wrong on purpose: rejections
with the teacher's answer in the ledger, the evaluation's k-shot prompt, one concurrent batch,
replay from the cache (and a cache miss said to be a real call), a committee vote, another backend,
the cost meter, and the validator's place in generation."""

import itertools
import json
import re

import pytest
from conftest import germinate

from germinate.plugins import get_plugins
from germinate.project.load import load_project
from germinate.tasks.prompting import teacher_messages, teacher_shots
from germinate.testing import SAMPLE_SEEDS
from germinate.testing.loopback import Action, LoopbackServer, last_user_text
from germinate.validate.cascade import build_cascade

pytestmark = pytest.mark.fast

POSITIVE = [
    "The blender is quiet and crushes ice in seconds.",
    "Lovely soft fabric, the shirt fits perfectly.",
    "Delivery was fast and the box was well packed.",
]
NEGATIVE = [
    "The handle snapped off on the second day.",
    "It stopped charging after a week, total waste.",
    "The seller never replied and the parcel was lost.",
]


def kshot(call):
    """A teacher asked as the task (k-shot: more than system + one user turn)."""
    return len(call.body.get("messages", [])) > 2


def always_negative(call):
    if kshot(call):
        return Action("ok", text="negative", delay=0.05)
    return Action("ok", text="fine")


def _project(make_project, server, validation=None, candidates=True, **extra):
    config = {
        "task_type": "classification",
        "description": "Classify a product review as positive or negative. Answer with the label only.",
        "labels": ["positive", "negative"],
        "teacher": {"backend": "openai", "model": "loopback", "base_url": server.url + "/v1", "concurrency": 4},
        "validation": {"novelty": False, **(validation or {})},
        **extra,
    }
    project = make_project(config=config)
    run = project / "runs" / "default"
    if not candidates:
        return project, run
    candidates = [
        {"id": f"p{i}", "record": {"input": text, "output": "positive"}, "raw": text} for i, text in enumerate(POSITIVE)
    ] + [
        {"id": f"n{i}", "record": {"input": text, "output": "negative"}, "raw": text} for i, text in enumerate(NEGATIVE)
    ]
    run.mkdir(parents=True)
    (run / "candidates.jsonl").write_text("".join(json.dumps(c) + "\n" for c in candidates))
    return project, run


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_wrong_teacher_rejects_what_it_contradicts_and_replays_from_the_cache(make_project):
    with LoopbackServer(always_negative) as server:
        project, run = _project(make_project, server)
        first = germinate("validate", project, "--apply", check=0)
        asked = [c for c in server.calls if kshot(c)]
        again = germinate("validate", project, "--apply", check=0)
        asked_again = [c for c in server.calls if kshot(c)]
    # every candidate asked once, in one concurrent batch, with evaluation's k-shot prompt
    assert len(asked) == 6 and server.max_inflight > 1
    loaded = load_project(project)
    seeds = [r.data for r in loaded.seeds]
    for call in asked:
        record = next(
            {"input": t, "output": o}
            for t, o in [*((t, "positive") for t in POSITIVE), *((t, "negative") for t in NEGATIVE)]
            if t == last_user_text(call.body)
        )
        assert call.body["messages"] == teacher_messages(loaded, teacher_shots(seeds, 5, 0), record)
        assert call.body["temperature"] == 0.0
    rejected = {r["id"]: r for r in _rows(run / "rejected.jsonl")}
    assert set(rejected) == {"p0", "p1", "p2"}
    for row in rejected.values():
        assert row["validator"] == "agreement" and row["score"] == 0.0
        assert row["detail"]["teacher_answer"] == "negative"
        assert row["reason"] == "the teacher answers 'negative', the candidate says 'positive'"
    accepted = [r for r in _rows(run / "accepted.jsonl") if r["source"] != "seed"]
    assert {r["id"] for r in accepted} == {"n0", "n1", "n2"}
    assert all(r["scores"]["agreement"] == 1.0 for r in accepted)
    assert "6 not in the cache and sent as real calls" in first.stdout
    # the replay asks nothing: every answer comes from the cache, and says so
    assert len(asked_again) == 6
    assert "6 answered from the cache" in again.stdout and "real calls" not in again.stdout


def test_asks_exactly_what_evaluation_asks_the_teacher(make_project):
    """For the same record, the agreement question is the teacher's evaluation request itself
    (messages, parameters): the replay finds evaluation's answers in the cache and sends only the
    questions evaluation never asked."""
    with LoopbackServer(always_negative) as server:
        project, _ = _project(make_project, server)
        records = [{"input": t, "output": "positive"} for t in POSITIVE]
        (project / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        germinate("evaluate", project, "--points", "teacher", check=0)
        evaluated = [last_user_text(c.body) for c in server.calls if kshot(c)]
        result = germinate("validate", project, "--apply", check=0)
        asked = [last_user_text(c.body) for c in server.calls if kshot(c)][len(evaluated) :]
    assert sorted(evaluated) == sorted(POSITIVE) and sorted(asked) == sorted(NEGATIVE)
    assert "3 answered from the cache, 3 not in the cache and sent as real calls" in result.stdout


def test_a_cache_miss_during_replay_is_a_real_call_and_said_so(make_project):
    with LoopbackServer(always_negative) as server:
        project, run = _project(make_project, server)
        germinate("validate", project, "--apply", check=0)
        lines = (run / "candidates.jsonl").read_text().splitlines()
        extra = {
            "id": "new",
            "record": {"input": "It arrived broken and the glass was shattered everywhere.", "output": "negative"},
        }
        (run / "candidates.jsonl").write_text("\n".join([*lines, json.dumps(extra)]) + "\n")
        result = germinate("validate", project, "--apply", check=0)
        asked = [c for c in server.calls if kshot(c)]
    assert len(asked) == 7
    assert "6 answered from the cache, 1 not in the cache and sent as real calls" in result.stdout


def test_committee_majority_vote(make_project):
    """Three answers at temperature 0.7: the loopback answers each identical request in turn
    positive, negative, negative, so positive candidates lose 1 to 2 and negative ones win."""

    def turns(call):
        if kshot(call):
            return Action("ok", text=["positive", "negative", "negative"][(call.attempt - 1) % 3])
        return Action("ok", text="fine")

    with LoopbackServer(turns) as server:
        project, run = _project(make_project, server, {"agreement": {"samples": 3}})
        germinate("validate", project, "--apply", check=0)
        asked = [c for c in server.calls if kshot(c)]
    assert len(asked) == 18 and all(c.body["temperature"] == 0.7 for c in asked)
    rejected = {r["id"]: r for r in _rows(run / "rejected.jsonl")}
    assert set(rejected) == {"p0", "p1", "p2"}
    row = rejected["p0"]
    assert row["score"] == pytest.approx(1 / 3) and sorted(row["detail"]["teacher_answers"]) == [
        "negative",
        "negative",
        "positive",
    ]
    assert row["reason"] == "1 of 3 teacher answers agree with 'positive' (one says 'negative')"


def test_another_backend_answers_and_the_teacher_is_not_asked(make_project):
    with LoopbackServer(lambda call: Action("ok", text="fine")) as teacher, LoopbackServer(always_negative) as judge:
        backend = {"backend": "openai", "model": "other", "base_url": judge.url + "/v1"}
        project, run = _project(make_project, teacher, {"agreement": {"backend": backend}})
        germinate("validate", project, "--apply", check=0)
    assert not [c for c in teacher.calls if kshot(c)]
    assert len([c for c in judge.calls if kshot(c)]) == 6 and judge.calls[0].body["model"] == "other"
    assert {r["id"] for r in _rows(run / "rejected.jsonl")} == {"p0", "p1", "p2"}


def test_unreadable_and_failed_answers_reject_with_their_reason(make_project):
    def odd(call):
        if kshot(call):
            text = last_user_text(call.body)
            if text == POSITIVE[0]:
                return Action("status", status=400)  # a permanent failure: not retried
            return Action("ok", text="I think this review is rather mixed")
        return Action("ok", text="fine")

    with LoopbackServer(odd) as server:
        project, run = _project(make_project, server)
        germinate("validate", project, "--apply", check=0)
    rejected = {r["id"]: r for r in _rows(run / "rejected.jsonl")}
    assert set(rejected) == {"p0", "p1", "p2", "n0", "n1", "n2"}
    assert rejected["p0"]["reason"].startswith("not checked: the teacher gave no answer (client_error")
    assert rejected["p1"]["detail"]["unreadable"].startswith("not a label")


def test_off_by_default_where_not_chosen_and_switchable(make_project):
    with LoopbackServer(always_negative) as server:
        project, _ = _project(make_project, server, {"agreement": False})
        germinate("validate", project, "--apply", check=0)
        assert not [c for c in server.calls if kshot(c)]
        enabled = germinate("validate", project, "--enable", "agreement", "--apply", check=0)
        assert len([c for c in server.calls if kshot(c)]) == 6 and "newly rejected" in enabled.stdout
    # a cascade with no teacher to ask leaves it out unless named
    task_type = get_plugins().task_types["classification"]
    config = {"description": "d", "labels": ["positive", "negative"]}
    assert "agreement" not in build_cascade(task_type, config, SAMPLE_SEEDS).names
    named = build_cascade(task_type, {**config, "validation": {"agreement": True}}, SAMPLE_SEEDS)
    assert named.names[-1] == "agreement"


def test_generation_asks_in_batches_and_meters_the_calls(make_project):
    """In the generation loop the validator shares the teacher's engine: one batch of agreement
    calls per generation batch, stage 'validate' in the cost meter, rejections in the ledger."""

    def teacher(call):
        if kshot(call):
            return Action("ok", text="negative", delay=0.05)
        prompt = last_user_text(call.body)
        if "Label this example's properties" in prompt:
            return Action("ok", text='{"complexity": "simple"}')
        words = ["kettle", "lamp", "scarf", "drill", "tent", "blender", "mug", "pillow", "radio", "kite"]
        requests = re.findall(r"^(\d+)\. ", prompt.partition("Requests:")[2], re.M) or [""]
        texts = [
            f"The {words[(len(server.calls) + i) % 10]} I ordered works exactly as described"
            for i in range(len(requests))
        ]
        return Action("ok", text="\n".join(f"{n}. {t}" if n else t for n, t in zip(requests, texts)))

    with LoopbackServer(teacher) as server:
        project, run = _project(make_project, server, candidates=False, generation={"batch_size": 6})
        result = germinate("generate", project, "--n", "4")
    assert result.returncode == 0, result.stderr
    rejected = [r for r in _rows(run / "rejected.jsonl") if r["validator"] == "agreement"]
    accepted = [r for r in _rows(run / "accepted.jsonl") if r["source"] == "synthetic"]
    assert accepted and all(r["record"]["output"] == "negative" for r in accepted)
    assert rejected and all(r["record"]["output"] == "positive" for r in rejected)
    assert all(r["detail"]["teacher_answer"] == "negative" for r in rejected)
    # asked a batch at a time: some agreement call arrives while another (50 ms each) is in flight
    times = sorted(c.at for c in server.calls if kshot(c))
    assert min(b - a for a, b in itertools.pairwise(times)) < 0.04
    # the cost table has the validator's calls as their own stage
    assert any(line.strip("│ ").startswith("validate") for line in result.stdout.splitlines()), result.stdout
