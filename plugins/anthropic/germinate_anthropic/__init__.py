"""Teacher backend for Anthropic's Messages API. System messages become the ``system`` parameter,
marked for prompt caching: germinate puts what every call of a stage shares (the task, the rules,
the reply format) in the system message, so later calls read it from Anthropic's cache (prompts
shorter than the model's minimum are simply not cached). The key comes from the environment
variable named by ``api_key_env`` (default ANTHROPIC_API_KEY) and is never stored. SDK retries are
off: the engine handles them."""

from __future__ import annotations

from typing import Any

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

_SAMPLING = ("temperature", "max_tokens", "top_p", "stop")
DEFAULT_MAX_TOKENS = 1024


class AnthropicClient(TeacherClient):
    def __init__(self, settings: dict[str, Any], key: str) -> None:
        import anthropic

        self.settings = settings
        self.identity = {"backend": "anthropic", "model": settings["model"], "base_url": settings.get("base_url")}
        self.default_concurrency = 8
        self.defaults = {k: settings[k] for k in _SAMPLING if k in settings}
        self._client = anthropic.AsyncAnthropic(
            api_key=key,
            base_url=settings.get("base_url"),
            max_retries=0,
            timeout=float(settings.get("timeout", 120)) + 5,
        )

    async def complete(self, request: ChatRequest) -> Completion:
        import anthropic

        system = "\n\n".join(m["content"] for m in request.messages if m["role"] == "system")
        messages = [m for m in request.messages if m["role"] != "system"]
        sampling = {**self.defaults, **{k: v for k, v in request.params.items() if k in _SAMPLING}}
        params: dict[str, Any] = {"max_tokens": sampling.pop("max_tokens", DEFAULT_MAX_TOKENS)}
        if system:
            params["system"] = [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]
        stop = sampling.pop("stop", None)
        if stop:
            params["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
        if sampling:  # recent SDKs no longer name temperature/top_p; the API still takes them
            params["extra_body"] = sampling
        try:
            response = await self._client.messages.create(
                model=self.settings["model"],
                messages=messages,  # type: ignore[arg-type]  # plain role/content dicts
                **params,
            )
        except Exception as exc:
            mapped = sdk_error(anthropic, exc)
            if mapped is None:
                raise
            raise mapped from None
        try:
            text = "".join(
                getattr(block, "text", "") for block in response.content if getattr(block, "type", "") == "text"
            )
            usage = response.usage
            # input_tokens counts only what follows the cached prefix; the meter counts the whole prompt
            read = getattr(usage, "cache_read_input_tokens", None) or 0
            written = getattr(usage, "cache_creation_input_tokens", None) or 0
            return Completion(
                text,
                usage.input_tokens + read + written,
                usage.output_tokens,
                response.stop_reason,
                reused_tokens=read,
            )
        except (AttributeError, TypeError) as exc:
            raise TransientError("bad_response", f"response without content: {exc}") from None

    async def aclose(self) -> None:
        await self._client.close()


class AnthropicTeacher(Teacher):
    name = "anthropic"
    summary = "Anthropic models through the Messages API."
    config_schema = {
        "type": "object",
        "required": ["backend", "model"],
        "additionalProperties": False,
        "properties": {
            "backend": {"const": "anthropic"},
            "model": {"type": "string", "minLength": 1},
            "base_url": {"type": "string", "pattern": "^https?://"},
            "api_key_env": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "default": "ANTHROPIC_API_KEY"},
            **ENGINE_SETTINGS_SCHEMA,
        },
    }

    def client(self, settings, project_root=None):
        return AnthropicClient(settings, api_key(settings, "ANTHROPIC_API_KEY", needs_key=True))


@hookimpl
def register_teachers(register):
    register(AnthropicTeacher())
