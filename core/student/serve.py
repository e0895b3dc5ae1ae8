"""``germinate serve``: a student behind an OpenAI-compatible HTTP API: ``/v1/chat/completions``
(whole or streamed as server-sent events; ``tool_calls`` for a task whose answers call tools),
``/v1/models`` and ``/health``. Requests without a system message get the one the student was
trained with (germinate.student.messages).

One student answers every client, one request at a time, so the server bounds what a client can
take: a request body's size (413), the time to send it (408: a slowloris client is cut off, not
waited for), the prompt's length and the answer's tokens, and how many requests may wait for the
student (503 with Retry-After). Each connection has its own thread, so a slow client holds only
its own. Optionally an API key (401 without it). Bound to a loopback address, it answers only
requests whose Host header names a loopback host, so a web page cannot reach it by DNS
rebinding (403). Errors are JSON in OpenAI's format.
"""

from __future__ import annotations

import contextlib
import hmac
import io
import ipaddress
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs

from germinate.settings import ServeSettings
from germinate.student.chat_api import (
    Answer,
    ChatRequest,
    RequestError,
    check_request,
    error_body,
    event,
    parse_body,
    stream_calls,
    tool_calls,
)
from germinate.student.infer import Student


def is_loopback(host: str) -> bool:
    """``host`` (a name or address to bind or to ask for) is this machine only."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The host of a Host header, without its port: ``[::1]:8000`` -> ``::1``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header


@attrs.frozen
class App:
    """What every request handler shares."""

    student: Student
    model_id: str
    #: the system message the student was trained with (None: it was trained without one)
    system: str | None
    task_type: Any
    config: dict[str, Any]
    limits: ServeSettings
    api_key: str | None = None
    #: None: any Host header (a server bound to a non-loopback address); else the names accepted
    #: besides loopback ones (localhost, 127.0.0.1, [::1]...)
    allowed_hosts: frozenset[str] | None = None
    #: requests answered or waiting for the student
    slots: threading.BoundedSemaphore = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "slots", threading.BoundedSemaphore(self.limits.max_waiting))


class TooSlow(Exception):
    """A request was not received within its time (deliberately not a TimeoutError, which the base
    handler would swallow without answering)."""


class DeadlineReader(io.RawIOBase):
    """A socket read with one deadline for a whole request, however slowly its bytes trickle in."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.deadline = float("inf")
        self.received = 0

    def start(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.received = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TooSlow
        self.sock.settimeout(remaining)
        try:
            count = self.sock.recv_into(buffer)
        except TimeoutError:
            raise TooSlow from None
        self.received += count
        return count


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.1"  # errors to a two-word request line still get a status line
    server_version = "germinate"
    sys_version = ""
    server: StudentServer

    @property
    def app(self) -> App:
        return self.server.app

    # -- the connection ------------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # replaced by a reader with a deadline per request
        self.reader = DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self.reader)

    def handle_one_request(self) -> None:
        self.reader.start(self.app.limits.request_timeout)
        try:
            super().handle_one_request()
        except TooSlow:
            self.close_connection = True
            if self.reader.received:  # a request had begun; an idle keep-alive connection just ends
                self._raw_error(408, f"the request was not received within {self.app.limits.request_timeout:g} s")
        except OSError:  # the client went away, or stopped reading the answer
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the CLI says where it serves
        pass

    def _writing(self) -> None:
        """Every write gets the request timeout: a client that stops reading is dropped."""
        self.connection.settimeout(self.app.limits.request_timeout)

    def _raw_error(self, status: int, message: str) -> None:
        """An error written without the parsed request the usual path needs."""
        data = json.dumps(error_body(status, message)).encode()
        head = (
            f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(data)}\r\nconnection: close\r\n\r\n"
        )
        try:
            self._writing()
            self.connection.sendall(head.encode("latin-1") + data)
        except OSError:
            pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The base handler's errors (a malformed request line or headers, an unknown method) in
        JSON like every other error."""
        self.close_connection = True
        self._json(code, error_body(code, message or self.responses.get(code, ("error",))[0]))

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self._writing()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _error(
        self, status: int, message: str, param: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self._json(status, error_body(status, message, param), headers)

    # -- checks every request passes ------------------------------------------------------------

    def _admitted(self, public: bool = False) -> bool:
        """Host header (DNS rebinding) and API key; False once the error is sent (and the
        connection closed: a body left unread must not be taken for the next request)."""
        host = self.headers.get("host")
        if host is None:
            self.close_connection = True
            self._error(400, "the request has no Host header")
            return False
        allowed, name = self.app.allowed_hosts, host_name(host)
        if allowed is not None and not is_loopback(name) and name not in allowed:
            self.close_connection = True
            self._error(403, f"Host {name[:100]!r} is not served here: this server answers loopback hosts only")
            return False
        if public or self.app.api_key is None:
            return True
        scheme, _, given = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.app.api_key.encode()):
            return True
        self.close_connection = True
        self._error(
            401, "a valid API key is required (Authorization: Bearer <key>)", headers={"www-authenticate": "Bearer"}
        )
        return False

    def handle_expect_100(self) -> bool:
        """Refuse an oversized body before the client sends it."""
        declared = (self.headers.get("content-length") or "").strip()
        if declared.isdigit() and int(declared) > self.app.limits.max_request_bytes:
            self.close_connection = True
            self._error(413, f"the body is {declared} bytes; at most {self.app.limits.max_request_bytes} are accepted")
            return False
        return super().handle_expect_100()

    def _body(self) -> bytes | None:
        """The request body within the size limit; None once an error is sent."""
        if self.headers.get("transfer-encoding"):
            self.close_connection = True
            self._error(411, "send the body with a Content-Length, not a transfer encoding")
            return None
        declared = self.headers.get("content-length")
        if declared is None:
            self.close_connection = True
            self._error(411, "a Content-Length header is required")
            return None
        if not declared.strip().isdigit():  # also refuses negative and signed values
            self.close_connection = True
            self._error(400, f"Content-Length {declared[:40]!r} is not a byte count")
            return None
        length = int(declared)
        if length > self.app.limits.max_request_bytes:
            self.close_connection = True  # the unread body would be taken for the next request
            self._error(413, f"the body is {length} bytes; at most {self.app.limits.max_request_bytes} are accepted")
            return None
        raw = self.rfile.read(length)
        if len(raw) < length:  # the client went away mid-body
            self.close_connection = True
            return None
        return raw

    # -- routes -----------------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        if path == "/health":
            if self._admitted(public=True):
                self._json(200, {"status": "ok", "model": self.app.model_id})
            return
        if not self._admitted():
            return
        card = {"id": self.app.model_id, "object": "model", "created": 0, "owned_by": "germinate"}
        if path in ("/v1/models", "/models"):
            self._json(200, {"object": "list", "data": [card]})
        elif path in (f"/v1/models/{self.app.model_id}", f"/models/{self.app.model_id}"):
            self._json(200, card)
        else:
            self._error(404, f"no route {self.path[:200]}")

    def do_POST(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        if not self._admitted():
            return
        if path not in ("/v1/chat/completions", "/chat/completions"):
            self.close_connection = True  # its body is left unread
            self._error(404, f"no route {self.path[:200]}")
            return
        raw = self._body()
        if raw is None:
            return
        app = self.app
        try:
            request = check_request(
                parse_body(raw),
                system=app.system,
                max_tokens=app.limits.max_tokens,
                catalog=app.task_type.tool_catalog(app.config),
            )
        except RequestError as exc:
            self._error(exc.status, str(exc), exc.param)
            return
        if not app.slots.acquire(blocking=False):
            self._error(503, "the student is busy; retry shortly", headers={"retry-after": "1"})
            return
        try:
            if request.stream:
                self._stream(request)
            else:
                self._complete(request)
        except RequestError as exc:
            self._error(exc.status, str(exc), exc.param)
        finally:
            app.slots.release()

    def _method_not_allowed(self) -> None:
        self.close_connection = True
        self._error(405, f"{self.command} is not served; use GET or POST", headers={"allow": "GET, POST"})

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _method_not_allowed  # noqa: N815 (http.server's names)

    # -- answering ---------------------------------------------------------------------------------

    def _calls(self, text: str, request: ChatRequest) -> list[dict[str, Any]] | None:
        return tool_calls(self.app.task_type.tool_call(text), request) if request.tools else None

    def _complete(self, request: ChatRequest) -> None:
        app = self.app
        text, prompt_tokens, completion_tokens = _guarded(
            lambda: app.student.generate(
                [request.messages], max_new_tokens=request.max_tokens, max_prompt_tokens=app.limits.max_prompt_tokens
            )[0]
        )
        calls = self._calls(text, request)
        finish = "tool_calls" if calls else "length" if completion_tokens >= request.max_tokens else "stop"
        answer = Answer(app.model_id)
        self._json(200, answer.completion(text, calls, finish, prompt_tokens, completion_tokens))

    def _stream(self, request: ChatRequest) -> None:
        """Server-sent events: text as the student writes it; for a tool-calling task the answer
        is read whole first, since only the whole text says whether it is a call."""
        app = self.app
        cancel = threading.Event()
        streamed = _guarded(
            lambda: app.student.stream(
                request.messages, request.max_tokens, app.limits.max_prompt_tokens, cancel=cancel
            )
        )
        answer = Answer(app.model_id)
        self.close_connection = True  # the stream's end is the connection's end
        self._writing()
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        try:
            self.wfile.write(event(answer.chunk({"role": "assistant", "content": ""})))
            text = []
            for piece in streamed.pieces:
                text.append(piece)
                if not request.tools:
                    self.wfile.write(event(answer.chunk({"content": piece})))
            if streamed.error is not None:
                raise streamed.error
            calls = self._calls("".join(text).strip(), request)
            if calls:
                self.wfile.write(event(answer.chunk({"tool_calls": stream_calls(calls)})))
            elif request.tools:
                self.wfile.write(event(answer.chunk({"content": "".join(text).strip()})))
            full = streamed.completion_tokens >= request.max_tokens
            finish = "tool_calls" if calls else "length" if full else "stop"
            self.wfile.write(event(answer.chunk({}, finish)))
            if request.include_usage:
                self.wfile.write(event(answer.usage_chunk(streamed.prompt_tokens, streamed.completion_tokens)))
            self.wfile.write(event("[DONE]"))
        except OSError:  # the client went away or stopped reading: stop generating for it
            cancel.set()
            for _ in streamed.pieces:
                pass
        except Exception as exc:  # headers are sent: say so in the stream, then end it
            _log(f"generation failed: {type(exc).__name__}: {exc}")
            with contextlib.suppress(OSError):
                self.wfile.write(event(error_body(500, "generation failed")))


def _guarded(call: Any) -> Any:
    """Run the student; a conversation its chat template refuses is the client's error (400),
    anything else the server's (500, logged)."""
    from jinja2 import TemplateError

    try:
        return call()
    except RequestError:
        raise
    except TemplateError as exc:  # chat templates raise on roles or orders they do not take
        raise RequestError(400, f"the student's chat template cannot render this conversation: {exc}") from None
    except Exception as exc:
        _log(f"generation failed: {type(exc).__name__}: {exc}")
        raise RequestError(500, "generation failed") from None


def _log(line: str) -> None:
    print(f"germinate serve: {line}", file=sys.stderr, flush=True)


class StudentServer(ThreadingHTTPServer):
    daemon_threads = True  # a client stuck in its request must not keep the process alive
    request_queue_size = 128
    #: after answering, how long (and how much) to read what a refused client still sends
    linger_seconds = 1.0
    linger_bytes = 1 << 20

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    def shutdown_request(self, request: Any) -> None:
        """Close gently: a socket closed with unread bytes (the body of a refused request) sends a
        reset, which can destroy the error answer before the client reads it. So stop writing,
        read and drop what is still coming for a moment, then close."""
        try:
            request.shutdown(socket.SHUT_WR)
            deadline, drained = time.monotonic() + self.linger_seconds, 0
            while drained < self.linger_bytes and (remaining := deadline - time.monotonic()) > 0:
                request.settimeout(remaining)
                chunk = request.recv(65536)
                if not chunk:
                    break
                drained += len(chunk)
        except OSError:
            pass
        self.close_request(request)


def make_server(
    student: Student,
    model_id: str,
    system: str | None,
    host: str,
    port: int,
    *,
    task_type: Any,
    config: dict[str, Any],
    limits: ServeSettings | None = None,
    api_key: str | None = None,
    allow_hosts: tuple[str, ...] = (),
) -> StudentServer:
    """A server ready to ``serve_forever``. Bound to a loopback ``host``, it answers only Host
    headers naming a loopback host or one of ``allow_hosts``."""
    allowed = frozenset(h.lower() for h in allow_hosts) if is_loopback(host) else None
    app = App(student, model_id, system, task_type, config, limits or ServeSettings(), api_key, allowed)
    return StudentServer((host, port), app)
