"""The exported student against the one germinate trained: the same prompts, greedy answers from
the transformers student (base + adapter, as evaluation runs it) and from a GGUF loaded by the
local teacher backend (llama.cpp in-process, found through the plugin registry like any
backend). Shared by bench/export_roundtrip.py and tests/test_export_model.py."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any


def conversations(project: Any, run: Any, records: list[dict]) -> list[list[dict[str, str]]]:
    """Each record's chat under the system text the run's student was trained with (what the
    exported Modelfile's SYSTEM holds too)."""
    from germinate.student.messages import prompt_messages, trained_system

    system = trained_system(run.model().adapter, project.config)
    return [prompt_messages(project.task_type, r, system) for r in records]


def student_answers(project: Any, run: Any, records: list[dict], max_new_tokens: int) -> list[str]:
    """The trained student's answers through transformers (base weights + LoRA adapter)."""
    from germinate.settings import resolve
    from germinate.student.infer import Student

    student = Student.load(resolve(project.config).student, run.model().adapter)
    answers = student.generate(conversations(project, run, records), max_new_tokens=max_new_tokens, batch_size=8)
    return [text.strip() for text, _, _ in answers]


def gguf_answers(path: Path, project: Any, run: Any, records: list[dict], max_new_tokens: int) -> list[str]:
    """Answers of a GGUF file through the local backend, greedy (temperature 0)."""
    from germinate.plugins import lookup
    from germinate.teachers.base import ChatRequest

    client = lookup("teachers", "local").client({"backend": "local", "model": str(path), "n_ctx": 2048})

    async def ask() -> list[str]:
        out = []
        for i, messages in enumerate(conversations(project, run, records)):
            params = {"temperature": 0.0, "max_tokens": max_new_tokens}
            out.append((await client.complete(ChatRequest(messages, params, sample=i))).text.strip())
        await client.aclose()
        return out

    return asyncio.run(ask())


def agreement(a: list[str], b: list[str]) -> float:
    return sum(x == y for x, y in zip(a, b)) / len(a)


def accuracy(project: Any, records: list[dict], answers: list[str]) -> float:
    """The task type's own metric, as evaluation scores it (a judged answer counts as wrong)."""
    scores = [project.task_type.score(a, r, project.config) for a, r in zip(answers, records)]
    return sum(s.correct is True for s in scores) / len(records)
