"""Teacher backend for OpenAI and any OpenAI-compatible server (vLLM, Ollama, llama.cpp server):
set ``base_url`` to point at your own server, or to a list of servers of the same model, which
the engine spreads requests over. The API key is read from the environment variable named by
``api_key_env`` (default OPENAI_API_KEY) and never stored. The SDK's own retries are off:
germinate's engine retries, backs off and counts every fault itself."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from germinate import (
    ENGINE_SETTINGS_SCHEMA,
    ChatRequest,
    Completion,
    Teacher,
    TeacherClient,
    TransientError,
    api_key,
    hookimpl,
    sdk_error,
)

_SAMPLING = ("temperature", "max_tokens", "top_p", "seed", "stop")
POOL_SIZE = 4
OPENAI_URL = "https://api.openai.com/v1"
_URL = {"type": "string", "pattern": "^https?://"}


def base_urls(settings: dict[str, Any]) -> list[str | None]:
    """``base_url`` as a list: one entry per server; [None] for OpenAI itself."""
    value = settings.get("base_url")
    return list(value) if isinstance(value, list) else [value]


def display_url(url: str | None) -> str:
    """A server's URL for counts and messages: no user name, password, query or fragment."""
    if url is None:
        return OPENAI_URL
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


class OpenAIClient(TeacherClient):
    def __init__(self, settings: dict[str, Any], key: str, base_url: str | None = None) -> None:
        import openai

        self.settings = settings
        # not the server: several servers of one model share the cache, and adding one keeps it
        self.identity = {"backend": "openai", "model": settings["model"]}
        self.server = display_url(base_url)
        self.default_concurrency = 16
        self.defaults = {k: settings[k] for k in _SAMPLING if k in settings}
        # httpx's pool scans all its connections for every request: several small pools beat one
        # big one once dozens of requests are in flight
        shards = max(1, -(-int(settings.get("concurrency", self.default_concurrency)) // POOL_SIZE))
        self._clients = [
            openai.AsyncOpenAI(
                api_key=key,
                base_url=base_url,
                organization=settings.get("organization"),
                max_retries=0,
                timeout=float(settings.get("timeout", 120)) + 5,
            )
            for _ in range(shards)
        ]
        self._next = 0

    async def complete(self, request: ChatRequest) -> Completion:
        import openai

        params = {**self.defaults, **{k: v for k, v in request.params.items() if k in _SAMPLING}}
        client = self._clients[self._next % len(self._clients)]
        self._next += 1
        try:
            # the raw response skips building pydantic models for every answer: at dozens of
            # requests in flight that parsing, not the network, is what limits throughput
            raw = await client.chat.completions.with_raw_response.create(
                model=self.settings["model"],
                messages=list(request.messages),  # type: ignore[arg-type]  # plain role/content dicts
                extra_body=self.settings.get("extra_body"),
                **params,
            )
            body = json.loads(raw.http_response.content)
        except Exception as exc:
            mapped = sdk_error(openai, exc)
            if mapped is None:
                raise
            raise mapped from None
        try:
            choice = body["choices"][0]
            usage = body.get("usage") or {}
            details = usage.get("prompt_tokens_details") or {}  # OpenAI's automatic prompt caching
            return Completion(
                choice["message"].get("content") or "",
                int(usage.get("prompt_tokens") or 0),
                int(usage.get("completion_tokens") or 0),
                choice.get("finish_reason"),
                reused_tokens=int(details.get("cached_tokens") or 0),
            )
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise TransientError("bad_response", f"response without choices: {exc!r}") from None

    async def aclose(self) -> None:
        for client in self._clients:
            await client.close()


class OpenAITeacher(Teacher):
    name = "openai"
    summary = "OpenAI, or any OpenAI-compatible server via base_url (vLLM, Ollama, llama.cpp server)."
    config_schema = {
        "type": "object",
        "required": ["backend", "model"],
        "additionalProperties": False,
        "properties": {
            "backend": {"const": "openai"},
            "model": {"type": "string", "minLength": 1},
            "base_url": {
                # one server, or several serving the same model (the pattern applies to a string,
                # items and minItems to a list, so a bad single URL reads as it always did)
                "type": ["string", "array"],
                "pattern": _URL["pattern"],
                "items": _URL,
                "minItems": 1,
                "uniqueItems": True,
                "description": "an OpenAI-compatible server's URL, or a list of servers of the same model",
            },
            "api_key_env": {
                "type": "string",
                "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                "default": "OPENAI_API_KEY",
                "description": "NAME of the environment variable holding the key",
            },
            "organization": {"type": "string"},
            "seed": {"type": "integer"},
            "extra_body": {"type": "object"},
            **ENGINE_SETTINGS_SCHEMA,
        },
    }

    def client(self, settings, project_root=None):
        return self.clients(settings, project_root)[0]

    def clients(self, settings, project_root=None):
        key = api_key(settings, "OPENAI_API_KEY", needs_key=not settings.get("base_url"))
        return [OpenAIClient(settings, key, url) for url in base_urls(settings)]


@hookimpl
def register_teachers(register):
    register(OpenAITeacher())
