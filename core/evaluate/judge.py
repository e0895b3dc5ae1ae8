"""The binary LLM judge for free-text answers (QA, extraction).

The judge sees the task description, the input, the reference and the prediction, and answers
CORRECT or INCORRECT. Its prompt is versioned: reports record ``builtin-v1`` or, for a prompt the
project supplies (``evaluation.judge.prompt`` in task.yaml, or ``prompts/judge.txt``), ``custom-``
and the first 8 hex digits of its sha256, so two reports are comparable only when the ids match.
The judge's reply is read as text; nothing in it is executed.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from germinate.problems import GerminateError, Problem
from germinate.tasks import templates
from germinate.tasks.score import Score
from germinate.teachers.base import ChatRequest

JUDGE_PROMPT_VERSION = "builtin-v1"

#: placeholders: {description} {input} {reference} {prediction}
JUDGE_PROMPT = """\
You grade a model's answer against a reference answer. Reply with one word: CORRECT or INCORRECT.

Task: {description}

Input:
{input}

Reference answer:
{reference}

Model answer:
{prediction}

The model answer is CORRECT when it states the same facts as the reference answer: wording may
differ and extra words are fine as long as nothing contradicts or replaces the reference. For
structured answers every field must carry the same values. If the reference answer is empty, the
question cannot be answered from the information given, and the model answer is CORRECT only if it
says so or is empty. Otherwise it is INCORRECT.

Verdict (CORRECT or INCORRECT):"""

PLACEHOLDERS = templates.JUDGE_PLACEHOLDERS
_VERDICT = re.compile(r"\b(incorrect|correct|wrong|right|yes|no|true|false)\b", re.IGNORECASE)
_POSITIVE = {"correct", "right", "yes", "true"}


def judge_prompt(project: Any) -> tuple[str, str]:
    """(template, id) for this project: its own prompt if it has one (``evaluation.judge.prompt``,
    else ``prompts/judge.txt``, both checked by ``germinate check``), else the built-in one."""
    section = project.section("evaluation").get("judge") or {}
    where: tuple[str, str | None] = ("task.yaml", "evaluation.judge.prompt")
    template = section.get("prompt")
    if template is None and "judge" in project.prompt_files:
        template, where = project.prompt_files["judge"], ("prompts/judge.txt", None)
    if template is None:
        return JUDGE_PROMPT, JUDGE_PROMPT_VERSION
    if not isinstance(template, str) or not template.strip():
        raise GerminateError(Problem(where[0], None, where[1], "must not be empty"))
    try:
        templates.check(template, PLACEHOLDERS, templates.JUDGE_REQUIRED)
    except templates.TemplateError as exc:
        raise GerminateError(Problem(where[0], exc.line if where[1] is None else None, where[1], exc.message)) from None
    return template, "custom-" + hashlib.sha256(template.encode("utf-8")).hexdigest()[:8]


def judge_request(template: str, description: str, prompt: str, reference: str, prediction: str) -> ChatRequest:
    text = templates.fill(
        template, {"description": description, "input": prompt, "reference": reference, "prediction": prediction}
    )
    # temperature 0 and a short reply: the verdict is one word
    return ChatRequest([{"role": "user", "content": text}], {"temperature": 0.0, "max_tokens": 8}, stage="judge")


def read_verdict(reply: str) -> bool | None:
    """True / False from the judge's reply, None when it says neither. The first verdict word
    counts ("INCORRECT" is not read as "CORRECT"); a JSON {"verdict": ...} is accepted too."""
    text = reply.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict) and isinstance(value.get("verdict"), (str, bool)):
            text = str(value["verdict"])
    match = _VERDICT.search(text)
    return None if match is None else match.group(1).lower() in _POSITIVE


def _normalised(text: str) -> str:
    try:
        return json.dumps(json.loads(text), sort_keys=True)
    except (json.JSONDecodeError, TypeError):
        return " ".join(text.lower().split()).strip(" .!\"'")


def obviously_equal(prediction: str, reference: str) -> bool:
    """Same text up to case, spacing and end punctuation (or equal JSON): correct without asking
    the judge, which saves calls and cannot make a judge mistake on a verbatim answer."""
    return _normalised(prediction) == _normalised(reference)


def verdict_score(reply: str | None, prediction: str, error: str | None = None) -> Score:
    if reply is None:
        return Score(False, prediction, f"judge call failed: {error}")
    verdict = read_verdict(reply)
    if verdict is None:
        return Score(False, prediction, f"judge verdict unreadable: {reply.strip()[:60]!r}")
    return Score(verdict, prediction)
