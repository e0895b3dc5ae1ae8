"""The binary LLM judge for free-text answers (QA, extraction), and its calibration.

The judge sees the task description, the input, the reference and the prediction, and answers
yes or no (CORRECT / INCORRECT, right / wrong and true / false are read too, for a project's own
prompt). Its prompt is versioned: reports record ``builtin-v2`` or, for a prompt the
project supplies (``evaluation.judge.prompt`` in task.yaml, or ``prompts/judge.txt``), ``custom-``
and the first 8 hex digits of its sha256, so two reports are comparable only when the ids match.
The judge's reply is read as text; nothing in it is executed.

Before it judges, the judge is calibrated on items from the test split whose right verdict is
known: each item's own reference answer (CORRECT), another item's answer (swapped: INCORRECT) and
a perturbed reference (INCORRECT, see :mod:`germinate.evaluate.perturb`). Cohen's kappa between
its verdicts and those labels, its true-positive and true-negative rates, and the agreement when
the first items are asked again (a distinct sample index, so the cache cannot answer for it) say
how far its column can be trusted; below ``judge_min_kappa`` the report flags it.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from typing import Any

import attrs

from germinate.evaluate.perturb import perturb
from germinate.problems import GerminateError, Problem
from germinate.tasks import templates
from germinate.tasks.metrics import cohen_kappa
from germinate.tasks.score import Score
from germinate.teachers.base import ChatRequest

JUDGE_PROMPT_VERSION = "builtin-v2"

#: placeholders: {description} {input} {reference} {prediction}. A yes/no question: asked for
#: CORRECT or INCORRECT (builtin-v1), the embedded 1.5B judge said CORRECT to every calibration
#: item of hotpotqa, roman_empire_qa and docs_extraction (kappa 0); asked this, kappa 0.4-0.8.
JUDGE_PROMPT = """\
Task: {description}

Input:
{input}

Reference answer:
{reference}

Model answer:
{prediction}

Does the model answer state the same facts as the reference answer? Wording may differ, and extra
words are fine as long as nothing in them contradicts or replaces the reference. For structured
answers every field must carry the same values. If the reference answer is empty, the question
cannot be answered from the information given: reply yes only if the model answer says so or is
empty.

Reply with one word: yes or no."""

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


def stop_at_budget(results: list[Any]) -> None:
    """A judge call not sent because --max-cost was reached stops the evaluation: scoring the
    answer as wrong would report a number that is not a measurement."""
    if any(result.error == "budget" for result in results):
        raise GerminateError(
            "--max-cost: reached while judging; every finished call is cached, rerun with a higher --max-cost"
        )


def judge_request(
    template: str, description: str, prompt: str, reference: str, prediction: str, sample: int = 0
) -> ChatRequest:
    """One verdict request; ``sample`` > 0 asks the same question afresh (a different cache key)."""
    text = templates.fill(
        template, {"description": description, "input": prompt, "reference": reference, "prediction": prediction}
    )
    # temperature 0 and a short reply: the verdict is one word
    return ChatRequest(
        [{"role": "user", "content": text}], {"temperature": 0.0, "max_tokens": 8}, sample=sample, stage="judge"
    )


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


# -- calibration ---------------------------------------------------------------------------------


@attrs.frozen
class CalibrationItem:
    """An answer whose right verdict is known: ``kind`` gold (CORRECT), swapped or perturbed."""

    input: str
    reference: str
    answer: str
    kind: str

    @property
    def gold(self) -> bool:
        return self.kind == "gold"


def calibration_items(task: Any, records: list[dict], count: int, seed: int = 0) -> list[CalibrationItem]:
    """For the first ``count`` records: the gold answer, another record's answer and a perturbed
    answer, interleaved (so the retested first items hold every kind). An alternative equal to the
    reference up to case and spacing is left out: its right verdict would be CORRECT."""
    rng = random.Random(seed)
    references = [task.target_text(r) for r in records]
    items: list[CalibrationItem] = []
    for i, record in enumerate(records[:count]):
        prompt, reference = task.prompt_text(record), references[i]
        others = references[i + 1 :] + references[:i]
        items.append(CalibrationItem(prompt, reference, reference, "gold"))
        swapped = next((o for o in others if not obviously_equal(o, reference)), None)
        if swapped is not None:
            items.append(CalibrationItem(prompt, reference, swapped, "swapped"))
        perturbed = perturb(reference, others, rng)
        if perturbed is not None and not obviously_equal(perturbed, reference):
            items.append(CalibrationItem(prompt, reference, perturbed, "perturbed"))
    return items


def _verdicts(results: list[Any]) -> tuple[list[bool], int]:
    """Each result's verdict (a failed call or an unreadable reply counts as INCORRECT, as it does
    when scoring) and how many were unreadable or failed."""
    verdicts, unreadable = [], 0
    for result in results:
        verdict = read_verdict(result.text) if result.text is not None else None
        unreadable += verdict is None
        verdicts.append(bool(verdict))
    return verdicts, unreadable


def calibrate(
    engine: Any,
    template: str,
    description: str,
    items: list[CalibrationItem],
    *,
    retest: int = 30,
    min_kappa: float = 0.6,
) -> dict[str, Any]:
    """Ask the judge about every item, then again about the first ``retest`` items; report.json's
    ``judge.calibration``."""
    retested = min(retest, len(items))
    # each re-ask right after its first ask: a local model then reuses the prompt it just read
    # (the answer is generated afresh), and sample=1 keeps the cache from answering for it
    requests, slots = [], []
    for i, it in enumerate(items):
        for sample in (0, 1) if i < retested else (0,):
            requests.append(judge_request(template, description, it.input, it.reference, it.answer, sample=sample))
            slots.append(sample)
    results = engine.run_blocking(requests) if requests else []
    stop_at_budget(results)
    verdicts, unreadable = _verdicts(results)
    first = [v for v, slot in zip(verdicts, slots) if slot == 0]
    second = [v for v, slot in zip(verdicts, slots) if slot == 1]
    gold = [it.gold for it in items]
    positives = [v for v, g in zip(first, gold) if g]
    negatives = [v for v, g in zip(first, gold) if not g]
    kappa = cohen_kappa(first, gold)
    by_kind = {
        kind: {
            "items": sum(1 for it in items if it.kind == kind),
            "judged_correct": sum(1 for v, it in zip(first, items) if it.kind == kind and v),
        }
        for kind in ("gold", "swapped", "perturbed")
    }
    misjudged = [
        {"kind": it.kind, "answer": it.answer, "reference": it.reference, "verdict": "CORRECT" if v else "INCORRECT"}
        for v, it in zip(first, items)
        if v != it.gold
    ]
    return {
        "items": len(items),
        "by_kind": by_kind,
        "kappa": None if kappa is None else round(kappa, 4),
        "tpr": round(sum(positives) / len(positives), 4) if positives else None,
        "tnr": round(sum(1 for v in negatives if not v) / len(negatives), 4) if negatives else None,
        "retest": {
            "items": len(second),
            "agreement": round(sum(1 for a, b in zip(first, second) if a == b) / len(second), 4) if second else None,
        },
        "unreadable": unreadable,
        "calls": len(results),
        "min_kappa": min_kappa,
        "flagged": kappa is None or kappa < min_kappa,
        "misjudged": misjudged[:5],
    }
