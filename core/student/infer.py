"""Running a student: the base model, base + LoRA adapter, or a merged folder; batched greedy
generation with left padding. Used by ``germinate predict``, ``germinate serve`` and evaluation."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from germinate.problems import GerminateError
from germinate.student.load import hf_folder, load_model, load_tokenizer, student_source


def resolve_model(project_config: dict[str, Any], run_path: Path, which: str) -> tuple[str, Path | None]:
    """(base folder, adapter) for ``which``: "trained", "seeds" (the seed student), "base", or a
    path to a merged model or adapter folder."""
    base = hf_folder(student_source(project_config))
    if which == "base":
        return base, None
    if which in ("trained", "seeds"):
        folder = run_path / ("model" if which == "trained" else "model-seeds")
        if (folder / "adapter" / "adapter_config.json").exists():
            return base, folder / "adapter"
        raise GerminateError(f"{folder}: no trained adapter; run `germinate train"
                             f"{' --seeds-only' if which == 'seeds' else ''}` first")
    path = Path(which)
    if (path / "adapter_config.json").exists():
        return base, path
    if (path / "config.json").exists():
        return str(path), None
    raise GerminateError(f"--model {which}: expected trained, seeds, base, or a model/adapter folder")


class Student:
    def __init__(self, base: str, adapter: Path | None = None, dtype: str | None = None) -> None:
        self.tokenizer = load_tokenizer(str(adapter) if adapter and (adapter / "tokenizer_config.json").exists() else base)
        self.tokenizer.padding_side = "left"
        self.model = load_model(base, dtype, adapter)
        self.lock = threading.Lock()
        self.name = str(adapter or base)

    def generate(self, conversations: list[list[dict[str, str]]], max_new_tokens: int = 128,
                 batch_size: int = 8) -> list[tuple[str, int, int]]:
        """(text, prompt tokens, completion tokens) per conversation, greedy."""
        import torch

        out: list[tuple[str, int, int]] = []
        for start in range(0, len(conversations), batch_size):
            batch = conversations[start:start + batch_size]
            prompts = [self.tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False) for c in batch]
            encoded = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
            with self.lock, torch.no_grad():
                generated = self.model.generate(**encoded, max_new_tokens=max_new_tokens, do_sample=False,
                                                pad_token_id=self.tokenizer.pad_token_id)
            width = encoded["input_ids"].shape[1]
            for row, mask in zip(generated, encoded["attention_mask"]):
                new = row[width:]
                text = self.tokenizer.decode(new, skip_special_tokens=True).strip()
                produced = int((new != self.tokenizer.pad_token_id).sum())
                out.append((text, int(mask.sum()), produced))
        return out


def prompt_messages(task_type: Any, record: dict, description: str) -> list[dict[str, str]]:
    return task_type.to_messages(record, description)[:-1]
