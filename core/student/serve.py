"""``germinate serve``: a student behind an OpenAI-compatible HTTP API (``/v1/chat/completions``
and ``/v1/models``), so any OpenAI client uses it unchanged. Requests without a system message
get the one the student was trained with (germinate.student.messages)."""

from __future__ import annotations

import json
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from germinate.student.infer import Student


def make_server(student: Student, model_id: str, system: str | None, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet; the CLI prints one line per request
            pass

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str) -> None:
            self._send(status, {"error": {"message": message, "type": "invalid_request_error", "code": status}})

        def do_GET(self) -> None:
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                self._send(
                    200,
                    {
                        "object": "list",
                        "data": [{"id": model_id, "object": "model", "created": 0, "owned_by": "germinate"}],
                    },
                )
            else:
                self._error(404, f"no route {self.path}")

        def do_POST(self) -> None:
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                self._error(404, f"no route {self.path}")
                return
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                messages = [
                    {
                        "role": m["role"],
                        "content": m["content"]
                        if isinstance(m["content"], str)
                        else "".join(p.get("text", "") for p in m["content"]),
                    }
                    for m in body["messages"]
                ]
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
                self._error(400, "expected a JSON body with a messages list")
                return
            if body.get("stream"):
                self._error(400, "streaming is not supported; send stream=false")
                return
            if system is not None and not any(m["role"] == "system" for m in messages):
                messages.insert(0, {"role": "system", "content": system})
            max_tokens = int(body.get("max_tokens") or body.get("max_completion_tokens") or 256)
            text, prompt_tokens, completion_tokens = student.generate([messages], max_new_tokens=max_tokens)[0]
            self._send(
                200,
                {
                    "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model_id,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "length" if completion_tokens >= max_tokens else "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "total_tokens": prompt_tokens + completion_tokens,
                    },
                },
            )

    return ThreadingHTTPServer((host, port), Handler)
