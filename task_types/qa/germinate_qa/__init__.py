"""Question answering, open-book (the context is part of the input) and closed-book (the student
answers from memory; the context only grounds the generated training data)."""

from germinate import (
    JUDGE_METRIC,
    NONBLANK,
    Grounded,
    Grounding,
    Metric,
    ParseError,
    Score,
    TaskType,
    bullet_list,
    chat,
    extract_json,
    hookimpl,
    normalise,
    numbered_requests,
)
from germinate_qa.metrics import answer_metrics

# Listed prompts (the default): the task and the reply format are the system message every call
# shares; the shown seeds, the context passage and the numbered requests come last.
SYSTEM = """You write realistic, varied question-answer training examples grounded in a context passage.

Task description:
{description}

You are shown examples, a context passage and a numbered list of requests. For each request write one new question that the context answers, and its answer taken from the context, in the style of the examples.
{properties}

Ask about different facts of the context: every question must differ from each example and from your other questions.
Reply with a numbered list in the order of the requests, one JSON object per line: 1. {{"question": "...", "answer": "..."}}"""

LISTED = """Examples:
{examples}

Context:
{context}

Requests:
{requests}

Write the {count} question-answer pairs now, numbered 1 to {count}, one JSON object per line."""

# germinate 0.1's one-example prompt (generation.prompt_style: single)
GENERATE = """Task description:
{description}

Examples:
{examples}

Context:
{context}

Write one new question that can be answered from the context above, and its answer, in the same style as the examples.
{instructions}
Reply with one JSON object and nothing else: {{"question": "...", "answer": "..."}}"""

_text = {"type": "string"}


class OpenBookQA(TaskType):
    name = "open_book_qa"
    summary = "Answer a question from a given context passage."
    record_schema = {
        "type": "object",
        "required": ["context", "question", "answer"],
        "properties": {
            "context": {"type": "string", "minLength": 1, "pattern": NONBLANK},
            "question": {"type": "string", "minLength": 1, "pattern": NONBLANK},
            "answer": _text,
        },
    }
    key_fields: tuple[str, ...] = ("question", "context")
    input_field = "question"
    output_fields: tuple[str, ...] = ("answer",)
    templates = {"system": SYSTEM, "generate": LISTED}
    single_templates = {"generate": GENERATE}
    listed_phases = frozenset({0})
    metrics = (
        Metric("token_f1", "token F1", "SQuAD token F1 after normalisation (case, punctuation, articles, spaces)"),
        Metric("exact_match", "EM", "SQuAD exact match after the same normalisation"),
        Metric("rouge_l", "ROUGE-L", "rouge-score's ROUGE-L F-measure"),
        JUDGE_METRIC,
    )
    headline = "token_f1"

    def text_fields(self, record):
        return {k: record[k] for k in ("question", "answer") if isinstance(record.get(k), str)}

    def generation_prompt(self, ctx, example, phase, previous):
        shown = [f"{s['question']} -> {s['answer'] or '(no answer in the context)'}" for s in example.shown]
        return chat(
            ctx.render(
                "generate", context=example.chunk or "", instructions=example.instructions, examples=bullet_list(shown)
            )
        )

    def listed_prompt(self, ctx, examples, phase, previous):
        shown = [f"{s['question']} -> {s['answer'] or '(no answer in the context)'}" for s in examples[0].shown]
        return chat(
            ctx.render(
                "generate",
                context=examples[0].chunk or "",
                examples=bullet_list(shown),
                requests=numbered_requests(examples),
                count=len(examples),
            ),
            system=ctx.render("system"),
        )

    def parse_phase(self, ctx, example, phase, text, previous):
        data = extract_json(text)
        question, answer = data.get("question"), data.get("answer")
        if not isinstance(question, str) or not question.strip():
            raise ParseError("the JSON has no 'question'")
        if not isinstance(answer, (str, int, float)):
            raise ParseError("the JSON has no 'answer'")
        return self._record(example.chunk or "", question.strip(), str(answer).strip())

    def _record(self, context, question, answer):
        return {"context": context, "question": question, "answer": answer}

    def grounding(self, record, config):
        """The answer must be supported by the context it was written from; closed-book records keep
        that context too. An empty answer ("no answer in the context") and a yes/no answer claim
        nothing about the context's wording."""
        context, answer = record.get("context"), record.get("answer")
        if not isinstance(context, str) or not context.strip() or not isinstance(answer, str):
            return None
        if normalise(answer) in ("", "yes", "no"):
            return None
        return Grounding(context, "context", (Grounded("answer", "answer", answer, abstractive=True),))

    def display(self, record):
        return f"Q: {record['question']} A: {record['answer']}"

    def score(self, prediction, record, config):
        """Token F1, exact match and ROUGE-L against the reference answer(s); the judge gives its
        verdict beside them (``correct`` is left to it)."""
        text = prediction.strip()
        return Score(None, text, metrics=answer_metrics(text, record))

    def prompt_text(self, record):
        return f"Context:\n{record['context']}\n\nQuestion: {record['question']}"

    def target_text(self, record):
        return record["answer"]


class ClosedBookQA(OpenBookQA):
    name = "closed_book_qa"
    summary = "Answer a question from memory; context/ holds the knowledge base to learn."
    record_schema = {
        "type": "object",
        "required": ["question", "answer"],
        "properties": {
            "question": {"type": "string", "minLength": 1, "pattern": NONBLANK},
            "answer": _text,
            "context": _text,
        },
    }
    key_fields: tuple[str, ...] = ("question",)

    def _record(self, context, question, answer):
        # the context grounded the generation; training drops it so the student must know the answer
        return {"question": question, "answer": answer, "context": context}

    def prompt_text(self, record):
        return record["question"]


@hookimpl
def register_task_types(register):
    register(OpenBookQA())
    register(ClosedBookQA())
