"""Shared helpers for HTTP teacher backends."""

from __future__ import annotations

import email.utils
import time
from typing import Any


def retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``retry-after`` (seconds or an HTTP date)."""
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def sdk_error(sdk: Any, exc: Exception) -> Exception | None:
    """An openai / anthropic SDK exception (both SDKs share one generated hierarchy) as the
    engine's RateLimited / TransientError / PermanentError; None for anything else."""
    from germinate.teachers.base import PermanentError, RateLimited, TransientError

    if isinstance(exc, sdk.RateLimitError):
        return RateLimited(retry_after(exc.response.headers), f"HTTP 429: {exc.message}")
    if isinstance(exc, sdk.APITimeoutError):
        return TransientError("timeout", "the server did not answer in time")
    if isinstance(exc, sdk.APIConnectionError):
        return TransientError("connection", f"connection failed: {exc.__cause__ or exc}")
    if isinstance(exc, sdk.APIResponseValidationError):
        return TransientError("bad_response", f"unexpected response body: {exc.message}")
    if isinstance(exc, sdk.APIStatusError):
        if exc.status_code >= 500 or exc.status_code in (408, 409):
            return TransientError("server_error", f"HTTP {exc.status_code}")
        return PermanentError(f"HTTP {exc.status_code}: {exc.message}")
    if isinstance(exc, ValueError):  # a body that is not JSON at all
        return TransientError("bad_response", f"unreadable response body: {exc}")
    return None


def api_key(settings: dict, default_env: str, needs_key: bool) -> str:
    """The API key from the environment variable the project names (never from task.yaml)."""
    import os

    from germinate.problems import GerminateError, Problem

    name = settings.get("api_key_env", default_env)
    key = os.environ.get(name)
    if key:
        return key
    if not needs_key:
        return "not-needed"  # local OpenAI-compatible servers accept any key
    raise GerminateError(
        Problem(
            "task.yaml",
            None,
            "teacher.api_key_env",
            f"the environment variable {name} is not set; export your API key there "
            f"(germinate reads it at run time and never writes it anywhere)",
        )
    )
