"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions and Anthropic
Messages APIs, for tests and benchmarks of teacher backends.

It answers from a script, so tests can provoke faults no real model produces on demand: HTTP 429
with Retry-After, 5xx, a hang, a reset connection, a malformed or truncated body. It is an asyncio
server in a background thread (keep-alive, many connections at once), started and stopped by the
test.

    with LoopbackServer(script) as server:
        client = openai.OpenAI(base_url=server.url + "/v1", api_key="x")

``script(call)`` gets a :class:`Call` (path, headers, parsed body, a per-prompt attempt number)
and returns an :class:`Action`; the default answers every request with a short text.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import attrs


@attrs.frozen
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    #: 1 for the first time this exact body arrives, 2 for its first retry...
    attempt: int
    #: time.monotonic() when the request arrived
    at: float = 0.0


@attrs.frozen
class Action:
    #: ok, status, hang, reset, malformed, truncated, html
    kind: str = "ok"
    text: str = "ok"
    status: int = 200
    headers: dict[str, str] = attrs.field(factory=dict)
    delay: float = 0.0


def default_script(call: Call) -> Action:
    return Action("ok", text=f"echo: {last_user_text(call.body)[:200]}")


def last_user_text(body: Any) -> str:
    for message in reversed((body or {}).get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
            return str(content)
    return ""


def _tokens(text: str) -> int:
    return max(1, len(text.split()))


def openai_body(body: Any, text: str) -> dict[str, Any]:
    prompt = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
    return {
        "id": "chatcmpl-loopback",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "loopback"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": _tokens(prompt),
            "completion_tokens": _tokens(text),
            "total_tokens": _tokens(prompt) + _tokens(text),
        },
    }


def anthropic_body(body: Any, text: str, cached: set[str] | None = None) -> dict[str, Any]:
    """A Messages API answer. With ``cached`` (the server's memory), system blocks marked with
    cache_control are prompt-cached as Anthropic does: written the first time, read afterwards,
    and left out of input_tokens."""
    system = body.get("system", "")
    blocks = system if isinstance(system, list) else [{"text": str(system)}]
    prompt = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
    usage = {"input_tokens": 0, "output_tokens": _tokens(text)}
    for block in blocks:
        block_text = str(block.get("text", "")) if isinstance(block, dict) else str(block)
        if cached is not None and isinstance(block, dict) and block.get("cache_control"):
            kind = "cache_read_input_tokens" if block_text in cached else "cache_creation_input_tokens"
            usage[kind] = usage.get(kind, 0) + _tokens(block_text)
            cached.add(block_text)
        else:
            prompt += " " + block_text
    usage["input_tokens"] = _tokens(prompt)
    return {
        "id": "msg_loopback",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "loopback"),
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }


class LoopbackServer:
    def __init__(self, script: Callable[[Call], Action] = default_script, host: str = "127.0.0.1") -> None:
        self.script = script
        self.host = host
        self.port = 0
        self.calls: list[Call] = []
        self.seen: dict[str, int] = defaultdict(int)
        #: system blocks marked for prompt caching, as an Anthropic server remembers them
        self.prompt_cache: set[str] = set()
        self.inflight = 0
        self.max_inflight = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> LoopbackServer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="germinate-loopback", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("loopback server did not start")

    def stop(self) -> None:
        """Stop serving: open connections are dropped and new ones refused (a server dying). Safe
        to call again, from any thread but the server's own."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._connection, self.host, 0, backlog=1024))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            pending = asyncio.all_tasks(self._loop)  # hanging handlers: cancel, let them clean up
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                raw = await reader.readexactly(int(headers.get("content-length", 0)))
                try:
                    body = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    body = None
                if not await self._respond(method, path, headers, raw, body, writer):
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, asyncio.CancelledError):
            pass  # a client went away, or the server is stopping
        finally:
            if not writer.is_closing():
                writer.close()

    async def _respond(
        self, method: str, path: str, headers: dict[str, str], raw: bytes, body: Any, writer: asyncio.StreamWriter
    ) -> bool:
        if method == "GET" and path.rstrip("/").endswith("/models"):
            self._send(
                writer,
                200,
                {
                    "object": "list",
                    "data": [{"id": "loopback", "object": "model", "created": 0, "owned_by": "germinate"}],
                },
            )
            return True
        with self._lock:
            self.seen[raw.decode("utf-8", "replace")] += 1
            call = Call(method, path, headers, body, self.seen[raw.decode("utf-8", "replace")], time.monotonic())
            self.calls.append(call)
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            return await self._act(call, path, body, writer)
        finally:
            with self._lock:
                self.inflight -= 1

    async def _act(self, call: Call, path: str, body: Any, writer: asyncio.StreamWriter) -> bool:
        action = self.script(call)
        if action.delay:
            await asyncio.sleep(action.delay)
        if action.kind == "hang":
            await asyncio.sleep(3600)
            return False
        if action.kind == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if action.kind == "malformed":
            self._send_raw(writer, 200, b'{"id": "chatcmpl-x", "choices": [', {"content-type": "application/json"})
            return True
        if action.kind == "html":
            self._send_raw(writer, 200, b"<html><body>Bad gateway</body></html>", {"content-type": "text/html"})
            return True
        if action.kind == "truncated":
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n"
                b'{"id": "chatcmpl-x", "cho'
            )
            await writer.drain()
            writer.close()
            return False
        if action.kind == "status":
            payload: dict[str, Any] = {
                "error": {
                    "message": f"loopback status {action.status}",
                    "type": "loopback_error",
                    "code": action.status,
                }
            }
            if "/messages" in path:
                payload = {
                    "type": "error",
                    "error": {"type": "api_error", "message": f"loopback status {action.status}"},
                }
            self._send(writer, action.status, payload, action.headers)
            return True
        answer = (
            anthropic_body(body or {}, action.text, self.prompt_cache)
            if "/messages" in path
            else openai_body(body or {}, action.text)
        )
        self._send(writer, 200, answer, action.headers)
        return True

    def _send(
        self, writer: asyncio.StreamWriter, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> None:
        self._send_raw(
            writer, status, json.dumps(payload).encode(), {"content-type": "application/json", **(headers or {})}
        )

    @staticmethod
    def _send_raw(writer: asyncio.StreamWriter, status: int, data: bytes, headers: dict[str, str]) -> None:
        head = f"HTTP/1.1 {status} LOOPBACK\r\ncontent-length: {len(data)}\r\nconnection: keep-alive\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(head.encode("latin-1") + b"\r\n" + data)


def _main() -> None:
    """``python -m germinate.testing.loopback --delay 0.2``: serve answers after a fixed delay (benchmarks)."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    server = LoopbackServer(lambda call: Action("ok", text="fine", delay=args.delay))
    server.start()
    print(server.port, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    _main()
