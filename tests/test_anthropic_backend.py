"""The anthropic backend against a loopback server speaking the Messages API, with the official SDK."""

import pytest
from teacher_helpers import project_with_teacher, requests

from germinate.teachers.engine import run_sync
from germinate.teachers.setup import make_engine
from germinate.testing.loopback import Action, LoopbackServer

pytestmark = pytest.mark.fast


def test_messages_api_request_and_response_shapes(tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-SENTINEL")
    with LoopbackServer(lambda call: Action("ok", text="Bonjour")) as server:
        project = project_with_teacher(
            tmp_path / "p",
            {
                "backend": "anthropic",
                "model": "claude-test",
                "base_url": server.url,
                "max_tokens": 64,
                "temperature": 0.5,
            },
            prices={"claude-test": {"input": 3, "output": 15}},
        )
        engine = make_engine(project)
        results = run_sync(engine, requests(2))
    call = next(c for c in server.calls if c.body["messages"][0]["content"] == "hello 0")
    assert call.method == "POST" and call.path == "/v1/messages"
    # older SDKs send x-api-key, newer ones a bearer token
    assert "sk-ant-SENTINEL" in (
        call.headers.get("x-api-key", ""),
        call.headers.get("authorization", "").removeprefix("Bearer "),
    )
    assert "anthropic-version" in call.headers
    assert call.body["model"] == "claude-test" and call.body["max_tokens"] == 64 and call.body["temperature"] == 0.5
    # the system message (what every call of a stage shares) is marked for prompt caching
    assert call.body["system"] == [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
    assert call.body["messages"] == [{"role": "user", "content": "hello 0"}]
    assert [r.completion.text for r in results] == ["Bonjour", "Bonjour"]
    usage = engine.meter.usage[("generate", "claude-test")]
    assert usage.calls == 2 and usage.input_tokens == sum(r.completion.input_tokens for r in results) > 0
    assert results[0].completion.finish_reason == "end_turn"
    assert usage.cost == pytest.approx((usage.input_tokens * 3 + usage.output_tokens * 15) / 1e6)
    # the first call wrote the cached system block, the second read it: counted as reused, and
    # still part of the prompt's input tokens (Anthropic leaves cache reads out of input_tokens)
    assert sorted(r.completion.reused_tokens for r in results) == [0, 2]
    assert usage.reused_input_tokens == 2 and all(r.completion.input_tokens == 4 for r in results)


def test_stop_sequences_are_sent(tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    with LoopbackServer(lambda call: Action("ok", text="1. a")) as server:
        project = project_with_teacher(
            tmp_path / "p", {"backend": "anthropic", "model": "claude-test", "base_url": server.url}
        )
        run_sync(make_engine(project), requests(1, stop=["\n2."]))
    assert server.calls[0].body["stop_sequences"] == ["\n2."] and "stop" not in server.calls[0].body


def test_overload_and_rate_limit_are_retried(tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")

    def script(call):
        if call.attempt == 1:
            return Action("status", status=429, headers={"retry-after": "0.2"})
        if call.attempt == 2:
            return Action("status", status=529)  # Anthropic's "overloaded"
        return Action("ok", text="done")

    with LoopbackServer(script) as server:
        project = project_with_teacher(
            tmp_path / "p", {"backend": "anthropic", "model": "claude-test", "base_url": server.url}
        )
        engine = make_engine(project)
        engine.settings.backoff_base = 0.01
        results = run_sync(engine, requests(3))
    assert all(r.ok and r.attempts == 3 for r in results)
    assert dict(engine.stats.faults) == {"rate_limited": 3, "server_error": 3}
