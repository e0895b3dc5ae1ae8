"""Wrong answers close to a right one, for calibrating the judge: a judge that passes these is
reading the answer's surface, not checking its facts.

A text answer gets its yes/no flipped or its numbers changed; a sentence gets a "not" after its
verb (or another answer's second half); a short answer gets a name swapped for a name from
another item's answer, or another item's answer; a JSON answer gets one field changed (a number, a date, a
name from another item, an enum value from another item) or, failing that, one list item or key
dropped. The result always differs from the reference after normalisation, or is None when no
perturbation applies.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

_NUMBER = re.compile(r"\d+")
_NAME = re.compile(r"\b[A-Z][\w'.-]*(?:\s+(?:of\s+|de\s+|von\s+)?[A-Z][\w'.-]*)*")
_VERB = re.compile(r"\b(is|was|are|were|has|had|can|will|did|does)\b")
_YES_NO = {"yes": "no", "no": "yes"}


def perturb(reference: str, others: list[str], rng: random.Random) -> str | None:
    """A wrong answer near ``reference``; ``others`` are other items' answers to borrow from."""
    text = reference.strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if isinstance(value, (dict, list)):
        changed = _perturb_json(value, [_parse(o) for o in others], rng)
        return None if changed is None else json.dumps(changed, ensure_ascii=False)
    if not text:
        # the reference says "no answer": any other item's answer is wrong
        borrowed = [o for o in others if o.strip()]
        return rng.choice(borrowed) if borrowed else None
    return _perturb_text(text, others, rng)


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def shift_numbers(text: str, rng: random.Random) -> str:
    """Every number in ``text`` changed to a different one (a digit to another digit)."""

    def change(match: re.Match[str]) -> str:
        number = int(match.group())
        return str(number + rng.randint(1, 9) if number >= 10 else rng.choice([d for d in range(10) if d != number]))

    return _NUMBER.sub(change, text)


def _is_name(text: str, match: re.Match[str]) -> bool:
    """A capitalised span that is a name, not just a sentence's first word ("The", "While")."""
    if " " in match.group().strip():
        return True
    before = text[: match.start()].rstrip()
    return bool(before) and before[-1] not in ".!?:;\n"


def _perturb_text(text: str, others: list[str], rng: random.Random) -> str | None:
    lowered = text.lower().strip(" .!")
    if lowered in _YES_NO:
        flipped = _YES_NO[lowered]
        return flipped.capitalize() if text[:1].isupper() else flipped
    if _NUMBER.search(text):
        return shift_numbers(text, rng)
    words = text.split()
    if len(words) > 6:
        # a sentence: contradict it, or finish it with another answer's second half
        verb = _VERB.search(text)
        if verb:
            return text[: verb.end()] + " not" + text[verb.end() :]
        donors = [o.split() for o in others if len(o.split()) > 6 and o.strip().lower() != lowered]
        if donors:
            donor = rng.choice(donors)
            return " ".join(words[: len(words) // 2] + donor[len(donor) // 2 :])
    names = [m for m in _NAME.finditer(text) if _is_name(text, m)]
    foreign = [
        m.group() for o in others for m in _NAME.finditer(o) if _is_name(o, m) and m.group().lower() not in text.lower()
    ]
    if names and foreign:
        target = max(names, key=lambda m: len(m.group()))
        return text[: target.start()] + rng.choice(foreign) + text[target.end() :]
    borrowed = [o for o in others if o.strip() and o.strip().lower() != text.lower()]
    return rng.choice(borrowed) if borrowed else None


def _leaves(value: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i))]
    return [(path, value)]


def _shape(path: tuple) -> tuple:
    """A leaf's path with list indexes blurred, to find the same kind of field in other answers."""
    return tuple("[]" if isinstance(p, int) else p for p in path)


def _set(value: Any, path: tuple, new: Any) -> Any:
    copy = json.loads(json.dumps(value))
    node = copy
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new
    return copy


def _perturb_json(value: Any, others: list[Any], rng: random.Random) -> Any:
    leaves = [(p, v) for p, v in _leaves(value) if p and v is not None]
    rng.shuffle(leaves)
    pool: dict[tuple, list[Any]] = {}
    for other in others:
        for path, leaf in _leaves(other):
            pool.setdefault(_shape(path), []).append(leaf)
    for path, leaf in leaves:
        if isinstance(leaf, bool):
            return _set(value, path, not leaf)
        if isinstance(leaf, (int, float)):
            return _set(value, path, leaf + rng.randint(1, 9))
        if isinstance(leaf, str) and _NUMBER.search(leaf):
            return _set(value, path, shift_numbers(leaf, rng))
        if isinstance(leaf, str):
            choices = [o for o in pool.get(_shape(path), []) if isinstance(o, str) and o.lower() != leaf.lower()]
            if choices:
                return _set(value, path, rng.choice(choices))
    return _drop_one(value, rng)


def _drop_one(value: Any, rng: random.Random) -> Any:
    """The value with one list item or one key removed (None when it has neither)."""
    paths = [p for p, v in _containers(value) if v]
    if not paths:
        return None
    path = rng.choice(paths)
    copy = json.loads(json.dumps(value))
    node = copy
    for step in path:
        node = node[step]
    if isinstance(node, list):
        node.pop(rng.randrange(len(node)))
    else:
        node.pop(rng.choice(sorted(node)))
    return copy


def _containers(value: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    found: list[tuple[tuple, Any]] = []
    if isinstance(value, (dict, list)):
        found.append((path, value))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            found += _containers(item, (*path, key))
    return found
