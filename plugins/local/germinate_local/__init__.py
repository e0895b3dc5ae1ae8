"""Teacher backend that runs a GGUF chat model in-process with llama.cpp: no server, no network,
no key. ``model`` is an embedded model name (see germinate.embedded_models) or a path to a .gguf file.
llama.cpp answers one request at a time, so the engine runs it at concurrency 1; the model loads
once, on the first request. llama.cpp keeps the previous call's KV cache and computes only the
part of a prompt after the prefix the two share; each completion reports how many prompt tokens
that saved (``reused_tokens``)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from germinate import (
    DEFAULT_LOCAL_TEACHER,
    ENGINE_SETTINGS_SCHEMA,
    ChatRequest,
    Completion,
    Teacher,
    TeacherClient,
    hookimpl,
    locate_model,
    model_problem,
)

_SAMPLING = ("temperature", "max_tokens", "top_p", "seed", "stop")


class LlamaCppClient(TeacherClient):
    default_concurrency = 1
    free = True

    def __init__(self, settings: dict[str, Any], project_root: Path | None = None) -> None:
        self.path = locate_model(settings.get("model", DEFAULT_LOCAL_TEACHER), project_root)
        self.settings = settings
        self.identity = {
            "backend": "local",
            "model": settings.get("model", DEFAULT_LOCAL_TEACHER),
            "file": self.path.name,
            "size": self.path.stat().st_size,
        }
        self.defaults = {k: settings[k] for k in _SAMPLING if k in settings}
        self._llama = None
        self._lock = threading.Lock()
        self._prompt_evaluated: int | None = None

    def _load(self):
        if self._llama is None:
            from llama_cpp import Llama

            self._llama = Llama(
                model_path=str(self.path),
                n_ctx=int(self.settings.get("n_ctx", 4096)),
                n_threads=int(self.settings.get("threads", os.cpu_count() or 2)),
                seed=int(self.settings.get("seed", 0)),
                verbose=False,
            )
            self._count_prompt_evaluation(self._llama)
        return self._llama

    def _count_prompt_evaluation(self, llama: Any) -> None:
        """Record the size of each completion's first ``eval``: the prompt tokens after the prefix
        llama.cpp reused from the previous call (decoding then evaluates one token at a time)."""
        evaluate = llama.eval

        def counting(tokens):
            if self._prompt_evaluated is None:
                self._prompt_evaluated = len(tokens)
            return evaluate(tokens)

        llama.eval = counting

    def _complete(self, request: ChatRequest) -> Completion:
        params = {"max_tokens": 512, **self.defaults, **{k: v for k, v in request.params.items() if k in _SAMPLING}}
        if "seed" not in params:
            params["seed"] = request.sample  # reproducible draws: the same sample index, the same text
        with self._lock:
            llama = self._load()
            self._prompt_evaluated = None
            response = llama.create_chat_completion(messages=list(request.messages), **params)
            evaluated = self._prompt_evaluated
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        prompt_tokens = usage.get("prompt_tokens", 0)
        return Completion(
            choice["message"].get("content") or "",
            prompt_tokens,
            usage.get("completion_tokens", 0),
            choice.get("finish_reason"),
            reused_tokens=max(0, prompt_tokens - evaluated) if evaluated is not None else 0,
        )

    async def complete(self, request: ChatRequest) -> Completion:
        import asyncio  # not at import time: every command loads this plugin, few call it

        return await asyncio.to_thread(self._complete, request)

    async def aclose(self) -> None:
        if self._llama is not None:
            self._llama.close()
            self._llama = None


class LocalTeacher(Teacher):
    name = "local"
    free = True
    summary = "An in-process GGUF model via llama.cpp (offline, free); default: the embedded model."
    config_schema = {
        "type": "object",
        "required": ["backend"],
        "additionalProperties": False,
        "properties": {
            "backend": {"const": "local"},
            "model": {
                "type": "string",
                "default": DEFAULT_LOCAL_TEACHER,
                "description": "an embedded model name or a path to a .gguf file",
            },
            "n_ctx": {"type": "integer", "minimum": 256, "default": 4096},
            "threads": {"type": "integer", "minimum": 1},
            "seed": {"type": "integer"},
            **ENGINE_SETTINGS_SCHEMA,
        },
    }

    def check_settings(self, settings, project_root=None):
        problem = model_problem(settings.get("model", DEFAULT_LOCAL_TEACHER), project_root)
        if problem is not None:
            yield ("model",), problem

    def client(self, settings, project_root=None):
        return LlamaCppClient(settings, project_root)


@hookimpl
def register_teachers(register):
    register(LocalTeacher())
