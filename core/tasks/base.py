"""The base class a task family (classification, QA, tool calling, extraction) implements.

Core never names a family: it asks the registered TaskType for the record format, the extra
task.yaml keys the family needs, and the checks that JSON Schema cannot express.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from typing import Any

from germinate.tasks.score import JUDGE_METRIC, Metric, Score

_SPACES = re.compile(r"\s+")


class TaskType:
    #: the ``task_type`` value in task.yaml
    name: str = ""
    #: one line for listings
    summary: str = ""
    #: JSON Schema of one record (seeds.jsonl, test.jsonl and generated examples)
    record_schema: dict[str, Any] = {"type": "object"}
    #: JSON Schema fragment for the top-level task.yaml keys this family adds:
    #: ``{"properties": {...}, "required": [...]}``; merged into core's task.yaml schema
    config_schema: dict[str, Any] = {"properties": {}, "required": []}
    #: record fields whose text identifies a record, for duplicate detection
    key_fields: tuple[str, ...] = ("input",)
    #: the record field holding what the student reads (``germinate init --from`` a table maps a
    #: column to it; the answer's field is the first of :attr:`output_fields`)
    input_field: str = "input"

    def check_record(self, record: dict, config: dict) -> Iterable[tuple[str, str]]:
        """Yield ``(field, message)`` for what the schema cannot say (a label outside the set...)."""
        return ()

    def config_defaults(self, records: list[dict]) -> dict[str, Any]:
        """task.yaml keys this family needs, as far as labelled records tell them (classification:
        the labels they use); ``germinate init --from`` a table fills them in."""
        return {}

    def check_config(self, config: dict) -> Iterable[tuple[str, str]]:
        """Yield ``(field, message)`` for task.yaml problems beyond the schema (duplicate labels...)."""
        return ()

    def record_key(self, record: dict) -> str:
        """Normalised identity of a record: two seeds with the same key are duplicates."""
        parts = []
        for field in self.key_fields:
            value = record.get(field, "")
            text = value if isinstance(value, str) else repr(value)
            parts.append(_SPACES.sub(" ", text).strip().lower())
        return "\x1f".join(parts)

    def text_fields(self, record: dict) -> dict[str, str]:
        """The free-text fields of a record that text validators (length, format, novelty) measure."""
        value = record.get("input")
        return {"input": value} if isinstance(value, str) else {}

    def grounding(self, record: dict, config: dict) -> Any:
        """A germinate.tasks.grounding.Grounding: the record's own source text and the values in it
        that must come from that text (an extraction's strings, an open-book answer), for the
        grounding validator; None (the default) when nothing in the record is grounded."""
        return None

    def schema_rules(self, config: dict, strict: bool = True) -> list[dict[str, Any]]:
        """JSON Schemas every generated record must satisfy under this project's config. With
        ``strict``, structured outputs may not carry keys their schema does not list."""
        return [self.record_schema]

    # -- generation ------------------------------------------------------------------------------

    #: teacher calls per example (extraction writes the text first, then its output)
    phases: int = 1
    #: default prompt templates by name; a project overrides any of them (generation.prompts in
    #: task.yaml, or prompts/<name>.txt) without code. Placeholders use {name} syntax.
    templates: dict[str, str] = {}
    #: the one-example-per-call templates of ``generation.prompt_style: single`` (germinate 0.1's
    #: prompts); None: ``templates`` serve both styles
    single_templates: dict[str, str] | None = None
    #: phases in which one call writes every example of a group (``generation.per_call``) as a
    #: numbered list; the other phases get one call per example. Empty: this family only has
    #: one-example prompts (``generation_prompt`` / ``parse_phase``) and per_call does not apply.
    listed_phases: frozenset[int] = frozenset()

    def own_properties(self, config: dict) -> list[Any]:
        """Task-specific latent properties (germinate.generate.properties.Property, source "record")."""
        return []

    def seed_values(self, record: dict, config: dict) -> dict[str, str]:
        """The values of this task's own properties for one record (a seed's label...)."""
        return {}

    def pick_seeds(self, seeds: list[dict], theta: dict, k: int, rng: random.Random) -> list[dict]:
        """The seed examples shown in one generation prompt."""
        return rng.sample(seeds, min(k, len(seeds)))

    def pick_group_seeds(self, seeds: list[dict], thetas: list[dict], k: int, rng: random.Random) -> list[dict]:
        """The seeds shown in one call that writes several examples: for each example in turn one
        seed as :meth:`pick_seeds` would choose it (its target class first), no repeats, topped up
        at random to ``k``, in random order (so no example sits beside "its" request)."""
        chosen: dict[str, dict] = {}
        for theta in thetas:
            if len(chosen) >= k:
                break
            for seed in self.pick_seeds(seeds, theta, 1, rng):
                chosen.setdefault(self.record_key(seed), seed)
        rest = [s for s in seeds if self.record_key(s) not in chosen]
        picked = list(chosen.values()) + rng.sample(rest, max(0, min(k - len(chosen), len(rest))))
        rng.shuffle(picked)
        return picked

    def display(self, record: dict) -> str:
        """A record as shown to the teacher in prompts."""
        return json.dumps(record, ensure_ascii=False)

    def generation_prompt(self, ctx: Any, example: Any, phase: int, previous: list[Any]) -> list[dict[str, str]]:
        """Chat messages asking the teacher for phase ``phase`` of one ``example`` (a
        germinate.generate.loop.Example: index, theta, shown seeds, context chunk, instructions).
        ``previous`` holds the parsed results of earlier phases. The ``single`` prompt style."""
        raise NotImplementedError

    def parse_phase(self, ctx: Any, example: Any, phase: int, text: str, previous: list[Any]) -> Any:
        """Parse one phase's teacher text; the last phase returns the record. Raise
        germinate.tasks.parsing.ParseError with a reason when the text is unusable."""
        raise NotImplementedError

    def listed_prompt(
        self, ctx: Any, examples: list[Any], phase: int, previous: list[list[Any]]
    ) -> list[dict[str, str]]:
        """Chat messages asking for phase ``phase`` of every one of ``examples`` (one example in a
        phase outside :attr:`listed_phases`). Put what every call shares first (the system
        message: task, rules, reply format) and what varies last (shown seeds, the numbered
        requests), so that servers reuse the shared prefix. ``previous[i]`` holds example i's
        parsed results of earlier phases. Default: the one-example prompt."""
        return self.generation_prompt(ctx, examples[0], phase, previous[0])

    def parse_item(self, ctx: Any, example: Any, phase: int, text: str, previous: list[Any]) -> Any:
        """Parse one example's part of a reply (its numbered item, or the whole reply of a
        one-example call), as :meth:`parse_phase` does. Default: :meth:`parse_phase`."""
        return self.parse_phase(ctx, example, phase, text, previous)

    # -- training and inference ------------------------------------------------------------------

    def prompt_text(self, record: dict) -> str:
        """The user turn for the student: what it sees at inference time."""
        return record["input"]

    def target_text(self, record: dict) -> str:
        """The assistant turn the student learns to produce."""
        output = record["output"]
        return output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)

    def reference_material(self, config: dict) -> str:
        """What a prompted (not fine-tuned) model needs besides the description to answer at all,
        such as a tool catalog; evaluation appends it to the teacher's system prompt."""
        return ""

    def short_prompt(self, config: dict) -> str:
        """A compact system message for the student (``training.system_prompt: short``): what it
        must know to answer that its training examples do not show, in a few tokens. Default:
        the description's first sentence."""
        first = re.split(r"(?<=[.!?])\s", " ".join(config["description"].split()), maxsplit=1)[0]
        return first[:300]

    def prompt_messages(self, record: dict, system: str | None) -> list[dict[str, str]]:
        """The chat the student answers: ``system`` (none when None) and the user turn. Needs only
        the record's input fields, so unlabelled records can be predicted."""
        head = [{"role": "system", "content": system}] if system is not None else []
        return head + [
            {"role": "user", "content": self.prompt_text(record)},
        ]

    def to_messages(self, record: dict, system: str | None) -> list[dict[str, str]]:
        """The chat the student learns from: :meth:`prompt_messages` and the answer."""
        return self.prompt_messages(record, system) + [{"role": "assistant", "content": self.target_text(record)}]

    def input_schema(self) -> dict[str, Any]:
        """JSON Schema of a record to predict on: :attr:`record_schema` with the fields only the
        answer fills (``output_fields``) optional."""
        schema = dict(self.record_schema)
        if "required" in schema:
            schema["required"] = [f for f in schema["required"] if f not in self.output_fields]
        return schema

    #: the record fields that hold the answer (absent from unlabelled input)
    output_fields: tuple[str, ...] = ("output",)

    @property
    def output_field(self) -> str:
        """The main answer field, the first of :attr:`output_fields`: ``init --from`` a table maps
        a column to it, ``germinate review`` corrects it."""
        return self.output_fields[0]

    # -- serving -------------------------------------------------------------------------------------

    def tool_catalog(self, config: dict) -> list[dict[str, Any]]:
        """The tools this task's answers call, as OpenAI function definitions
        (``{"type": "function", "function": {"name", "description", "parameters"}}``); empty for a
        task that calls no tools. ``germinate serve`` answers with ``tool_calls`` when non-empty."""
        return []

    def tool_call(self, prediction: str) -> dict[str, Any] | None:
        """A prediction read as one call ``{"name": str, "arguments": dict}``, or None when it is
        not one (only asked when :meth:`tool_catalog` is non-empty)."""
        return None

    # -- evaluation --------------------------------------------------------------------------------

    #: the metrics ``score`` fills in (:class:`Metric`), in report order; JUDGE_METRIC among them
    #: asks the harness for the LLM judge's verdict on every prediction ``score`` leaves open
    metrics: tuple[Metric, ...] = (JUDGE_METRIC,)
    #: the metric that sums a model up: the report's main table, its chart and the teacher gate
    headline: str = "judge"
    #: the teacher gate's PROCEED threshold on the headline unless task.yaml's ``gate.proceed`` says
    gate_proceed: float = 0.8

    def score(self, prediction: str, record: dict, config: dict) -> Score:
        """A :class:`Score` for one prediction against its reference record: a value for every
        declared metric. The default (free-text answers, no metric of its own) asks for a judge:
        ``Score(None)``."""
        return Score(None, prediction.strip())

    def aggregate(self, scores: list[Score], records: list[dict], config: dict) -> dict[str, float]:
        """Each declared metric over a whole test set, from the per-prediction scores (the
        default: the mean). Override for corpus-level metrics (macro-F1, micro-averaged F1). The
        judge's column is the harness's to fill."""
        names = [m.name for m in self.metrics if m.name != JUDGE_METRIC.name]
        return {n: sum(s.metrics.get(n, 0.0) for s in scores) / len(scores) if scores else 0.0 for n in names}

    def breakdown(self, scores: list[Score], records: list[dict], config: dict) -> dict[str, Any]:
        """Extra material about one model's predictions for report.json (a confusion matrix...)."""
        return {}

    def describe_metrics(self) -> list[dict[str, Any]]:
        """The declared metrics as report.json lists them, the headline marked."""
        return [
            {"name": m.name, "title": m.title, "help": m.help, "headline": m.name == self.headline}
            for m in self.metrics
        ]

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "summary": self.summary,
            "record_schema": self.record_schema,
            "config_schema": self.config_schema,
            "prompts": self.templates,
            "single_prompts": self.single_templates or self.templates,
            "metrics": self.describe_metrics(),
            "headline": self.headline,
        }
