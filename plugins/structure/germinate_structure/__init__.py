"""Structure validator: shapes no generated text should have, whatever the task.

* ``lines``: more lines than any seed's same field has: two examples glued together, or an example
  followed by the teacher's commentary (where seeds span several lines, more than twice their most).
* ``names``: a label or tool name (the values of the task's own properties) written into the text
  where no seed has it: an identifier-like name (``card_arrival``, ``SearchScreeningEvent``)
  anywhere, a plain word (``location``) used as a tag ("location: ...", "... -> location",
  "label: location").
* ``copies``: the text copies the task description, a mutation instruction or the generation
  prompt's wording: a run of ``copy_words`` words, or ``copy_share`` of its words (six at least)
  in runs of four, shared with them and with no seed.
* ``preambles``: the teacher's wrapping left in: "Sure, here is...", "The new text is:", list
  markers ("- ", "1. "), markdown emphasis ("**"), labels like "Input:" or "Note:", a text that
  ends in a colon (a lead-in whose text is missing).
* ``endings``: a statement where every seed's text is a question ending in '?' (a missing full
  stop is no sign of anything, so only the question mark counts).

Each check learns from the seeds: what some seed does is allowed.
"""

from __future__ import annotations

import re

from germinate import Check, Validator, Verdict, hookimpl, normalise

# -- preambles and markers --------------------------------------------------------------------------

_WRAPPING = {
    "a teacher preamble": re.compile(
        r"^\s*(?:(?:sure|certainly|of course|absolutely|okay|ok)\b[^\n]{0,40}?\bhere(?:'s| is| are)\b|"
        r"(?:here(?:'s| is| are)|below is)\b[^\n:]{0,80}:|"
        r"(?:the|a|an)?\s*(?:new|following|generated|rewritten|modified|revised|updated|sample)\s+"
        r"(?:\w+\s+){0,3}?(?:text|example|input|question|request|message|sentence|query|utterance|prompt)s?"
        r"\b[^\n:]{0,40}:)",
        re.I,
    ),
    "a label before the text": re.compile(
        r"^\s*(?:new\s+|another\s+)?(?:input|text|example|question|request|message|sentence|query|user|output|"
        r"answer|label|category|intent|note|explanation|rationale)\s*(?:#?\d+)?\s*:",
        re.I | re.M,
    ),
    "a list marker": re.compile(r"^\s*(?:[-*•]|\d{1,3}[.)])\s+\S", re.M),
    "markdown emphasis": re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__"),
    "a lead-in with nothing after it": re.compile(r":\s*$"),
}


def _wrapping(text: str, allowed: set[str]) -> tuple[str, str] | None:
    for kind, pattern in _WRAPPING.items():
        if kind in allowed:
            continue
        found = pattern.search(text)
        if found:
            return kind, found.group(0).strip()
    return None


# -- label and tool names ---------------------------------------------------------------------------


def _identifier_like(name: str) -> bool:
    """``card_arrival``, ``SearchScreeningEvent``, ``git.commit``: a name no sentence uses as a word."""
    return " " not in name.strip() and bool(re.search(r"[_.\d]|[a-z][A-Z]", name))


def name_pattern(name: str) -> re.Pattern[str]:
    """Where a name in a text means the teacher leaked it: anywhere for an identifier-like name,
    else as a tag at the start or end of the text, or after 'label is', 'category:', 'answer is'..."""
    word = re.escape(name.strip())
    if _identifier_like(name):
        return re.compile(rf"(?<![\w.]){word}(?![\w])", re.I)
    quote = r"[\"'`*\[\(<]*"
    unquote = r"[\"'`*\]\)>]*"
    separator = r"(?:\s*(?::|\||=>|->|→)|\s+[-–—]+\s)"
    return re.compile(
        rf"^\s*{quote}{word}{unquote}{separator}"
        rf"|{separator}\s*{quote}{word}{unquote}[\s.]*$"
        rf"|[\(\[]\s*{word}\s*[\)\]][\s.]*$"
        rf"|[?.!]\s+{quote}{word}{unquote}[\s.]*$"
        rf"|\b(?:label|category|class|intent|answer)\s*(?:[:=]|is\b)\s*{quote}{word}\b",
        re.I | re.M,
    )


# -- copies of the prompt ---------------------------------------------------------------------------

NGRAM = 4
#: an ending shared by fewer seeds may be chance
MIN_SEEDS_FOR_ENDING = 5


def _grams(words: list[str], n: int = NGRAM) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


class PromptCopies:
    """Four-word runs of the prompt texts (description, instructions, templates) that no seed
    has, and which prompt text each came from."""

    def __init__(self, texts: list[tuple[str, str]], seed_texts: list[str]) -> None:
        seen = set().union(*(_grams(normalise(t).split()) for t in seed_texts)) if seed_texts else set()
        self.source: dict[tuple[str, ...], str] = {}
        for what, text in texts:
            for gram in _grams(normalise(text).split()):
                if gram not in seen:
                    self.source.setdefault(gram, what)

    def copied(self, text: str, run_words: int, share: float) -> tuple[str, str] | None:
        """(what was copied, the words) when ``text`` has a run of ``run_words`` words from the
        prompt, or ``share`` of its words lie in four-word runs from it."""
        words = normalise(text).split()
        if len(words) < NGRAM:
            return None
        covered = [False] * len(words)
        hits: list[int] = []
        for i in range(len(words) - NGRAM + 1):
            if tuple(words[i : i + NGRAM]) in self.source:
                hits.append(i)
                for j in range(i, i + NGRAM):
                    covered[j] = True
        if not hits:
            return None
        # the longest run of covered words
        best_start, best_len, start = 0, 0, None
        for i, flag in enumerate([*covered, False]):
            if flag and start is None:
                start = i
            elif not flag and start is not None:
                if i - start > best_len:
                    best_start, best_len = start, i - start
                start = None
        what = self.source[tuple(words[hits[0] : hits[0] + NGRAM])]
        run = " ".join(words[best_start : best_start + best_len])
        # one four-word phrase is not a copy (a short question may name the task's topic)
        if best_len >= run_words or (sum(covered) > NGRAM + 1 and sum(covered) >= share * len(words)):
            return what, run
        return None


# -- the check ----------------------------------------------------------------------------------------


def _lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip())


class StructureCheck(Check):
    def __init__(self, task, settings, seeds) -> None:
        self.task_type, self.settings = task.task_type, settings
        seed_fields = [self.task_type.text_fields(seed) for seed in seeds]
        seed_texts = [text for fields in seed_fields for text in fields.values()]
        # lines: the most any seed has, per field
        self.max_lines: dict[str, int] = {}
        for fields in seed_fields:
            for field, text in fields.items():
                self.max_lines[field] = max(self.max_lines.get(field, 1), _lines(text))
        # names: the task's own property values (labels, tools) no seed writes into its text
        names = {value for prop in self.task_type.own_properties(task.config) for value in prop.values}
        self.names = {
            name: pattern
            for name in sorted(names, key=len, reverse=True)
            if name.strip()
            for pattern in [name_pattern(name)]
            if not any(pattern.search(text) for text in seed_texts)
        }
        # endings: fields where every seed is a question
        self.endings: dict[str, str] = {}
        for field in {f for fields in seed_fields for f in fields}:
            ends = {fields[field].rstrip()[-1:] for fields in seed_fields if fields.get(field, "").strip()}
            count = sum(1 for fields in seed_fields if fields.get(field, "").strip())
            if ends == {"?"} and count >= MIN_SEEDS_FOR_ENDING:
                self.endings[field] = next(iter(ends))
        self.copies = PromptCopies(task.prompt_texts(), seed_texts)
        self.allowed_wrapping = {kind for kind in _WRAPPING for text in seed_texts if _WRAPPING[kind].search(text)}

    def check(self, record: dict) -> Verdict:
        settings = self.settings
        for field, text in self.task_type.text_fields(record).items():
            if settings.get("lines", True) and field in self.max_lines:
                lines, most = _lines(text), self.max_lines[field]
                # one line in every seed: a second is another example or commentary; multi-line
                # texts vary in length, so there only twice the seeds' most counts
                if lines > (most if most == 1 else 2 * most):
                    return Verdict.reject(
                        f"{field}: {lines} lines, no seed has more than {most} (several examples in one?)",
                        lines,
                        field=field,
                        check="lines",
                    )
            if settings.get("names", True):
                for name, pattern in self.names.items():
                    found = pattern.search(text)
                    if found:
                        return Verdict.reject(
                            f"{field}: names {name!r} ({found.group(0).strip()!r}), which no seed's text does",
                            field=field,
                            check="names",
                            name=name,
                        )
            if settings.get("copies", True):
                copied = self.copies.copied(text, settings.get("copy_words", 8), settings.get("copy_share", 0.6))
                if copied:
                    return Verdict.reject(
                        f"{field}: copies {copied[0]} ({copied[1]!r})", field=field, check="copies", copied=copied[1]
                    )
            if settings.get("preambles", True):
                wrapping = _wrapping(text, self.allowed_wrapping)
                if wrapping:
                    return Verdict.reject(
                        f"{field}: {wrapping[0]} left in ({wrapping[1][:60]!r})",
                        field=field,
                        check="preambles",
                        found=wrapping[1],
                    )
            ending = self.endings.get(field)
            if settings.get("endings", True) and ending and text.strip() and not text.rstrip().endswith(ending):
                return Verdict.reject(
                    f"{field}: not a question (ends with {text.rstrip()[-1]!r}); every seed's {field} ends with {ending!r}",
                    field=field,
                    check="endings",
                )
        return Verdict.accept()


class Structure(Validator):
    name = "structure"
    order = 15
    summary = (
        "Reject texts with more lines than any seed, a label or tool name no seed writes, copied "
        "description or prompt instructions, a teacher preamble / list marker left in, or a statement "
        "where every seed is a question."
    )
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "lines": {"type": "boolean", "default": True, "description": "more lines than any seed's same field"},
            "names": {"type": "boolean", "default": True, "description": "a label or tool name no seed writes"},
            "copies": {"type": "boolean", "default": True, "description": "copied description or instructions"},
            "endings": {
                "type": "boolean",
                "default": True,
                "description": "a text not ending with '?' where every seed's does",
            },
            "copy_words": {
                "type": "integer",
                "minimum": NGRAM,
                "default": 8,
                "description": "words in a row shared with the prompt texts that make a copy",
            },
            "copy_share": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 1,
                "default": 0.6,
                "description": "share of a text's words in four-word runs from the prompt texts that make a copy",
            },
            "preambles": {
                "type": "boolean",
                "default": True,
                "description": "teacher preambles, labels like 'Input:', list markers, markdown emphasis",
            },
        },
    }

    def prepare(self, seeds, settings, task):
        return StructureCheck(task, settings, seeds)


@hookimpl
def register_validators(register):
    register(Structure())
