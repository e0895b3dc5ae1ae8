"""Question answering, open-book (the context is part of the input) and closed-book (the student
answers from memory; the context only grounds the generated training data)."""

from germinate import hookimpl
from germinate.task_type import TaskType

_text = {"type": "string"}


class OpenBookQA(TaskType):
    name = "open_book_qa"
    summary = "Answer a question from a given context passage."
    record_schema = {
        "type": "object",
        "required": ["context", "question", "answer"],
        "properties": {
            "context": {"type": "string", "minLength": 1},
            "question": {"type": "string", "minLength": 1},
            "answer": _text,
        },
    }
    key_fields = ("question", "context")

    def text_fields(self, record):
        return {k: record[k] for k in ("question", "answer") if isinstance(record.get(k), str)}


class ClosedBookQA(OpenBookQA):
    name = "closed_book_qa"
    summary = "Answer a question from memory; context/ holds the knowledge base to learn."
    record_schema = {
        "type": "object",
        "required": ["question", "answer"],
        "properties": {
            "question": {"type": "string", "minLength": 1},
            "answer": _text,
            "context": _text,
        },
    }
    key_fields = ("question",)


@hookimpl
def register_task_types(register):
    register(OpenBookQA())
    register(ClosedBookQA())
