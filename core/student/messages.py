"""What the student reads: its system message, decided in one place from ``training.system_prompt``.

``description`` (the task description, as the paper does), ``short`` (a compact form the task type
builds, such as the label list: most training tokens of a short-input task are otherwise the
description repeated in every example) or ``none``. Training records the exact text in the model
folder's train_config.json (``system_text``); predict, serve and evaluation read it back, so a
trained adapter always sees what it was trained with. The untuned base student, and adapters
trained before the setting existed, get the description. Import-light: no torch here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from germinate.run_folder import ModelFolder

SYSTEM_PROMPTS = ("description", "short", "none")


def system_text(task_type: Any, config: dict[str, Any], mode: str) -> str | None:
    """The student's system message under ``training.system_prompt`` = ``mode``; None: none."""
    if mode == "description":
        return config["description"]
    if mode == "short":
        return task_type.short_prompt(config)
    if mode == "none":
        return None
    raise ValueError(f"training.system_prompt: {mode!r} is not one of {', '.join(SYSTEM_PROMPTS)}")


def trained_system(adapter: Path | None, config: dict[str, Any]) -> str | None:
    """The system message the adapter was trained with (its train_config.json); the description
    for the base student or an adapter without that record."""
    if adapter is not None:
        record = ModelFolder(Path(adapter).parent).train_config
        if record.exists():
            saved = json.loads(record.read_text(encoding="utf-8"))
            if "system_text" in saved:
                return saved["system_text"]
    return config["description"]


def prompt_messages(task_type: Any, record: dict, system: str | None) -> list[dict[str, str]]:
    """The chat the student answers: its system message (if any) and the record's user turn."""
    return task_type.prompt_messages(record, system)
