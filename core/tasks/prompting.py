"""Small helpers task types share when writing generation prompts."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any, Protocol

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
    """One numbered line per example naming its θ (``1. complexity: simple; label: location``):
    the varied tail of a listed prompt. What each value asks for is said once, in the fixed
    system message (:func:`property_legend`); a short request is also one a weak teacher does not
    copy as its answer. The reply is read back with germinate.tasks.parsing.numbered_items."""
    return "\n".join(
        f"{i}. " + "; ".join(f"{name}: {value}" for name, value in e.theta.items()) for i, e in enumerate(examples, 1)
    )


def property_legend(properties: list[Any]) -> str:
    """The mutation instruction of every value of the properties the teacher varies (complexity,
    length, topic), for the system message every call shares; the task's own properties (label,
    tool) speak for themselves. Empty when there are none."""
    lines = [
        f'- "{prop.name}: {value}": {prop.instruction(value)}'
        for prop in properties
        if prop.source != "record"
        for value in prop.values
    ]
    return ("Each request also says how its example should be written:\n" + "\n".join(lines)) if lines else ""


def list_stop(count: int) -> list[str]:
    """Stop sequences that end a numbered-list reply after ``count`` items instead of letting
    the model go on writing more."""
    return [f"\n{count + 1}.", f"\n{count + 1})"]


class HasTask(Protocol):
    """A project, or a validator's TaskContext: what the teacher's k-shot prompt is built from."""

    @property
    def task_type(self) -> Any: ...

    @property
    def config(self) -> dict[str, Any]: ...


def teacher_shots(seeds: list[dict], k: int, seed: int) -> list[dict]:
    """The ``k`` seeds a prompted teacher sees as examples, a fixed draw per ``seed`` (evaluation's
    ``k_shot`` and ``seed``)."""
    return random.Random(seed).sample(seeds, min(k, len(seeds)))


def teacher_messages(project: HasTask, shots: list[dict], record: dict) -> list[dict[str, str]]:
    """The prompt a teacher answers ``record`` with when it acts as the task's model: the
    description (plus the task type's reference material, such as a tool catalog) as system
    message, the shots as earlier turns, then the record's user turn. Evaluation scores the
    teacher with it; the agreement validator asks it about candidates."""
    task = project.task_type
    extra = task.reference_material(project.config)
    system = project.config["description"] + (f"\n\n{extra}" if extra else "")
    messages = [{"role": "system", "content": system}]
    for shot in shots:
        messages += [
            {"role": "user", "content": task.prompt_text(shot)},
            {"role": "assistant", "content": task.target_text(shot)},
        ]
    return messages + [{"role": "user", "content": task.prompt_text(record)}]
