"""Agreement validator: the teacher answers each candidate's input as the task itself, with the
k-shot prompt evaluation uses for it, and the candidate is rejected when that answer disagrees
with the candidate's own output. A generated example whose input does not say what its label
says (a movie question written for the weather class) fails here.

Answers are compared by the task type's metric (the label, the tool call); where the metric leaves
it to a judge (free-text answers, extraction output) by token-F1, or field-F1 over JSON leaves, of
at least ``min_f1``. With ``samples: n`` the teacher answers n times at ``temperature`` and the
candidate stays when at least half of the answers agree. The calls go through the teacher's
engine (cache, cost meter, ``--max-cost``, stage "validate"); ``model`` or ``backend`` asks another.
"""

from __future__ import annotations

import json
from typing import Any

from germinate import ChatRequest, Check, Validator, Verdict, answer_f1, hookimpl

#: task families it runs for unless task.yaml says otherwise; chosen by measurement (bench/label_noise.py)
DEFAULT_FAMILIES = frozenset({"classification"})
STAGE = "validate"


def _key(record: dict) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def answer_budget(task_type: Any, seeds: list[dict], limit: int = 256) -> int:
    """New tokens per answer as evaluation sizes them: twice the longest seed answer (~3
    characters a token) plus a margin."""
    longest = max((len(task_type.target_text(seed)) for seed in seeds), default=0)
    return min(limit, 2 * longest // 3 + 16)


def engine_override(settings: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    """``backend`` (a teacher section of its own) and/or ``model`` over the teacher's; None: the teacher."""
    override = dict(settings["backend"]) if settings.get("backend") else None
    where = ("validation", "agreement") + (("backend",) if override else ())
    if settings.get("model"):
        override = {**(override or {}), "model": settings["model"]}
    return (override, where) if override else None


class AgreementCheck(Check):
    def __init__(self, task: Any, seeds: list[dict], settings: dict[str, Any]) -> None:
        self.task, self.seeds = task, seeds
        self.samples = int(settings.get("samples", 1))
        self.min_f1 = float(settings.get("min_f1", 0.5))
        chosen = engine_override(settings)
        self.override: dict[str, Any] | None = chosen[0] if chosen else None
        self.where: tuple[str, ...] = chosen[1] if chosen else ("validation", "agreement")
        temperature = float(settings.get("temperature", 0.7)) if self.samples > 1 else 0.0
        max_tokens = settings.get("max_tokens") or answer_budget(task.task_type, seeds)
        self.params = {"temperature": temperature, "max_tokens": int(max_tokens)}
        self._engine: Any = None
        self.answers: dict[str, list[Any]] = {}

    @property
    def engine(self) -> Any:
        if self._engine is None:
            self._engine = self.task.engine(self.override, where=self.where)
        return self._engine

    def requests(self, record: dict) -> list[ChatRequest]:
        messages = self.task.teacher_messages(record, self.seeds)
        return [ChatRequest(messages, self.params, sample=i, stage=STAGE) for i in range(self.samples)]

    def ask(self, records: list[dict]) -> None:
        todo = list({_key(r): r for r in records if _key(r) not in self.answers}.items())
        if not todo:
            return
        results = self.engine.run_blocking([q for _, record in todo for q in self.requests(record)])
        for i, (key, _) in enumerate(todo):
            self.answers[key] = results[i * self.samples : (i + 1) * self.samples]

    def prefetch(self, records: list[dict]) -> None:
        wanted = {_key(r) for r in records}
        self.answers = {k: v for k, v in self.answers.items() if k in wanted}  # only the batch at hand
        self.ask(records)

    def agrees(self, answer: str, record: dict) -> tuple[bool, str | None]:
        """Whether the teacher's answer agrees with the record's output, and why it could not be read."""
        task_type, config = self.task.task_type, self.task.config
        score = task_type.score(answer, record, config)
        if score.correct is not None:
            return bool(score.correct), score.error
        return answer_f1(answer, task_type.target_text(record)) >= self.min_f1, None

    def check(self, record: dict) -> Verdict:
        key = _key(record)
        if key not in self.answers:
            self.ask([record])
        results = self.answers[key]
        answered = [r for r in results if r.ok]
        if not answered:
            failed = results[0]
            return Verdict.reject(
                f"not checked: the teacher gave no answer ({failed.error}: {_short(failed.message)})",
                teacher_error=failed.error,
            )
        answers = [r.completion.text.strip() for r in answered]
        votes = [self.agrees(answer, record) for answer in answers]
        agreeing = sum(1 for ok, _ in votes if ok)
        share = agreeing / len(votes)
        detail: dict[str, Any] = {"teacher_answer": answers[0]}
        if len(answers) > 1:
            detail["teacher_answers"] = answers
        if 2 * agreeing >= len(votes):
            return Verdict.accept(share, **detail)
        own = _short(self.task.task_type.target_text(record), 60)
        against = next(a for a, (ok, _) in zip(answers, votes) if not ok)
        detail["teacher_answer"] = against
        unreadable = next((error for ok, error in votes if error), None)
        if len(votes) == 1:
            reason = f"the teacher answers {_short(against)!r}, the candidate says {own!r}"
        else:
            reason = f"{agreeing} of {len(votes)} teacher answers agree with {own!r} (one says {_short(against)!r})"
        if unreadable:
            detail["unreadable"] = unreadable
        return Verdict.reject(reason, share, **detail)


class Agreement(Validator):
    name = "agreement"
    order = 95  # last: it costs a teacher call, so only what every cheap check passed is asked
    summary = (
        "The teacher answers the candidate's input k-shot, as in evaluation; reject when its answer "
        "disagrees with the candidate's output (on by default for: " + ", ".join(sorted(DEFAULT_FAMILIES)) + ")."
    )
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "model": {"type": "string", "minLength": 1, "description": "another model of the teacher's backend"},
            "backend": {
                "type": "object",
                "required": ["backend"],
                "properties": {"backend": {"type": "string", "minLength": 1}},
                "description": "another backend altogether: a teacher section (backend, model, ...)",
            },
            "samples": {
                "type": "integer",
                "minimum": 1,
                "default": 1,
                "description": "answers per candidate; with more than one, at least half must agree",
            },
            "temperature": {
                "type": "number",
                "minimum": 0,
                "default": 0.7,
                "description": "sampling temperature when samples > 1 (one sample is greedy)",
            },
            "min_f1": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "default": 0.5,
                "description": "token-F1 (field-F1 for JSON) an answer needs where the task's metric cannot decide",
            },
            "max_tokens": {
                "type": "integer",
                "minimum": 1,
                "description": "longest answer (default: twice the longest seed answer, as evaluation)",
            },
        },
    }

    def engine_override(self, settings):
        return engine_override(settings)

    def enabled_by_default(self, task):
        # a cascade built with no teacher to ask (a bare build_cascade) runs it only when named
        return task.engines is not None and task.task_type.name in DEFAULT_FAMILIES

    def prepare(self, seeds, settings, task):
        return AgreementCheck(task, seeds, settings)


@hookimpl
def register_validators(register):
    register(Agreement())
