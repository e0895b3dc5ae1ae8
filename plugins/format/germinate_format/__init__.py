"""Format validator: generated text must start with a letter or digit, which throws out markdown
(``#``, ``*``, ``-``), stray punctuation, quotes around the whole text, and special tokens
(``<|im_start|>``). A leading character some seed also starts with is allowed, since then it is
part of the task (say, questions that start with a quote)."""

from __future__ import annotations

from germinate import Check, Validator, Verdict, hookimpl


class FormatCheck(Check):
    def __init__(self, allowed: set[str], task_type) -> None:
        self.allowed, self.task_type = allowed, task_type

    def check(self, record: dict) -> Verdict:
        for field, text in self.task_type.text_fields(record).items():
            if not text:
                continue  # empty answers are legitimate (unanswerable questions); length judges size
            first = text[0]
            if not first.isalnum() and first not in self.allowed:
                return Verdict.reject(
                    f"{field}: starts with {first!r}, not a letter or digit", field=field, start=text[:20]
                )
        return Verdict.accept()


class Format(Validator):
    name = "format"
    order = 10
    summary = "Reject text that starts with a non-alphanumeric character (markdown, punctuation, special tokens)."
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "allow": {"type": "string", "default": "", "description": "extra characters a text may start with"},
            "allow_seed_starts": {
                "type": "boolean",
                "default": True,
                "description": "also allow any first character a seed starts with",
            },
        },
    }

    def prepare(self, seeds, settings, task):
        allowed = set(settings.get("allow", ""))
        if settings.get("allow_seed_starts", True):
            for seed in seeds:
                for text in task.task_type.text_fields(seed).values():
                    if text and not text[0].isalnum():
                        allowed.add(text[0])
        return FormatCheck(allowed, task.task_type)


@hookimpl
def register_validators(register):
    register(Format())
