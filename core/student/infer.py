"""Running a student: the base model, base + LoRA adapter, or a merged folder; batched greedy
generation with left padding. Used by ``germinate predict``, ``germinate serve`` and evaluation."""

from __future__ import annotations

import threading
from pathlib import Path

from germinate.problems import GerminateError
from germinate.run_folder import RunFolder, is_adapter, is_model
from germinate.settings import StudentSettings
from germinate.student.load import base_folder, load_model, load_tokenizer


def resolve_model(student: StudentSettings, run: RunFolder, which: str) -> tuple[str, Path | None]:
    """(base folder, adapter) for ``which``: "trained", "seeds" (the seed student), "base", or a
    path to a merged model or adapter folder."""
    if which in ("trained", "seeds"):
        folder = run.model(seeds_only=which == "seeds")
        if is_adapter(folder.adapter):
            return base_folder(student), folder.adapter
        raise GerminateError(
            f"{folder.path}: no trained adapter; run `germinate train"
            f"{' --seeds-only' if which == 'seeds' else ''}` first"
        )
    if which == "base":
        return base_folder(student), None
    path = Path(which)
    if is_adapter(path):
        return base_folder(student), path
    if is_model(path):
        return str(path), None
    raise GerminateError(f"--model {which}: expected trained, seeds, base, or a model/adapter folder")


class Student:
    """A student ready to answer: base weights, optionally with a LoRA adapter on top."""

    def __init__(
        self, base: str, adapter: Path | None = None, dtype: str | None = None, max_length: int | None = None
    ) -> None:
        self.tokenizer = load_tokenizer(
            str(adapter) if adapter and (adapter / "tokenizer_config.json").exists() else base
        )
        self.tokenizer.padding_side = "left"
        self.model = load_model(base, dtype, adapter)
        self.lock = threading.Lock()
        self.name = str(adapter or base)
        self.max_length = max_length

    @classmethod
    def load(cls, student: StudentSettings, adapter: Path | None = None) -> Student:
        return cls(base_folder(student), adapter, student.dtype, student.max_length)

    def prompt_budget(self, max_new_tokens: int) -> int:
        """The most prompt tokens that leave room for the answer in the student's context."""
        context = self.max_length or getattr(self.model.config, "max_position_embeddings", None) or 2048
        return max(1, context - (0 if self.max_length else max_new_tokens))

    def render(self, conversation: list[dict[str, str]], budget: int) -> str:
        """The prompt text; a conversation longer than ``budget`` tokens loses its oldest turns
        after the system message, and if the last turn alone is too long, its start."""
        messages = list(conversation)
        while True:
            text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            if len(ids) <= budget:
                return text
            first = 1 if messages and messages[0]["role"] == "system" else 0
            if len(messages) - first > 1:
                del messages[first]
                continue
            return self.tokenizer.decode(ids[len(ids) - budget :])

    def generate(
        self, conversations: list[list[dict[str, str]]], max_new_tokens: int = 128, batch_size: int = 8
    ) -> list[tuple[str, int, int]]:
        """(text, prompt tokens, completion tokens) per conversation, greedy."""
        import torch

        out: list[tuple[str, int, int]] = []
        for start in range(0, len(conversations), batch_size):
            batch = conversations[start : start + batch_size]
            prompts = [self.render(c, self.prompt_budget(max_new_tokens)) for c in batch]
            encoded = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
            with self.lock, torch.no_grad():
                generated = self.model.generate(
                    **encoded, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=self.tokenizer.pad_token_id
                )
            width = encoded["input_ids"].shape[1]
            for row, mask in zip(generated, encoded["attention_mask"]):
                new = row[width:]
                text = self.tokenizer.decode(new, skip_special_tokens=True).strip()
                produced = int((new != self.tokenizer.pad_token_id).sum())
                out.append((text, int(mask.sum()), produced))
        return out
