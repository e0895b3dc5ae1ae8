"""Several teacher servers behind one engine (``teacher.base_url`` as a list), each a real loopback
HTTP server spoken to with the official openai SDK: one dies mid-run and one is slow, and the
run completes with every request answered once and accounted for per server; a failing server is
benched and then tried again; a 429 pauses only its own server; the cache does not care which
server answered; a whole `germinate generate` across three servers, one of them dying, accepts
exactly what a single healthy server gives."""

import json
import re
import threading
import time
from collections import Counter

import pytest
from conftest import germinate
from fake_teacher import answer
from teacher_helpers import project_with_teacher, requests

from germinate.teachers.engine import run_sync
from germinate.teachers.setup import make_engine
from germinate.testing.loopback import Action, LoopbackServer, last_user_text

pytestmark = pytest.mark.fast


def _engine(tmp_path, servers, **teacher):
    project = project_with_teacher(
        tmp_path / "p",
        {
            "backend": "openai",
            "model": "pool-model",
            "base_url": [s.url + "/v1" for s in servers],
            "timeout": 2.0,
            "max_retries": 6,
            **teacher,
        },
    )
    engine = make_engine(project)
    engine.settings.backoff_base = 0.02
    return project, engine


def _signed(name, delay=0.0):
    """Answers with the server's name and the prompt, so a result says who wrote it."""
    return lambda call: Action("ok", text=f"{name}|{last_user_text(call.body)}", delay=delay)


def test_three_servers_one_dying_one_slow_lose_nothing(tmp_path):
    died = threading.Event()
    fast, slow = LoopbackServer(_signed("fast", 0.02)), LoopbackServer(_signed("slow", 0.4))
    dying_calls = []

    def dying_script(call):
        dying_calls.append(call)
        if len(dying_calls) == 12:
            died.set()  # stopped from another thread: the server cannot stop itself from its loop
        return Action("ok", text=f"dying|{last_user_text(call.body)}", delay=0.05)

    dying = LoopbackServer(dying_script)
    with fast, slow, dying:
        killer = threading.Thread(target=lambda: died.wait(30) and dying.stop())
        killer.start()
        _, engine = _engine(tmp_path, [fast, slow, dying], concurrency=4, bench_seconds=0.3)
        results = run_sync(engine, requests(150))
        killer.join(30)
    assert died.is_set()

    # nothing lost: every request answered, by exactly the server the engine says, with its own prompt
    assert all(r.ok for r in results) and engine.stats.failed == 0 and engine.stats.done == 150
    names = {"fast": fast.url + "/v1", "slow": slow.url + "/v1", "dying": dying.url + "/v1"}
    for i, result in enumerate(results):
        author, _, prompt = result.completion.text.partition("|")
        assert prompt == f"hello {i}" and names[author] == result.server

    # every request accounted for, per server
    stats = engine.stats.servers_dict()
    assert set(stats) == set(names.values())
    answered = Counter(r.server for r in results)
    for url, row in stats.items():
        assert row["answered"] == answered[url]
        assert row["attempts"] == row["answered"] + sum(row["faults"].values())
    assert sum(row["answered"] for row in stats.values()) == 150
    assert engine.stats.retries == sum(sum(row["faults"].values()) for row in stats.values())
    # the live servers saw exactly the attempts the engine counts for them
    assert len(fast.calls) == stats[names["fast"]]["attempts"]
    assert len(slow.calls) == stats[names["slow"]]["attempts"]

    dead = stats[names["dying"]]
    assert dead["answered"] >= 1 and set(dead["faults"]) <= {"connection", "timeout"} and dead["faults"]
    assert dead["benched"] >= 2, dead  # benched, tried again after its rest, benched again
    assert not stats[names["fast"]]["faults"] and not stats[names["slow"]]["faults"]
    # least outstanding requests: the slow server gets less of the work than the fast one
    assert 0 < answered[names["slow"]] < answered[names["fast"]]


def test_a_benched_server_is_tried_again_and_takes_work_when_it_recovers(tmp_path):
    broken = {"until": None}

    def flaky(call):
        if broken["until"] is None:
            broken["until"] = time.monotonic() + 0.5  # fails for half a second from its first call
        if time.monotonic() < broken["until"]:
            return Action("status", status=503)
        return Action("ok", text=f"flaky|{last_user_text(call.body)}", delay=0.02)

    with LoopbackServer(_signed("steady", 0.02)) as steady, LoopbackServer(flaky) as recovering:
        _, engine = _engine(tmp_path, [steady, recovering], concurrency=2, bench_seconds=0.3)
        results = run_sync(engine, requests(120))
    assert all(r.ok for r in results)
    row = engine.stats.servers_dict()[recovering.url + "/v1"]
    assert row["benched"] >= 1 and row["faults"] == {"server_error": row["attempts"] - row["answered"]}
    late = [c for c in recovering.calls if c.at >= broken["until"]]
    assert row["answered"] == len(late) > 0  # back in the rotation once it answers again
    assert sum(r.completion.text.startswith("flaky|") for r in results) == row["answered"]


def test_a_429_pauses_only_its_own_server(tmp_path):
    paused = {}

    def limited(call):
        if not paused:
            paused["at"] = call.at
            return Action("status", status=429, headers={"retry-after": "1"})
        return Action("ok", text="limited", delay=0.02)

    with LoopbackServer(_signed("free", 0.02)) as free, LoopbackServer(limited) as busy:
        _, engine = _engine(tmp_path, [busy, free], concurrency=2)
        results = run_sync(engine, requests(100))
    assert all(r.ok for r in results)
    # a request already on its way when the 429 went out may still arrive just after it
    start, end = paused["at"] + 0.1, paused["at"] + 1.0
    assert [c for c in busy.calls if start < c.at < end] == []  # nothing during its Retry-After
    assert any(start < c.at < end for c in free.calls)  # while the other server kept working
    assert any(c.at >= end for c in busy.calls)  # and it was used again afterwards
    assert engine.stats.faults == {"rate_limited": 1}


def test_cache_key_does_not_depend_on_the_server(tmp_path):
    with LoopbackServer(_signed("a")) as a, LoopbackServer(_signed("b")) as b, LoopbackServer(_signed("c")) as c:
        project, engine = _engine(tmp_path, [a, b], concurrency=2)
        first = run_sync(engine, requests(20))
        assert all(r.ok for r in first) and len(a.calls) + len(b.calls) == 20
        # the same project with other servers: every call is a cache hit, nothing is sent
        project.config["teacher"]["base_url"] = [c.url + "/v1"]
        again = run_sync(make_engine(project), requests(20))
        assert all(r.cached for r in again) and not c.calls
        assert [r.completion.text for r in again] == [r.completion.text for r in first]
        project.config["teacher"]["base_url"] = c.url + "/v1"  # one server as a plain string
        assert all(r.cached for r in run_sync(make_engine(project), requests(20)))


def test_base_url_list_is_checked(tmp_path):
    cases = {
        "[]": "teacher.base_url: needs at least 1 item",
        "[http://x/v1, ftp://y]": "teacher.base_url[1]: 'ftp://y' does not match '^https?://'",
        "[http://x/v1, http://x/v1]": "teacher.base_url: 'http://x/v1' listed more than once",
        "localhost:8000": "teacher.base_url: 'localhost:8000' does not match '^https?://'",
    }
    for value, expected in cases.items():
        folder = tmp_path / f"p{len(value)}"
        folder.mkdir()
        (folder / "task.yaml").write_text(
            "task_type: classification\ndescription: d\nlabels: [a, b]\n"
            f"teacher:\n  backend: openai\n  model: m\n  base_url: {value}\n"
        )
        (folder / "seeds.jsonl").write_text(
            "".join(json.dumps({"input": f"example {i}", "output": "ab"[i % 2]}) + "\n" for i in range(10))
        )
        result = germinate("check", folder)
        assert result.returncode == 2, result
        assert re.search(r"task\.yaml:\d+: " + re.escape(expected), result.stderr), (expected, result.stderr)


def test_generation_across_three_servers_with_one_dying_accepts_what_one_server_gives(make_project):
    def config(urls):
        return {
            "task_type": "classification",
            "name": "sentiment",
            "description": "Classify a product review as positive or negative.",
            "labels": ["positive", "negative"],
            "teacher": {"backend": "openai", "model": "fake", "base_url": urls, "concurrency": 2, "timeout": 2},
            "generation": {"batch_size": 6},
        }

    def accepted(project):
        rows = (project / "runs" / "default" / "accepted.jsonl").read_text().splitlines()
        return [json.loads(line)["record"] for line in rows]

    def teacher(delay):
        return LoopbackServer(lambda call: Action("ok", text=answer(last_user_text(call.body)), delay=delay))

    with teacher(0.01) as alone:
        reference = make_project(config=config(alone.url + "/v1"))
        assert germinate("generate", reference, "--n", "20").returncode == 0

    calls = []
    died = threading.Event()

    def dying_script(call):
        calls.append(call)
        if len(calls) == 8:
            died.set()
        return Action("ok", text=answer(last_user_text(call.body)), delay=0.05)

    with teacher(0.01) as one, teacher(0.3) as slow, LoopbackServer(dying_script) as dying:
        killer = threading.Thread(target=lambda: died.wait(60) and dying.stop())
        killer.start()
        project = make_project(config=config([one.url + "/v1", slow.url + "/v1", dying.url + "/v1"]))
        result = germinate("generate", project, "--n", "20")
        killer.join(60)
    assert died.is_set() and result.returncode == 0, result.stderr
    assert accepted(project) == accepted(reference)
    assert "teacher servers:" in result.stdout and "benched" in result.stdout
