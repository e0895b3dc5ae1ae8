"""The OpenAI chat-completions protocol as ``germinate serve`` speaks it: the request's JSON
Schema (the subset a student can honour; unknown fields are ignored, as OpenAI-compatible servers
do), the conversation the student sees, and the answer, whole or as server-sent-event chunks, with
``tool_calls`` in the function-calling format for a task whose answers call tools."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import attrs

_TEXT_PART = {
    "type": "object",
    "required": ["type", "text"],
    "properties": {"type": {"const": "text"}, "text": {"type": "string"}},
}
_FUNCTION = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "minLength": 1}, "parameters": {"type": "object"}},
}
_CALL = {
    "type": "object",
    "required": ["function"],
    "properties": {
        "function": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}, "arguments": {"type": "string"}},
        }
    },
}
_COUNT = {"type": ["integer", "null"], "minimum": 1}

REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["messages"],
    "properties": {
        "model": {"type": "string"},
        "messages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["role"],
                "properties": {
                    "role": {"enum": ["system", "developer", "user", "assistant", "tool"]},
                    "content": {
                        "anyOf": [{"type": "string"}, {"type": "null"}, {"type": "array", "items": _TEXT_PART}]
                    },
                    "tool_calls": {"type": ["array", "null"], "items": _CALL},
                },
            },
        },
        "stream": {"type": ["boolean", "null"]},
        "stream_options": {"type": ["object", "null"], "properties": {"include_usage": {"type": "boolean"}}},
        "max_tokens": _COUNT,
        "max_completion_tokens": _COUNT,
        "n": {"enum": [1, None], "description": "one answer per request"},
        "temperature": {"type": ["number", "null"], "minimum": 0},
        "top_p": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "tools": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "required": ["type", "function"],
                "properties": {"type": {"const": "function"}, "function": _FUNCTION},
            },
        },
        "tool_choice": {
            "anyOf": [
                {"enum": ["none", "auto", "required", None]},
                {
                    "type": "object",
                    "required": ["type", "function"],
                    "properties": {"type": {"const": "function"}, "function": _FUNCTION},
                },
            ]
        },
    },
}


class RequestError(Exception):
    """A request the server answers with an HTTP error (a JSON body in OpenAI's error format)."""

    def __init__(self, status: int, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.param = param


def error_body(status: int, message: str, param: str | None = None) -> dict[str, Any]:
    kind = {401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error"}
    return {
        "error": {
            "message": message,
            "type": kind.get(status, "server_error" if status >= 500 else "invalid_request_error"),
            "param": param,
            "code": status,
        }
    }


@attrs.frozen
class ChatRequest:
    """A checked request: the conversation in the student's own terms and what to do with it."""

    messages: list[dict[str, str]]
    max_tokens: int
    stream: bool
    include_usage: bool
    #: names of the tools an answer may call (the request's, or the project's catalog); empty: none
    tools: frozenset[str]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_body(raw: bytes) -> Any:
    """The JSON body; anything unreadable (bad syntax, NaN, nesting deep enough to exhaust the
    parser, a 5,000-digit number, text that is not UTF-8) is a 400."""
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
        json.dumps(body, ensure_ascii=False).encode("utf-8")  # lone surrogates (\ud800) cannot be text
    except (ValueError, RecursionError, UnicodeError) as exc:
        raise RequestError(400, f"the body is not valid JSON: {str(exc)[:200]}") from None
    return body


def check_request(body: Any, *, system: str | None, max_tokens: int, catalog: list[dict[str, Any]]) -> ChatRequest:
    """The request checked against :data:`REQUEST_SCHEMA` (first problem: a 400 naming the field),
    with ``system`` (the one the student was trained with) as its system message when it brings
    none, and its max_tokens
    lowered to the server's ``max_tokens``."""
    from germinate.project.errors import field_name, schema_problems

    for path, message in schema_problems(REQUEST_SCHEMA, body):
        where = field_name(path) or "body"
        raise RequestError(400, f"{where}: {message}", where)
    messages = [_message(m, i) for i, m in enumerate(body["messages"])]
    if system is not None and not any(m["role"] == "system" for m in messages):
        messages.insert(0, {"role": "system", "content": system})
    asked = body.get("max_completion_tokens") or body.get("max_tokens") or max_tokens
    tool_choice = body.get("tool_choice")
    offered = body.get("tools") or catalog
    names = frozenset(t["function"]["name"] for t in offered) if catalog else frozenset()
    if isinstance(tool_choice, dict):
        names = names & {tool_choice["function"]["name"]}
    elif tool_choice == "none":
        names = frozenset()
    return ChatRequest(
        messages=messages,
        max_tokens=min(int(asked), max_tokens),
        stream=bool(body.get("stream")),
        include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
        tools=names,
    )


def _message(message: dict[str, Any], index: int) -> dict[str, str]:
    """One message as the student's chat template takes it: role and plain text. An assistant's
    earlier tool calls become the JSON calls the student itself writes."""
    role = "system" if message["role"] == "developer" else message["role"]
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(part["text"] for part in content)
    calls = message.get("tool_calls") or []
    if calls and role == "assistant":
        written = []
        for call in calls:
            try:
                arguments = json.loads(call["function"].get("arguments") or "{}")
            except ValueError:
                raise RequestError(
                    400, f"messages[{index}].tool_calls: arguments are not JSON", f"messages[{index}]"
                ) from None
            written.append(json.dumps({"name": call["function"]["name"], "arguments": arguments}, ensure_ascii=False))
        content = "\n".join(([content] if content else []) + written)
    if content is None:
        raise RequestError(400, f"messages[{index}].content: required for a {role} message", f"messages[{index}]")
    return {"role": role, "content": content}


def tool_calls(call: dict[str, Any] | None, request: ChatRequest) -> list[dict[str, Any]] | None:
    """The OpenAI ``tool_calls`` for a call the student wrote, when it names a tool the request
    allows; None otherwise (the answer is then plain content)."""
    if call is None or call["name"] not in request.tools:
        return None
    arguments = json.dumps(call["arguments"], ensure_ascii=False)
    return [
        {
            "id": f"call_{uuid.uuid4().hex[:24]}",
            "type": "function",
            "function": {"name": call["name"], "arguments": arguments},
        }
    ]


class Answer:
    """One answer's identity and the bodies that carry it, whole or as stream chunks."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.model = model

    def _envelope(self, kind: str) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}

    def completion(
        self, text: str, calls: list[dict[str, Any]] | None, finish: str, prompt_tokens: int, completion_tokens: int
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": None if calls else text}
        if calls:
            message["tool_calls"] = calls
        return {
            **self._envelope("chat.completion"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": usage(prompt_tokens, completion_tokens),
        }

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            **self._envelope("chat.completion.chunk"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }

    def usage_chunk(self, prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
        return {
            **self._envelope("chat.completion.chunk"),
            "choices": [],
            "usage": usage(prompt_tokens, completion_tokens),
        }


def stream_calls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``tool_calls`` as a stream delta carries them: each with its index."""
    return [{"index": i, **call} for i, call in enumerate(calls)]


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def event(payload: dict[str, Any] | str) -> bytes:
    """One server-sent event."""
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {data}\n\n".encode()
