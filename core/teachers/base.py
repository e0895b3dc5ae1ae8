"""Teacher backends: the registered factory (:class:`Teacher`), the client it builds for one
project (:class:`TeacherClient`), and the request/answer types every backend shares.

A client makes exactly one attempt per ``complete`` call and classifies what went wrong by
raising :class:`RateLimited`, :class:`TransientError` or :class:`PermanentError`; retries,
back-off, rate limits, caching and cost all live in :mod:`germinate.teachers.engine`, once for every
backend.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs


@attrs.frozen
class ChatRequest:
    messages: tuple[dict[str, str], ...] = attrs.field(converter=lambda m: tuple(dict(x) for x in m))
    #: sampling parameters (temperature, max_tokens, top_p, seed...)
    params: dict[str, Any] = attrs.field(factory=dict)
    #: which draw of this prompt: identical prompts with different indexes are different calls
    sample: int = 0
    #: pipeline stage, for cost accounting (properties, generate, judge, evaluate...)
    stage: str = "generate"

    def key(self, identity: dict[str, Any]) -> str:
        """Cache key: a hash of the model identity, messages, parameters and sample index."""
        payload = json.dumps(
            {"identity": identity, "messages": self.messages, "params": self.params, "sample": self.sample},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@attrs.frozen
class Completion:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    finish_reason: str | None = None
    #: prompt tokens the server did not compute again, reusing them from an earlier call's
    #: identical prefix (OpenAI's cached_tokens, Anthropic's cache reads, llama.cpp's KV cache)
    reused_tokens: int = 0


class TeacherError(Exception):
    #: one of: rate_limited, server_error, timeout, connection, bad_response, client_error, budget
    kind = "error"


class TransientError(TeacherError):
    """Worth retrying: a 5xx, a timeout, a dropped connection, a body that is not the expected JSON."""

    def __init__(self, kind: str, message: str = "") -> None:
        super().__init__(message or kind)
        self.kind = kind


class RateLimited(TransientError):
    def __init__(self, retry_after: float | None = None, message: str = "") -> None:
        super().__init__("rate_limited", message or "HTTP 429")
        self.retry_after = retry_after


class PermanentError(TeacherError):
    """Not worth retrying: a bad request, a wrong key, an unknown model."""

    kind = "client_error"


class TeacherClient:
    #: what identifies the model for caching (backend, model...); never a secret, and never which
    #: server answers: every server of one teacher shares it, so they share the cache
    identity: dict[str, Any] = {}
    #: where requests go, for per-server counts (a URL without credentials); never a secret
    server: str = ""
    #: a sensible default for how many requests may be in flight at once
    default_concurrency: int = 8
    #: a model that costs nothing per token (local)
    free: bool = False

    @property
    def model(self) -> str:
        return str(self.identity.get("model", ""))

    async def complete(self, request: ChatRequest) -> Completion:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release connections or models."""


class Teacher:
    #: the ``teacher.backend`` value in task.yaml
    name: str = ""
    summary: str = ""
    #: every model of this backend costs nothing per token (local): --max-cost needs no price for it
    free: bool = False
    #: JSON Schema of the ``teacher`` section when this backend is chosen
    config_schema: dict[str, Any] = {"type": "object"}

    def client(self, settings: dict[str, Any], project_root: Path | None = None) -> TeacherClient:
        """Build a client from the project's ``teacher`` section. Read secrets from the
        environment here, keep them out of ``identity``, and raise GerminateError when something
        the user must fix is missing."""
        raise NotImplementedError

    def check_settings(self, settings: dict[str, Any], project_root: Path | None = None) -> Iterable[tuple[tuple, str]]:
        """``(path, message)`` for what :attr:`config_schema` cannot say and :meth:`client` would
        only find when a stage starts (a model file that does not exist). ``germinate check`` asks
        for the teacher and for the judge, whose engine is made only after generation and training.
        Nothing may be loaded, fetched or sent here."""
        return ()

    def clients(self, settings: dict[str, Any], project_root: Path | None = None) -> list[TeacherClient]:
        """One client per server the project names; the engine spreads requests over them. All
        must share one ``identity``. The default: the single client :meth:`client` builds."""
        return [self.client(settings, project_root)]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "summary": self.summary, "config_schema": self.config_schema}


#: settings every backend accepts besides its own, handled by the engine
ENGINE_SETTINGS_SCHEMA: dict[str, Any] = {
    # bounded: each request in flight costs a worker, and HTTP backends open a client per few
    "concurrency": {
        "type": "integer",
        "minimum": 1,
        "maximum": 1024,
        "description": "requests in flight at once, per server",
    },
    "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400, "description": "seconds per attempt"},
    "max_retries": {"type": "integer", "minimum": 0, "maximum": 100},
    "rpm": {"type": "number", "exclusiveMinimum": 0, "description": "requests per minute limit"},
    "tpm": {"type": "number", "exclusiveMinimum": 0, "description": "tokens per minute limit"},
    "bench_after": {
        "type": "integer",
        "minimum": 1,
        "description": "failures in a row after which a server of several is benched (default 3)",
    },
    "bench_seconds": {
        "type": "number",
        "exclusiveMinimum": 0,
        "description": "how long a benched server rests before it is tried again (default 30)",
    },
    "temperature": {"type": "number", "minimum": 0},
    "max_tokens": {"type": "integer", "minimum": 1},
    "top_p": {"type": "number", "minimum": 0, "maximum": 1},
}
