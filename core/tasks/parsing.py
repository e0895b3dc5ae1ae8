"""Getting records out of a teacher's free text: JSON with prose around it, code fences,
single trailing commas, or the last closing brackets missing (a model stopping one token early).
Nothing here ever evaluates model output."""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


class ParseError(ValueError):
    """The teacher's text holds no usable record; the message says why (it lands in the ledger)."""


def _close(text: str) -> str:
    """Append the closing quotes/brackets a truncated JSON value is missing."""
    stack, in_string, escaped = [], False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]" and stack:
            stack.pop()
    return text + ('"' if in_string else "") + "".join(reversed(stack))


def extract_json(text: str, want: type = dict) -> Any:
    """The first JSON value of type ``want`` in ``text``; raises ParseError saying what was wrong."""
    if not text or not text.strip():
        raise ParseError("empty reply")
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    opener = "{" if want is dict else "["
    truncated = False
    for candidate in candidates:
        for start in [i for i, c in enumerate(candidate) if c == opener]:
            chunk = candidate[start:]
            for attempt in (chunk, _TRAILING_COMMA.sub(r"\1", chunk)):
                try:
                    value, _ = decoder.raw_decode(attempt)
                except json.JSONDecodeError:
                    continue
                if isinstance(value, want):
                    return value
            repaired = _close(_TRAILING_COMMA.sub(r"\1", chunk.rstrip().rstrip(",")))
            try:
                value, _ = decoder.raw_decode(repaired)
            except json.JSONDecodeError:
                truncated = True
                continue
            if isinstance(value, want):
                return value
    kind = "object" if want is dict else "array"
    raise ParseError(f"no JSON {kind} in the reply" + (" (it looks cut off)" if truncated else ""))


# a first line that only announces the text: "Sure, here is one:", "Below is a new input:", "The
# new text will be:" (the structure validator rejects such lines left inside an input; dropping
# them here keeps the example behind them)
_PREAMBLE = re.compile(
    r"^(?:(?:sure|certainly|of course|absolutely|okay|ok|here|below)\b[^\n]{0,120}|"
    r"(?:(?:the|a|an)\s+)?(?:new|following|generated|rewritten|modified|revised|updated|sample)\s+"
    r"(?:\w+\s+){0,3}?(?:text|example|input|question|request|message|sentence|query|utterance|prompt|document)s?"
    r"\b[^\n:]{0,40}):\s*$",
    re.I,
)
_REFUSAL = re.compile(r"^(?:i'?m sorry|i am sorry|i cannot|i can'?t|as an ai)\b", re.I)
_PREFIX = re.compile(r"^(?:(?:new )?(?:input|text|example|question|request)\s*(?:text)?\s*:\s*)", re.I)


def plain_text(text: str, whole: bool = False) -> str:
    """A reply that should be just a text: drop a leading 'Input:' label, wrapping quotes and
    (unless ``whole``) anything after the first blank line (models like to add explanations)."""
    if not text or not text.strip():
        raise ParseError("empty reply")
    body = text.strip()
    if _REFUSAL.match(body):
        raise ParseError("the teacher refused")
    first, _, rest = body.partition("\n")
    if _PREAMBLE.match(first.strip()) and rest.strip():  # "Certainly! Here's a new text:"
        body = rest.strip()
    body = body if whole else body.split("\n\n")[0].strip()
    body = _PREFIX.sub("", body).strip()
    if len(body) >= 2 and body[0] == body[-1] and body[0] in "\"'“”":
        body = body[1:-1].strip()
    if not body:
        raise ParseError("empty reply after removing labels and quotes")
    return body


# "1. ", "2) ", "**3.**", "### 4:", "Example 5:", "Input 6 -", at the start of a line
_MARKER = re.compile(
    r"^[ \t]*(?:[*_#>]+[ \t]*)?(?:(?:example|input|text|item|request|question)[ \t]*#?[ \t]*)?"
    r"(\d{1,2})[ \t]*(?:[.):\]]|[ \t]-)[*_]*[ \t]*",
    re.I | re.M,
)
_BULLET = re.compile(r"^[ \t]*[-*•][ \t]+", re.M)


def numbered_items(text: str, count: int) -> list[str | None]:
    """The items 1..``count`` of a numbered-list reply, each with its marker removed; None for an
    item the reply lacks. Markers count only in rising order (a skipped number leaves that item
    missing), so a lower number inside an item's own text never splits it; text before the first
    item (a preamble) and items past ``count`` are dropped. A reply without numbers is read as a
    bulleted list; a one-item call's unnumbered reply is that item."""
    marks: list[tuple[int, re.Match[str]]] = []
    for match in _MARKER.finditer(text or ""):
        number = int(match.group(1))
        if (marks[-1][0] if marks else 0) < number <= count + 1:
            marks.append((number, match))
            if number > count:
                break
    if not marks:
        marks = [(n, m) for n, m in enumerate(_BULLET.finditer(text or ""), 1)][: count + 1]
    if not marks:
        return [text if count == 1 and text and text.strip() else None] + [None] * (count - 1)
    items: list[str | None] = [None] * count
    for i, (number, match) in enumerate(marks):
        if number > count:
            break
        end = marks[i + 1][1].start() if i + 1 < len(marks) else len(text)
        items[number - 1] = text[match.end() : end].strip() or None
    return items
