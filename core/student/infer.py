"""Running a student: the base model, base + LoRA adapter, or a merged folder; batched greedy
generation with left padding. Used by ``germinate predict``, ``germinate serve`` and evaluation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
        self._longest_token: int | None = None

    @classmethod
    def load(cls, student: StudentSettings, adapter: Path | None = None) -> Student:
        return cls(base_folder(student), adapter, student.dtype, student.max_length)

    def prompt_budget(self, max_new_tokens: int, cap: int | None = None) -> int:
        """The most prompt tokens that leave room for the answer in the student's context (and at
        most ``cap``)."""
        context = self.max_length or getattr(self.model.config, "max_position_embeddings", None) or 2048
        budget = max(1, context - (0 if self.max_length else max_new_tokens))
        return min(budget, cap) if cap else budget

    @property
    def longest_token(self) -> int:
        """Characters in the longest token of the vocabulary: text longer than ``budget`` times this
        cannot fit ``budget`` tokens, so it is cut before it is ever tokenized."""
        if self._longest_token is None:
            vocabulary = self.tokenizer.get_vocab()
            self._longest_token = max(1, max(map(len, vocabulary), default=1))
        return self._longest_token

    def render(self, conversation: list[dict[str, str]], budget: int) -> str:
        """The prompt text; a conversation longer than ``budget`` tokens loses its oldest turns
        after the system message, and if the last turn alone is too long, its start.

        Work stays bounded whatever the conversation's size: text that could never fit is cut by
        characters first, then the number of turns to drop is found by bisection."""
        messages = _cut_by_characters(list(conversation), budget * self.longest_token)
        first = 1 if messages and messages[0]["role"] == "system" else 0

        def rendered(drop: int) -> tuple[str, list[int]]:
            kept = messages[:first] + messages[first + drop :]
            text = self.tokenizer.apply_chat_template(kept, add_generation_prompt=True, tokenize=False)
            return text, self.tokenizer(text, add_special_tokens=False)["input_ids"]

        text, ids = rendered(0)
        if len(ids) <= budget:
            return text
        low, high = 1, max(0, len(messages) - first - 1)  # drop at most all turns but the last
        best: tuple[str, list[int]] | None = None
        while low <= high:  # the fewest oldest turns whose dropping fits the budget
            middle = (low + high) // 2
            text, ids = rendered(middle)
            if len(ids) <= budget:
                best, high = (text, ids), middle - 1
            else:
                low = middle + 1
        if best is not None:
            return best[0]
        text, ids = rendered(max(0, len(messages) - first - 1))
        return self.tokenizer.decode(ids[len(ids) - budget :])

    def generate(
        self,
        conversations: list[list[dict[str, str]]],
        max_new_tokens: int = 128,
        batch_size: int = 8,
        max_prompt_tokens: int | None = None,
    ) -> list[tuple[str, int, int]]:
        """(text, prompt tokens, completion tokens) per conversation, greedy."""
        import torch

        out: list[tuple[str, int, int]] = []
        budget = self.prompt_budget(max_new_tokens, max_prompt_tokens)
        for start in range(0, len(conversations), batch_size):
            batch = conversations[start : start + batch_size]
            prompts = [self.render(c, budget) for c in batch]
            encoded = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
            encoded = encoded.to(self.model.device)
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

    def stream(
        self,
        conversation: list[dict[str, str]],
        max_new_tokens: int,
        max_prompt_tokens: int | None = None,
        cancel: threading.Event | None = None,
    ) -> Streamed:
        """Greedy generation for one conversation, text piece by piece as it is produced. Setting
        ``cancel`` (the client went away) stops it at the next token and frees the student."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        prompt = self.render(conversation, self.prompt_budget(max_new_tokens, max_prompt_tokens))
        encoded = self.tokenizer([prompt], return_tensors="pt", add_special_tokens=False).to(self.model.device)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        stop = cancel or threading.Event()

        class Cancelled(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)

        streamed = Streamed(prompt_tokens=int(encoded["input_ids"].shape[1]))

        def work() -> None:
            try:
                with self.lock, torch.no_grad():
                    output = self.model.generate(
                        **encoded,
                        max_new_tokens=max_new_tokens,
                        do_sample=False,
                        pad_token_id=self.tokenizer.pad_token_id,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([Cancelled()]),
                    )
                new = output[0, streamed.prompt_tokens :]  # counted as generate() counts them
                streamed.completion_tokens = int((new != self.tokenizer.pad_token_id).sum())
            except BaseException as exc:  # handed to the reader, who must not wait forever
                streamed.error = exc
                streamer.end()

        worker = threading.Thread(target=work, name="germinate-generate", daemon=True)
        worker.start()
        streamed.pieces = _pieces(streamer, worker)
        return streamed


class Streamed:
    """One streamed answer: iterate ``pieces``; afterwards the token counts are set (or ``error``
    raised by the iteration)."""

    def __init__(self, prompt_tokens: int) -> None:
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = 0
        self.error: BaseException | None = None
        self.pieces: Iterator[str] = iter(())


def _pieces(streamer: Any, worker: threading.Thread) -> Iterator[str]:
    try:
        for piece in streamer:
            if piece:
                yield piece
    finally:
        worker.join()


def _cut_by_characters(messages: list[dict[str, str]], limit: int) -> list[dict[str, str]]:
    """At most ``limit`` characters of content: the newest turns first, then the end of the turn
    that crosses the limit; the system message keeps its end too."""
    first = 1 if messages and messages[0]["role"] == "system" else 0
    kept: list[dict[str, str]] = []
    room = limit
    for message in reversed(messages[first:]):
        if room <= 0:
            break
        content = message["content"]
        kept.append({**message, "content": content[-room:]} if len(content) > room else message)
        room -= len(content)
    kept.reverse()
    if first:
        system = messages[0]
        kept.insert(0, {**system, "content": system["content"][-limit:]})
    return kept
