"""A run's folder under ``PROJECT/runs/<name>/``: the one place that spells its layout.

properties.json   prior, the seeds' property labels, posterior
candidates.jsonl  every candidate in generation order (the source of truth):
                  {"id", "record" (null if the teacher's text could not be parsed), "raw",
                   "error", "theta", "teacher", "prompt_hash"}
accepted.jsonl    seeds and accepted candidates: {"id", "source", "record", "theta", ...}
rejected.jsonl    the rejection ledger: {"id", "validator", "reason", "score", "nearest_anchor",
                   "raw", "record", "theta"}
validation.json   per-validator summary and the settings that produced it
coverage.json     the share of each property value among accepted examples
reviews.jsonl     a person's decisions per candidate id (reject, accept, fix), honoured by every
                  rebuild of accepted.jsonl / rejected.jsonl
model/, model-r1/, model-seeds/, model-seeds-r1/ ...
                  one trained student each (see :class:`ModelFolder`)
eval/raw/         raw predictions per evaluated model, with their fingerprint
eval/predictions/ scored predictions per evaluated model
report.md, report.json, report.png
pipeline.json     `germinate run`'s log: stage times, counts, faults, cost
predictions.jsonl `germinate predict`'s default output
export/           `germinate export`'s default destination (see :class:`ExportFolder`)
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import attrs

from germinate.files import inside
from germinate.jsonl import read_log
from germinate.problems import GerminateError, Problem
from germinate.settings import InputLimits

DEFAULT_RUN = "default"
_RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_run_name(name: str) -> str:
    """A run name is one plain folder name: no separators, no '..', nothing hidden."""
    if not _RUN_NAME.fullmatch(name) or ".." in name:
        raise GerminateError(
            Problem(
                "--run",
                None,
                None,
                f"{name!r} is not a run name: use letters, digits, '.', '_' and '-' "
                f"(at most 100, starting with a letter or digit)",
            )
        )
    return name


@attrs.frozen
class ModelFolder:
    """One trained student: ``model[-seeds][-r<repeat>]/``."""

    path: Path

    @property
    def adapter(self) -> Path:
        """The LoRA adapter (peft format) with the student's tokenizer."""
        return self.path / "adapter"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def merged(self) -> Path:
        """The adapter folded into the base weights: a plain Hugging Face model folder."""
        return self.path / "merged"

    @property
    def train_config(self) -> Path:
        return self.path / "train_config.json"

    @property
    def train_result(self) -> Path:
        return self.path / "train_result.json"

    @property
    def train_log(self) -> Path:
        return self.path / "train_log.jsonl"

    @property
    def trained(self) -> bool:
        """Training finished: its result is written and the adapter is complete."""
        return self.train_result.exists() and is_adapter(self.adapter)


def is_adapter(folder: Path) -> bool:
    """A peft adapter folder (as opposed to a full model folder)."""
    return (folder / "adapter_config.json").exists()


def is_model(folder: Path) -> bool:
    """A Hugging Face model folder."""
    return (folder / "config.json").exists()


@attrs.frozen
class DataExport:
    """The accepted set as a Hugging Face dataset folder (the Hub's layout: a card and parquet
    under data/) with the same rows as chat JSONL in OpenAI's fine-tuning layout beside it."""

    path: Path

    @property
    def card(self) -> Path:
        """The dataset card: provenance, counts, columns, how to load it."""
        return self.path / "README.md"

    @property
    def parquet(self) -> Path:
        return self.path / "data" / "train-00000-of-00001.parquet"

    @property
    def chat(self) -> Path:
        """``{"messages": [...]}`` per line: OpenAI's fine-tuning layout, which TRL, Axolotl,
        Unsloth and LLaMA-Factory read as it is."""
        return self.path / "chat.jsonl"


@attrs.frozen
class ExportFolder:
    """``germinate export``'s destination: one folder per format."""

    path: Path

    def gguf(self, name: str, quant: str) -> Path:
        """A single GGUF file of the student, quantised as ``quant``."""
        return self.path / "gguf" / f"{name}-{quant}.gguf"

    @property
    def ollama(self) -> Path:
        """The GGUF, a Modelfile and a README with the two commands to create and run it."""
        return self.path / "ollama"

    @property
    def merged(self) -> Path:
        """The merged student: a Hugging Face model folder with a model card."""
        return self.path / "merged"

    @property
    def adapter(self) -> Path:
        """The LoRA adapter (peft format) with a model card."""
        return self.path / "adapter"

    @property
    def data(self) -> DataExport:
        return DataExport(self.path / "data")


def model_card(folder: Path) -> Path:
    """The model card (README.md) of an exported model folder."""
    return folder / "README.md"


def modelfile(folder: Path) -> Path:
    """An Ollama Modelfile in an exported folder."""
    return folder / "Modelfile"


@attrs.frozen
class RunFolder:
    path: Path
    #: caps on what is read back (``limits.run_files_mb``)
    limits: InputLimits = attrs.field(factory=InputLimits, eq=False)

    @classmethod
    def of(cls, project_root: Path, name: str = DEFAULT_RUN, limits: InputLimits | None = None) -> RunFolder:
        """``PROJECT/runs/<name>``; the name must be a plain folder name (see :func:`check_run_name`)."""
        return cls(Path(project_root) / "runs" / check_run_name(name), limits or InputLimits())

    # -- generation and validation -----------------------------------------------------------

    @property
    def properties(self) -> Path:
        return self.path / "properties.json"

    @property
    def candidates(self) -> Path:
        return self.path / "candidates.jsonl"

    @property
    def accepted(self) -> Path:
        return self.path / "accepted.jsonl"

    @property
    def rejected(self) -> Path:
        return self.path / "rejected.jsonl"

    @property
    def validation_summary(self) -> Path:
        return self.path / "validation.json"

    @property
    def coverage(self) -> Path:
        return self.path / "coverage.json"

    @property
    def reviews(self) -> Path:
        """A person's decisions, one per line, keyed by candidate id (see germinate.validate.review)."""
        return self.path / "reviews.jsonl"

    # -- students ------------------------------------------------------------------------------

    def model(self, seeds_only: bool = False, repeat: int = 0) -> ModelFolder:
        """The trained student on seeds + accepted data, or on the seeds alone, for one repeat."""
        name = "model-seeds" if seeds_only else "model"
        return ModelFolder(self.path / (name if repeat == 0 else f"{name}-r{repeat}"))

    # -- evaluation and reports ----------------------------------------------------------------

    @property
    def eval(self) -> Path:
        return self.path / "eval"

    @property
    def raw_predictions(self) -> Path:
        """Raw predictions per evaluated model, each with the fingerprint it was made under."""
        return self.eval / "raw"

    @property
    def predictions(self) -> Path:
        """Scored predictions per evaluated model (``<model>.jsonl``)."""
        return self.eval / "predictions"

    def raw_predictions_of(self, model: str) -> Path:
        return self.raw_predictions / f"{model}.json"

    def predictions_of(self, model: str) -> Path:
        return self.predictions / f"{model}.jsonl"

    @property
    def pipeline_log(self) -> Path:
        return self.path / "pipeline.json"

    @property
    def predict_output(self) -> Path:
        return self.path / "predictions.jsonl"

    @property
    def export(self) -> ExportFolder:
        return ExportFolder(self.path / "export")

    # -- reading ---------------------------------------------------------------------------------

    def contained(self) -> RunFolder:
        """This run, once it is known to lie inside its project: ``runs/`` or the run linked to
        somewhere outside it is refused (a run reads and writes only inside its project)."""
        if not inside(self.path, self.path.parent.parent):
            raise GerminateError(
                Problem(
                    str(self.path), None, None, "a link that leads out of the project; a run folder must be inside it"
                )
            )
        return self

    def ensure(self) -> RunFolder:
        """Create the folder (inside its project, see :meth:`contained`)."""
        self.contained().path.mkdir(parents=True, exist_ok=True)
        return self

    def rows(self, path: Path) -> list[dict[str, Any]]:
        """The rows of one of the run's JSONL files (a torn last line is left out), read bounded
        by ``limits.run_files_mb``."""
        self.contained()
        return read_log(path, limit=self.limits.bytes("run_files_mb"), setting="limits.run_files_mb")


def report_path(folder: Path, kind: str) -> Path:
    """A report file in ``folder`` (a run folder, or bench's work folder)."""
    if kind not in ("md", "json", "png"):
        raise ValueError(f"no report of kind {kind!r}")
    return folder / f"report.{kind}"


def write_json(path: Path, data: Any) -> None:
    """Replace a JSON file atomically; a write that fails leaves no temporary file behind."""
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
