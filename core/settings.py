"""Every knob of a run, in one import-light module: the settings classes of the student,
generation, training and evaluation, the size presets, and the merge that builds them.

A value comes from, in rising precedence: the class default, task.yaml's section of the same name,
the chosen preset (``--quick``), the command line. Each field carries the JSON Schema of its
task.yaml value in its metadata, and :func:`section_schema` builds task.yaml's schema sections from
them, so every setting is settable and no accepted key is ignored. Only attrs is imported here: the
CLI reads the presets at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

_POSITIVE_INT = {"type": "integer", "minimum": 1}
_POSITIVE = {"type": "number", "exclusiveMinimum": 0}
_PROBABILITY = {"type": "number", "minimum": 0, "maximum": 1}


def setting(default: Any = None, *, schema: dict[str, Any], factory: Any = None, help: str = "") -> Any:
    """An attrs field whose task.yaml value must match ``schema``."""
    metadata = {"schema": {**schema, **({"description": help} if help else {})}}
    if factory is not None:
        return attrs.field(factory=factory, metadata=metadata)
    return attrs.field(default=default, metadata=metadata)


@attrs.define
class Settings:
    """Base of the settings classes: built from a task.yaml section plus overrides."""

    #: the task.yaml section these settings live under
    section: ClassVar[str] = ""

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None, **overrides: Any):
        """task.yaml's values, then every override that is not None (None: not given)."""
        names = {a.name for a in attrs.fields(cls)}
        values = {k: v for k, v in (section or {}).items() if k in names}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.define
class StudentSettings(Settings):
    section: ClassVar[str] = "student"

    model: str = setting(
        "smollm2-135m",
        schema={"type": "string", "minLength": 1},
        help="an embedded model name, a GGUF file, a Hugging Face folder or a hub id",
    )
    gguf_file: str | None = setting(
        None,
        schema={"type": "string", "minLength": 1},
        help="the GGUF file to load when model is a folder holding GGUF files",
    )
    dtype: str | None = setting(
        None,
        schema={"enum": ["float32", "bfloat16", "float16"]},
        help="weights' type for training and inference (default float32)",
    )
    max_length: int | None = setting(
        None,
        schema=_POSITIVE_INT,
        help="longest prompt, in tokens, the student is given at inference; "
        "longer prompts lose their oldest turns first (default: the model's "
        "context less the answer budget)",
    )


@attrs.define
class GenerationSettings(Settings):
    section: ClassVar[str] = "generation"

    n: int = setting(10_000, schema=_POSITIVE_INT, help="accepted synthetic examples to produce")
    batch_size: int = setting(
        64,
        schema=_POSITIVE_INT,
        help="examples per batch of teacher calls (a batch never asks for more than the examples still missing)",
    )
    # single, one per call, stays the default: measured on trec with the embedded 0.5B teacher
    # (bench/generation_yield.py), listed calls of 8 gave half the accepted examples per minute
    # (40 of 78 items unparseable); listed prompts are for teachers that keep a numbered list
    per_call: int = setting(
        1,
        schema={"type": "integer", "minimum": 1, "maximum": 50},
        help="examples one teacher call writes, each with its own θ, as a numbered list (prompt_style: listed)",
    )
    prompt_style: str = setting(
        "single",
        schema={"enum": ["listed", "single"]},
        help="listed: the fixed instructions first (system message), then the shown seeds and per_call numbered "
        "requests; single: one example per call with the prompts of germinate 0.1 (needs per_call 1)",
    )
    seed: int = setting(0, schema={"type": "integer"}, help="random seed of θ samples and shown seeds")
    seeds_per_prompt: int = setting(4, schema=_POSITIVE_INT, help="seed examples shown in one prompt")
    max_attempts: int | None = setting(
        None, schema=_POSITIVE_INT, help="candidates to try at most (default max(50, 10 n))"
    )
    temperature: float = setting(0.8, schema={"type": "number", "minimum": 0})
    max_tokens: int = setting(
        384, schema=_POSITIVE_INT, help="longest teacher reply for one example, in tokens (a call gets it per example)"
    )
    properties: tuple[str, ...] | None = setting(
        None,
        schema={"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        help="latent properties to vary (default: complexity, plus the task's own)",
    )
    prior: float = setting(1.0, schema=_POSITIVE, help="Dirichlet pseudo-count per property value")
    chunk_chars: int = setting(
        1500, schema=_POSITIVE_INT, help="size of the context/ passages shown to the teacher, in characters"
    )
    prompts: dict[str, str] = setting(
        schema={"type": "object", "additionalProperties": {"type": "string"}},
        factory=dict,
        help="prompt templates by name, replacing the task type's",
    )

    def __attrs_post_init__(self) -> None:
        if self.properties is not None:
            self.properties = tuple(self.properties)

    @property
    def attempts_limit(self) -> int:
        return self.max_attempts or max(50, self.n * 10)


@attrs.define
class TrainSettings(Settings):
    """The paper's defaults."""

    section: ClassVar[str] = "training"

    epochs: float = setting(4, schema=_POSITIVE)
    learning_rate: float = setting(5e-5, schema=_POSITIVE)
    lora_rank: int = setting(64, schema=_POSITIVE_INT)
    lora_alpha: float = setting(64, schema=_POSITIVE)
    lora_dropout: float = setting(0.05, schema=_PROBABILITY)
    target_modules: list[str] = setting(
        schema={"type": "array", "items": {"type": "string"}, "minItems": 1}, factory=lambda: ["q_proj", "v_proj"]
    )
    batch_size: int = setting(8, schema=_POSITIVE_INT)
    gradient_accumulation: int = setting(1, schema=_POSITIVE_INT)
    max_length: int = setting(1024, schema=_POSITIVE_INT, help="longer training examples are left out")
    validation_split: float = setting(0.1, schema=_PROBABILITY, help="share held out for a validation loss")
    seed: int = setting(0, schema={"type": "integer"}, help="repeat r trains with seed + r")
    merge: bool = setting(False, schema={"type": "boolean"}, help="also write a merged plain HF model")
    save_steps: int = setting(50, schema=_POSITIVE_INT, help="checkpoint every N optimizer steps")
    system_prompt: str = setting(
        "description",
        schema={"enum": ["description", "short", "none"]},
        help="the student's system message: the task description, a short form the task type builds "
        "(the label list...), or none; predict, serve and evaluate use what the adapter was trained with",
    )


@attrs.define
class EvalSettings(Settings):
    section: ClassVar[str] = "evaluation"

    k_shot: int = setting(5, schema={"type": "integer", "minimum": 0}, help="seed examples in the teacher's prompt")
    repeats: int = setting(3, schema=_POSITIVE_INT, help="training runs per trained point")
    max_examples: int | None = setting(
        None, schema=_POSITIVE_INT, help="a fixed random subset of the test split (default: all of it)"
    )
    max_new_tokens: int = setting(256, schema=_POSITIVE_INT)
    batch_size: int = setting(8, schema=_POSITIVE_INT)
    seed: int = setting(0, schema={"type": "integer"})
    judge: dict[str, Any] = setting(
        schema={
            "type": "object",
            "properties": {"prompt": {"type": "string", "minLength": 1}, "backend": {"type": "string", "minLength": 1}},
        },
        factory=dict,
        help="the judge model (teacher settings: backend, model...; default: the teacher) and optionally its prompt",
    )

    judge_calibration: int = setting(
        20,
        schema={"type": "integer", "minimum": 0},
        help="test items whose own, swapped and perturbed answers calibrate the judge (0: no calibration)",
    )
    judge_retest: int = setting(
        30, schema={"type": "integer", "minimum": 0}, help="calibration items asked twice, for test-retest agreement"
    )
    judge_min_kappa: float = setting(
        0.6,
        schema={"type": "number", "minimum": -1, "maximum": 1},
        help="below this Cohen's kappa against the calibration labels the judge's column is flagged",
    )

    @property
    def judge_backend(self) -> dict[str, Any] | None:
        """The judge's backend settings when ``judge`` names one; None: the teacher judges."""
        chosen = {k: v for k, v in self.judge.items() if k != "prompt"}
        return chosen or None


_MEGABYTES = {"type": "number", "exclusiveMinimum": 0}


@attrs.define
class InputLimits(Settings):
    """How much germinate reads of any one input before refusing it (a clear line names the setting
    to raise). task.yaml itself, and the task.json ``init --from`` reads, are read before these
    are known: at most :attr:`TASK_FILE_MB` each."""

    section: ClassVar[str] = "limits"
    #: task.yaml and init --from's task.json, which cannot raise their own cap
    TASK_FILE_MB: ClassVar[float] = 1.0

    records_mb: float = setting(
        256,
        schema=_MEGABYTES,
        help="largest JSON Lines file of records, in MB: seeds, test, --candidates, --input, --requests",
    )
    run_files_mb: float = setting(
        1024, schema=_MEGABYTES, help="largest file of a run folder read back (candidates.jsonl...), in MB"
    )
    context_file_mb: float = setting(64, schema=_MEGABYTES, help="largest document in context/, in MB")
    context_total_mb: float = setting(256, schema=_MEGABYTES, help="all of context/ together, in MB")
    prompt_kb: float = setting(256, schema=_MEGABYTES, help="largest prompt template (prompts/*.txt), in kB")

    def bytes(self, name: str) -> int:
        """A limit in bytes, by field name (``records_mb``, ``prompt_kb``...)."""
        scale = 1_000 if name.endswith("_kb") else 1_000_000
        return int(getattr(self, name) * scale)

    @staticmethod
    def task_file_bytes() -> int:
        return int(InputLimits.TASK_FILE_MB * 1_000_000)


@attrs.define
class ServeSettings(Settings):
    """``germinate serve``'s limits: what one client may ask of the one student every client shares."""

    section: ClassVar[str] = "serve"

    max_request_bytes: int = setting(
        1_048_576, schema=_POSITIVE_INT, help="largest request body accepted, in bytes (larger: HTTP 413)"
    )
    request_timeout: float = setting(
        30.0,
        schema=_POSITIVE,
        help="seconds a client has to send a whole request (slower: HTTP 408), and for each write of the answer",
    )
    max_tokens: int = setting(
        256,
        schema=_POSITIVE_INT,
        help="the most tokens one answer may have: a request's max_tokens is lowered to it, and it is the default",
    )
    max_prompt_tokens: int = setting(
        2048,
        schema=_POSITIVE_INT,
        help="longest prompt the student is given; longer conversations lose their oldest turns first "
        "(student.max_length and the model's context bound it too)",
    )
    max_waiting: int = setting(
        8,
        schema=_POSITIVE_INT,
        help="requests answered or waiting for the student at once; more get HTTP 503 with Retry-After",
    )


@attrs.define
class GateSettings(Settings):
    """The teacher gate: the teacher k-shot on the seeds (leave-one-out) or a slice of the test
    split, before any generation; PROCEED at ``proceed`` or better, RETHINK below ``rethink``,
    ITERATE between."""

    section: ClassVar[str] = "gate"

    enabled: bool = setting(True, schema={"type": "boolean"}, help="run the gate first in `germinate run`")
    source: str = setting(
        "seeds",
        schema={"enum": ["seeds", "test"]},
        help="seeds: each seed answered with k other seeds as examples; test: a slice of the test split",
    )
    max_examples: int = setting(20, schema=_POSITIVE_INT, help="items the teacher answers at most")
    k_shot: int | None = setting(
        None, schema={"type": "integer", "minimum": 0}, help="examples in the prompt (default: evaluation.k_shot)"
    )
    proceed: float | None = setting(
        None, schema=_PROBABILITY, help="PROCEED at this headline score or above (default: the task type's, 0.8)"
    )
    rethink: float = setting(0.6, schema=_PROBABILITY, help="RETHINK below this headline score")


SECTIONS: tuple[type[Settings], ...] = (
    StudentSettings,
    GenerationSettings,
    TrainSettings,
    EvalSettings,
    GateSettings,
    ServeSettings,
)


def section_schema(cls: type[Settings]) -> dict[str, Any]:
    """task.yaml's JSON Schema for one settings section, built from the fields' metadata."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {a.name: a.metadata["schema"] for a in attrs.fields(cls)},
    }


#: a preset that fits a 2-core machine in minutes per project; every value is printed in the report
QUICK: dict[str, dict[str, Any]] = {
    "generation": {"n": 40, "batch_size": 8},
    "training": {"epochs": 4, "learning_rate": 5e-4, "batch_size": 4, "max_length": 512},
    "evaluation": {"max_examples": 40, "repeats": 2, "max_new_tokens": 128, "judge_calibration": 10},
    "gate": {"max_examples": 10},
}

#: between quick and the paper's scale: a classification project end to end in about 45 minutes on a
#: 2-core machine with the embedded models, with as many accepted examples as that allows
STANDARD: dict[str, dict[str, Any]] = {
    "generation": {"n": 300},
    "training": {"epochs": 3, "learning_rate": 5e-4, "batch_size": 8, "max_length": 512},
    "evaluation": {"max_examples": 100, "repeats": 2, "max_new_tokens": 128},
}

PRESETS: dict[str, dict[str, dict[str, Any]]] = {"quick": QUICK, "standard": STANDARD}

#: what a preset sets only where task.yaml is silent: a size the data needs, not a size of the run
#: (a preset's 512 tokens would drop long documents that the project says need 2048)
CAPACITIES: dict[str, frozenset[str]] = {"training": frozenset({"max_length"})}


@attrs.frozen
class RunSettings:
    """The settings of every stage of one run."""

    student: StudentSettings
    generation: GenerationSettings
    training: TrainSettings
    evaluation: EvalSettings
    gate: GateSettings = attrs.field(factory=GateSettings)
    serve: ServeSettings = attrs.field(factory=ServeSettings)


def resolve(
    config: Mapping[str, Any], preset: str | None = None, overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> RunSettings:
    """task.yaml (``config``), then the preset, then the command line (``overrides``; None values
    are options not given). A preset's CAPACITIES give way to task.yaml's."""
    chosen = PRESETS[preset] if preset else {}

    def build(cls: type[Settings]) -> Any:
        given = config.get(cls.section)
        given = given if isinstance(given, Mapping) else {}
        yields = CAPACITIES.get(cls.section, frozenset())
        values = {
            **{k: v for k, v in chosen.get(cls.section, {}).items() if not (k in yields and k in given)},
            **{k: v for k, v in ((overrides or {}).get(cls.section) or {}).items() if v is not None},
        }
        return cls.from_config(given, **values)

    return RunSettings(*(build(cls) for cls in SECTIONS))
