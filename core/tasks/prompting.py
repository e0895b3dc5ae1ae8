"""Small helpers task types share when writing generation prompts."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

SYSTEM = (
    "You write realistic, varied training examples for a machine-learning task. "
    "Follow the instructions exactly and reply in the requested format only."
)


def chat(user: str, system: str = SYSTEM) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def bullet_list(items: list[str], limit: int = 400) -> str:
    out = []
    for item in items:
        item = " ".join(item.split())
        out.append("- " + (item if len(item) <= limit else item[: limit - 3] + "..."))
    return "\n".join(out) or "- (none)"


def split_pick(seeds: list[dict], is_target: Callable[[dict], bool], k: int, rng: random.Random) -> list[dict]:
    """About half the shown seeds from the target group (class, tool), the rest from others."""
    target = [s for s in seeds if is_target(s)]
    others = [s for s in seeds if not is_target(s)]
    take = min(len(target), max(1, math.ceil(k / 2)))
    picked = rng.sample(target, take) + rng.sample(others, min(len(others), k - take))
    return picked


def targets_and_others(shown: list[dict], is_target: Callable[[dict], bool]) -> tuple[list[Any], list[Any]]:
    return [s for s in shown if is_target(s)], [s for s in shown if not is_target(s)]


def numbered_requests(examples: list[Any]) -> str:
    """One numbered line per example with its mutation instructions: the varied tail of a listed
    prompt. The reply is read back with germinate.tasks.parsing.numbered_items."""
    return "\n".join(f"{i}. {' '.join(e.instructions.split())}" for i, e in enumerate(examples, 1))


def list_stop(count: int) -> list[str]:
    """Stop sequences that end a numbered-list reply after ``count`` items instead of letting
    the model go on writing more."""
    return [f"\n{count + 1}.", f"\n{count + 1})"]
