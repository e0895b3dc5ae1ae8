"""LoRA fine-tuning of the student on seeds + accepted synthetic examples.

Each record becomes chat messages through its task type (system: the task description, user: the
input, assistant: the output) in the student's own chat template; the loss covers the assistant's
tokens only. Batches are grouped by length and padded only to their own longest sequence, so
little compute goes to padding. A held-out slice gives a validation loss. Checkpoints are written
every ``save_steps`` and on Ctrl-C; ``germinate train`` resumes from the last one.

Nothing assumes one device or one process: under ``accelerate launch`` every process trains its
share of each batch and only the main one writes checkpoints, the adapter, the logs and
train_result.json. On a CUDA device the weights load in bf16 (fp16 where the GPU has no bf16) with
mixed precision, unless ``student.dtype`` says otherwise (:func:`choose_precision`).
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import torch
from peft import LoraConfig, get_peft_model
from transformers import PrinterCallback, Trainer, TrainerCallback, TrainingArguments, set_seed

from germinate.problems import GerminateError
from germinate.project.load import Project
from germinate.run_folder import ModelFolder, RunFolder, write_json
from germinate.settings import StudentSettings, TrainSettings
from germinate.student.load import base_folder, load_model, load_tokenizer
from germinate.student.messages import system_text

IGNORE = -100

#: progress(step, total steps, last loss or None, tokens per second)
ProgressFn = Callable[[int, int, "float | None", float], None]


@attrs.define
class TrainResult:
    """What one training run produced (also written as train_result.json)."""

    model_dir: str
    adapter: str
    resumed_from: str | None
    steps: int
    examples: int
    held_out: int
    losses: list[float]
    eval_losses: list[float]
    merged: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def load(cls, folder: ModelFolder) -> TrainResult:
        data = json.loads(folder.train_result.read_text(encoding="utf-8"))
        names = {a.name for a in attrs.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def encode(tokenizer: Any, messages: list[dict[str, str]], max_length: int) -> dict[str, list[int]] | None:
    """Token ids and labels (the prompt masked out); None when the example is too long."""
    prompt = tokenizer.apply_chat_template(messages[:-1], add_generation_prompt=True, tokenize=True)
    full = tokenizer.apply_chat_template(messages, tokenize=True)
    prompt = list(prompt["input_ids"] if isinstance(prompt, Mapping) else prompt)  # BatchEncoding in 5.x
    full = list(full["input_ids"] if isinstance(full, Mapping) else full)
    if full[: len(prompt)] != prompt:  # a template that re-renders earlier turns: append instead
        full = prompt + tokenizer(messages[-1]["content"] + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
    if len(full) > max_length:
        return None
    return {"input_ids": full, "labels": [IGNORE] * len(prompt) + full[len(prompt) :]}


def training_records(run: RunFolder, seeds_only: bool) -> list[dict]:
    rows = run.rows(run.accepted)
    if not rows:
        raise GerminateError(f"{run.accepted}: nothing to train on; run `germinate generate` first")
    return [r["record"] for r in rows if not seeds_only or r.get("source") == "seed"]


def main_process() -> bool:
    """Whether this is the process that writes and prints: the only one, or rank 0 of the processes
    ``accelerate launch`` (or torchrun) started, which each get RANK in their environment."""
    return int(os.environ.get("RANK", "0")) == 0


@attrs.frozen
class Precision:
    """How the student trains: the type its weights load in, and the mixed-precision mode."""

    #: student.dtype's value for the loaded weights (None: float32)
    dtype: str | None
    bf16: bool = False
    fp16: bool = False

    @property
    def name(self) -> str:
        mixed = "bf16 mixed" if self.bf16 else "fp16 mixed" if self.fp16 else "no mixed precision"
        return f"{self.dtype or 'float32'} weights, {mixed}"


def choose_precision(requested: str | None, cuda: bool, bf16_supported: bool) -> Precision:
    """``student.dtype`` when set; else bf16 on a CUDA device that has it, fp16 on one that does not,
    float32 on the CPU. On CUDA, half-precision weights train with the matching autocast (the LoRA
    weights themselves stay float32: peft keeps adapters in float32 over half-precision layers)."""
    if not cuda:
        return Precision(requested)  # the CPU has no fast fp16 and gains little from autocast
    if requested is None:
        requested = "bfloat16" if bf16_supported else "float16"
    if requested == "bfloat16":
        if not bf16_supported:
            raise GerminateError(
                "student.dtype: bfloat16 is not supported on this GPU; use float16, or leave it unset to choose"
            )
        return Precision("bfloat16", bf16=True)
    if requested == "float16":
        return Precision("float16", fp16=True)
    return Precision("float32")


def wants_cpu() -> bool:
    """No CUDA device, or ``accelerate launch --cpu`` asked for the CPU."""
    import torch

    forced = os.environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true", "yes")
    return forced or not torch.cuda.is_available()


class Collator:
    """Pads each batch to its own longest sequence (labels with -100)."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, features: list[dict[str, list[int]]]) -> dict[str, Any]:
        width = max(len(f["input_ids"]) for f in features)
        ids = [f["input_ids"] + [self.pad_id] * (width - len(f["input_ids"])) for f in features]
        labels = [f["labels"] + [IGNORE] * (width - len(f["labels"])) for f in features]
        mask = [[1] * len(f["input_ids"]) + [0] * (width - len(f["input_ids"])) for f in features]
        return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels), "attention_mask": torch.tensor(mask)}


def assistant_loss(model: Any, inputs: dict[str, Any], head: Any = None) -> Any:
    """Cross-entropy over the assistant's tokens only, running the LM head at those positions
    alone: the full (tokens x vocabulary) logits, the largest tensor of a small model's step, are
    never materialised. Same value as the model's own loss with prompt labels at -100.

    The forward pass goes through ``model`` itself, so a DistributedDataParallel wrapper (under
    ``accelerate launch``) sees it and synchronises the gradients; it keeps logits for one
    position only. ``head`` is the unwrapped model whose (frozen) LM head is then applied."""
    outputs = model(
        input_ids=inputs["input_ids"],
        attention_mask=inputs["attention_mask"],
        output_hidden_states=True,
        logits_to_keep=1,
    )
    unwrapped = head if head is not None else model
    base = unwrapped.get_base_model() if hasattr(unwrapped, "get_base_model") else unwrapped
    hidden = outputs.hidden_states[-1]  # after the final norm: what the LM head reads
    labels = inputs["labels"][:, 1:]
    keep = labels != IGNORE
    logits = base.get_output_embeddings()(hidden[:, :-1][keep])
    return torch.nn.functional.cross_entropy(logits.float(), labels[keep])


def last_checkpoint(folder: Path) -> Path | None:
    checkpoints = sorted(folder.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    return next((c for c in reversed(checkpoints) if (c / "trainer_state.json").exists()), None)


class AssistantLossTrainer(Trainer):
    """A Trainer whose loss is :func:`assistant_loss`, in training and in evaluation."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss = assistant_loss(model, inputs, self.accelerator.unwrap_model(model))
        return (loss, None) if return_outputs else loss

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad():
            return assistant_loss(model, inputs, self.accelerator.unwrap_model(model)).detach(), None, None


class LiveProgress(TrainerCallback):
    """Reports step, loss and tokens/s after every step; a Ctrl-C (SIGINT, caught by
    :meth:`interrupt`) asks for a checkpoint, then stops."""

    def __init__(self, progress: ProgressFn | None) -> None:
        self.progress = progress
        self.start = time.monotonic()
        self.tokens = 0
        self.interrupted = False

    def interrupt(self, *_: Any) -> None:
        self.interrupted = True

    def _any_interrupted(self, args: Any) -> bool:
        """Ctrl-C in any process stops all of them at the same step (one stopping alone would
        leave the others waiting for it in the next gradient exchange)."""
        if args.world_size <= 1:
            return self.interrupted
        flag = torch.tensor([1.0 if self.interrupted else 0.0], device=args.device)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        self.interrupted = bool(flag.item())
        return self.interrupted

    def count(self, features: list[dict[str, list[int]]]) -> None:
        self.tokens += sum(len(f["input_ids"]) for f in features)

    def on_step_end(self, args, state, control, **kwargs):
        if self._any_interrupted(args):
            control.should_save = True
            control.should_training_stop = True
        if self.progress is not None:
            elapsed = time.monotonic() - self.start
            loss = next((h["loss"] for h in reversed(state.log_history) if "loss" in h), None)
            self.progress(state.global_step, state.max_steps, loss, self.tokens / elapsed if elapsed else 0.0)


def _encoded(
    tokenizer: Any, project: Project, records: list[dict], max_length: int, system: str | None
) -> tuple[list[dict], int]:
    """Encoded examples that fit ``max_length``, and how many did not."""
    encoded, skipped = [], 0
    for record in records:
        item = encode(tokenizer, project.task_type.to_messages(record, system), max_length)
        if item is None:
            skipped += 1
        else:
            encoded.append(item)
    return encoded, skipped


def train(
    project: Project,
    run: RunFolder,
    settings: TrainSettings,
    student: StudentSettings,
    *,
    seeds_only: bool = False,
    repeat: int = 0,
    progress: ProgressFn | None = None,
) -> TrainResult:
    """Train one student (resuming from its last checkpoint) and write its adapter."""
    out = run.model(seeds_only, repeat)
    out.path.mkdir(parents=True, exist_ok=True)
    seed = settings.seed + repeat
    set_seed(seed)
    folder = base_folder(student)
    tokenizer = load_tokenizer(folder)
    system = system_text(project.task_type, project.config, settings.system_prompt)
    encoded, skipped = _encoded(tokenizer, project, training_records(run, seeds_only), settings.max_length, system)
    if len(encoded) < 2:
        raise GerminateError(
            f"{run.accepted}: only {len(encoded)} examples fit training.max_length {settings.max_length}; raise it in"
            " task.yaml (a preset never lowers it there) or set training.system_prompt: short"
        )
    random.Random(seed).shuffle(encoded)
    held = int(len(encoded) * settings.validation_split) if len(encoded) >= 10 else 0
    evaluation, training = encoded[:held], encoded[held:]

    use_cpu = wants_cpu()
    precision = choose_precision(student.dtype, not use_cpu, not use_cpu and torch.cuda.is_bf16_supported())
    model = get_peft_model(
        load_model(folder, precision.dtype),
        LoraConfig(
            r=settings.lora_rank,
            lora_alpha=settings.lora_alpha,
            lora_dropout=settings.lora_dropout,
            target_modules=list(settings.target_modules),
            task_type="CAUSAL_LM",
        ),
    )
    live = LiveProgress(progress if main_process() else None)
    collator = Collator(tokenizer.pad_token_id)

    def counting(features):
        live.count(features)
        return collator(features)

    args = TrainingArguments(
        output_dir=str(out.checkpoints),
        num_train_epochs=settings.epochs,
        learning_rate=settings.learning_rate,
        per_device_train_batch_size=settings.batch_size,
        per_device_eval_batch_size=settings.batch_size,
        gradient_accumulation_steps=settings.gradient_accumulation,
        train_sampling_strategy="group_by_length",
        logging_steps=1,
        save_steps=settings.save_steps,
        save_total_limit=2,
        eval_strategy="epoch" if evaluation else "no",
        report_to=[],
        seed=seed,
        data_seed=seed,
        disable_tqdm=True,
        remove_unused_columns=False,
        use_cpu=use_cpu,
        bf16=precision.bf16,
        fp16=precision.fp16,
    )
    trainer = AssistantLossTrainer(
        model=model,
        args=args,
        train_dataset=_Dataset(training),
        eval_dataset=_Dataset(evaluation) or None,
        data_collator=counting,
        callbacks=[live],
    )
    trainer.remove_callback(PrinterCallback)  # our progress line shows the loss; no raw dicts
    main = trainer.is_world_process_zero()  # the one process that writes files
    if main:
        write_json(
            out.train_config,
            {
                "student": student.model,
                "student_folder": folder,
                "seeds_only": seeds_only,
                "repeat": repeat,
                "examples": len(training),
                "held_out": len(evaluation),
                "skipped_too_long": skipped,
                **settings.as_dict(),
                "seed": seed,
                "dtype": precision.dtype,
                "precision": precision.name,
                "processes": args.world_size,
                "system_text": system,  # predict, serve and evaluate give the adapter exactly this
            },
        )
    previous = signal.signal(signal.SIGINT, live.interrupt)
    try:
        # every process resumes from the same checkpoint: the main one wrote it on a shared disk
        resume = last_checkpoint(out.checkpoints)
        trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    finally:
        signal.signal(signal.SIGINT, previous)
    if main:
        out.train_log.write_text("".join(json.dumps(h) + "\n" for h in trainer.state.log_history))
    if live.interrupted:
        raise KeyboardInterrupt
    if main:
        model.save_pretrained(out.adapter)
        tokenizer.save_pretrained(out.adapter)
    result = TrainResult(
        model_dir=str(out.path),
        adapter=str(out.adapter),
        resumed_from=str(resume) if resume else None,
        steps=trainer.state.global_step,
        examples=len(training),
        held_out=len(evaluation),
        losses=[h["loss"] for h in trainer.state.log_history if "loss" in h],
        eval_losses=[h["eval_loss"] for h in trainer.state.log_history if "eval_loss" in h],
    )
    if settings.merge:
        result.merged = str(out.merged)
        if main:
            merge(out)
    if main:
        write_json(out.train_result, result.as_dict())
    trainer.accelerator.wait_for_everyone()  # no process returns before the adapter is written
    return result


def merge(out: ModelFolder) -> Path:
    """Fold the adapter into the base weights: a plain HF model folder."""
    config = json.loads(out.train_config.read_text())
    model = load_model(config["student_folder"], config.get("dtype"), adapter=out.adapter).merge_and_unload()
    model.save_pretrained(out.merged)
    load_tokenizer(config["student_folder"]).save_pretrained(out.merged)
    return out.merged


class _Dataset:
    """A list of encoded examples, with lengths for length-grouped batching."""

    def __init__(self, items: list[dict[str, list[int]]]) -> None:
        self.items = [{**item, "length": len(item["input_ids"])} for item in items]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.items[index]

    def __bool__(self) -> bool:
        return bool(self.items)


def mean_loss(
    model: Any, tokenizer: Any, records: list[dict], task_type: Any, description: str | None, max_length: int = 1024
) -> float:
    """Mean assistant-token loss of ``model`` over ``records`` (evaluation and tests)."""
    collator = Collator(tokenizer.pad_token_id)
    losses = []
    with torch.no_grad():
        for record in records:
            item = encode(tokenizer, task_type.to_messages(record, description), max_length)
            if item is not None:
                losses.append(float(model(**collator([item])).loss))
    return sum(losses) / len(losses)
