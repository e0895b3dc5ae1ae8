"""The chat-completions protocol of `germinate serve` without a model: which requests are refused
and how, the conversation the student sees, tool calls in OpenAI's format, Host checks."""

import json

import pytest

from germinate.plugins import lookup
from germinate.student.chat_api import Answer, RequestError, check_request, parse_body, stream_calls, tool_calls
from germinate.student.serve import host_name, is_loopback

pytestmark = pytest.mark.fast

CATALOG = [
    {"type": "function", "function": {"name": "set_timer", "parameters": {"type": "object"}}},
    {"type": "function", "function": {"name": "play_music", "parameters": {"type": "object"}}},
]


def _check(body, catalog=(), max_tokens=64):
    return check_request(body, system="Do the task.", max_tokens=max_tokens, catalog=list(catalog))


def _refused(body, **kwargs):
    with pytest.raises(RequestError) as caught:
        _check(body, **kwargs)
    assert caught.value.status == 400
    return str(caught.value)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"", "Expecting value"),
        (b"{not json", "Expecting property name"),
        (b'{"temperature": NaN}', "NaN is not a JSON number"),
        (b"[" * 100_000 + b"]" * 100_000, "recursion"),
        (b'{"n": ' + b"9" * 5000 + b"}", "digits"),
        (b'{"messages": [{"role": "user", "content": "\\ud800"}]}', "surrogate"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
    ],
)
def test_unreadable_bodies_are_400(raw, why):
    with pytest.raises(RequestError) as caught:
        parse_body(raw)
    assert caught.value.status == 400 and str(caught.value).startswith("the body is not valid JSON")
    assert why.lower() in str(caught.value).lower()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "body: expected object, got array []"),
        ({}, "messages: required field is missing"),
        ({"messages": []}, "messages: needs at least 1 item"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role: 'robot' is not one of"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}, "max_tokens: 0 is less than"),
        ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": -3}, "max_tokens: -3 is less than"),
        (
            {"messages": [{"role": "user", "content": "hi"}], "max_tokens": "ten"},
            "max_tokens: expected integer or null",
        ),
        ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": True}, "max_tokens: expected integer or null"),
        ({"messages": [{"role": "user", "content": "hi"}], "n": 2}, "n: 2 is not one of 1, None"),
        ({"messages": [{"role": "user", "content": "hi"}], "stream": "yes"}, "stream: expected boolean or null"),
        ({"messages": [{"role": "user"}]}, "messages[0].content: required for a user message"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "messages[0].content"),
        (
            {
                "messages": [
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [{"function": {"name": "x", "arguments": "{"}}],
                    }
                ]
            },
            "messages[0].tool_calls: arguments are not JSON",
        ),
    ],
)
def test_malformed_requests_name_the_field(body, message):
    assert _refused(body).startswith(message)


def test_a_request_becomes_the_students_conversation():
    request = _check(
        {
            "messages": [
                {"role": "developer", "content": "Be terse."},
                {"role": "user", "content": [{"type": "text", "text": "set a "}, {"type": "text", "text": "timer"}]},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "c1", "function": {"name": "set_timer", "arguments": '{"minutes": 5}'}}],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "done"},
            ],
            "max_tokens": 1000,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    )
    assert request.messages == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "set a timer"},
        {"role": "assistant", "content": '{"name": "set_timer", "arguments": {"minutes": 5}}'},
        {"role": "tool", "content": "done"},
    ]
    assert request.max_tokens == 64  # lowered to the server's limit
    assert request.stream and request.include_usage and request.tools == frozenset()


def test_the_trained_system_message_is_given_when_a_request_has_none():
    request = _check({"messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 7})
    assert request.messages[0] == {"role": "system", "content": "Do the task."} and request.max_tokens == 7
    # a student trained without a system message (training.system_prompt: none) gets none
    bare = check_request({"messages": [{"role": "user", "content": "hi"}]}, system=None, max_tokens=9, catalog=[])
    assert bare.messages == [{"role": "user", "content": "hi"}]
    assert _check({"messages": [{"role": "user", "content": "hi"}]}).max_tokens == 64


def test_which_tools_an_answer_may_call():
    body = {"messages": [{"role": "user", "content": "x"}]}
    assert _check(body, catalog=CATALOG).tools == {"set_timer", "play_music"}  # the project's catalog
    offered = [{"type": "function", "function": {"name": "set_timer"}}]
    assert _check({**body, "tools": offered}, catalog=CATALOG).tools == {"set_timer"}  # the request's
    assert _check({**body, "tool_choice": "none"}, catalog=CATALOG).tools == frozenset()
    forced = {"type": "function", "function": {"name": "play_music"}}
    assert _check({**body, "tool_choice": forced}, catalog=CATALOG).tools == {"play_music"}
    assert _check({**body, "tools": offered}).tools == frozenset()  # a task that calls no tools


def test_the_tool_calling_task_reads_its_answers_as_openai_tool_calls():
    task = lookup("task_types", "tool_calling")
    config = {"tools": CATALOG[:1] + [CATALOG[1]["function"]]}  # both catalog spellings
    assert [t["function"]["name"] for t in task.tool_catalog(config)] == ["set_timer", "play_music"]
    assert all(t["type"] == "function" for t in task.tool_catalog(config))
    request = _check({"messages": [{"role": "user", "content": "x"}]}, catalog=task.tool_catalog(config))
    calls = tool_calls(task.tool_call('{"name": "set_timer", "arguments": {"minutes": 5}}'), request)
    assert len(calls) == 1 and calls[0]["type"] == "function" and calls[0]["id"].startswith("call_")
    assert calls[0]["function"] == {"name": "set_timer", "arguments": '{"minutes": 5}'}
    assert tool_calls(task.tool_call("play_music(genre='jazz')"), request)[0]["function"]["name"] == "play_music"
    assert tool_calls(task.tool_call('{"name": "open_garage", "arguments": {}}'), request) is None  # not offered
    assert task.tool_call("Sure, five minutes.") is None
    assert lookup("task_types", "classification").tool_catalog({"labels": ["a", "b"]}) == []


def test_answers_in_openai_shapes():
    answer = Answer("smart-home")
    calls = [{"id": "call_1", "type": "function", "function": {"name": "set_timer", "arguments": "{}"}}]
    body = answer.completion("", calls, "tool_calls", 10, 4)
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"] is None
    assert body["choices"][0]["message"]["tool_calls"] == calls and body["usage"]["total_tokens"] == 14
    plain = answer.completion("hello", None, "stop", 3, 1)["choices"][0]["message"]
    assert plain == {"role": "assistant", "content": "hello"}
    assert stream_calls(calls) == [{"index": 0, **calls[0]}]
    chunk = answer.chunk({"content": "he"})
    assert chunk["object"] == "chat.completion.chunk" and chunk["id"] == body["id"]
    assert json.loads(json.dumps(answer.usage_chunk(3, 1)))["choices"] == []


@pytest.mark.parametrize(
    ("header", "host", "loopback"),
    [
        ("127.0.0.1:8000", "127.0.0.1", True),
        ("localhost", "localhost", True),
        ("LocalHost:80", "localhost", True),
        ("[::1]:8000", "::1", True),
        ("127.8.9.10", "127.8.9.10", True),
        ("api.localhost:1", "api.localhost", True),
        ("evil.example:8000", "evil.example", False),
        ("127.0.0.1.evil.example", "127.0.0.1.evil.example", False),
        ("10.0.0.5:8000", "10.0.0.5", False),
        ("", "", False),
    ],
)
def test_host_headers(header, host, loopback):
    assert host_name(header) == host
    assert is_loopback(host) is loopback
