"""The generation loop: sample θ from the posterior, prompt the teacher, parse, validate, keep.

``runs/<name>/candidates.jsonl`` is the source of truth: every candidate, in example-index
order, appended and fsynced batch by batch. ``accepted.jsonl`` and ``rejected.jsonl`` are
derived from it: on resume the cascade replays the candidates (no teacher calls) and rewrites
them, so a kill at any moment loses nothing accepted and never duplicates a record. The teacher
calls of a batch that was cut short are in the cache, so they are not paid for again.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from typing import Any

import attrs

from germinate.generate.properties import (
    BUILT_IN,
    DEFAULT_ACTIVE,
    Posterior,
    Property,
    label_request,
    length_fallback,
    parse_labels,
    parse_topics,
    topic_property,
    topics_request,
)
from germinate.jsonl import append_jsonl, parse_json, write_jsonl
from germinate.problems import GerminateError, Problem
from germinate.project.context import read_document
from germinate.project.load import Project
from germinate.run_folder import RunFolder, write_json
from germinate.settings import GenerationSettings
from germinate.tasks import templates
from germinate.tasks.parsing import ParseError, numbered_items
from germinate.tasks.prompting import list_stop, property_legend
from germinate.teachers.base import ChatRequest
from germinate.teachers.engine import Engine
from germinate.teachers.engines import Engines
from germinate.validate.candidates import run_candidates
from germinate.validate.cascade import build_cascade
from germinate.validate.ledger import PARSE, TEACHER, Ledger, Tally, seed_rows
from germinate.validate.review import load_reviews


@attrs.define
class GenerationResult:
    """Where a generation run stands: accepted against target, the cascade's tally and order,
    why it stopped early (if it did), coverage, and the engine's cost meter and fault counts."""

    accepted: int
    target: int
    candidates: int
    validation: dict[str, Any]
    order: list[str]
    coverage: dict[str, Any]
    stopped: str | None = None
    meter: Any = None
    faults: dict[str, int] = attrs.field(factory=dict)
    #: per teacher server (several in ``teacher.base_url``): attempts, answers, faults, benches
    servers: dict[str, dict[str, Any]] = attrs.field(factory=dict)


@attrs.frozen
class Example:
    index: int
    theta: dict[str, str]
    shown: list[dict]
    chunk: str | None
    instructions: str


@attrs.define
class GenContext:
    project: Project
    settings: GenerationSettings
    posterior: Posterior
    chunks: list[str]
    overrides: dict[str, str]

    @property
    def task_type(self) -> Any:
        return self.project.task_type

    @property
    def config(self) -> dict[str, Any]:
        return self.project.config

    @property
    def description(self) -> str:
        return self.config["description"]

    @property
    def seeds(self) -> list[dict]:
        return [r.data for r in self.project.seeds]

    @property
    def templates(self) -> dict[str, str]:
        """The task type's templates for the chosen prompt style."""
        return active_templates(self.task_type, self.settings)

    def render(self, name: str, **fields: Any) -> str:
        """A prompt template (the project's override, else the task type's for the chosen style)
        filled in: bare ``{name}`` placeholders only, values inserted as text (see
        germinate.tasks.templates)."""
        template = self.overrides.get(name) or self.templates[name]
        fields.setdefault("description", self.description)
        fields.setdefault("properties", property_legend(self.posterior.properties))
        try:
            return templates.fill(template, fields)
        except templates.TemplateError as exc:  # germinate check refuses these; a plugin's own template may not
            raise GerminateError(Problem("task.yaml", None, f"generation.prompts.{name}", exc.message)) from None


# -- properties ----------------------------------------------------------------------------------


def _seed_text(task_type: Any, record: dict) -> str:
    return task_type.display(record)


def build_posterior(project: Project, engine: Engine, settings: GenerationSettings) -> tuple[Posterior, dict]:
    """Active properties, the teacher's labels for every seed, and the posterior."""
    task_type, config = project.task_type, project.config
    seeds = [r.data for r in project.seeds]
    own = {p.name: p for p in task_type.own_properties(config)}
    # the task's own properties (target class, target tool) are always on: they decide the output
    active = list(settings.properties) if settings.properties is not None else list(DEFAULT_ACTIVE)
    active += [name for name in own if name not in active]
    record: dict[str, Any] = {"active": active, "topics_raw": None}
    teacher_props: list[Property] = []
    properties: list[Property] = []
    for name in active:
        if name in own:
            properties.append(own[name])
        elif name in BUILT_IN:
            teacher_props.append(BUILT_IN[name])
            properties.append(BUILT_IN[name])
        elif name == "topic":
            examples = "\n".join(_seed_text(task_type, s) for s in seeds[:8])
            result = engine.run_blocking([topics_request(config["description"], examples)])[0]
            record["topics_raw"] = result.text
            topics = parse_topics(result.text) if result.text is not None else []
            if len(topics) >= 2:
                properties.append(topic_property(topics))
                teacher_props.append(properties[-1])
            else:
                record["topics_unusable"] = "the teacher proposed fewer than two usable topics; topic left out"
        else:
            known = [*BUILT_IN, "topic", *own]
            raise GerminateError(
                Problem(
                    "task.yaml",
                    None,
                    "generation.properties",
                    f"unknown property {name!r} (available: {', '.join(known)})",
                )
            )

    labels: list[dict[str, str | None]] = [dict(task_type.seed_values(s, config)) for s in seeds]
    sources: list[dict[str, str]] = [{k: "record" for k in row} for row in labels]
    if teacher_props:
        requests = [
            label_request(config["description"], _seed_text(task_type, s), teacher_props, i)
            for i, s in enumerate(seeds)
        ]
        for i, result in enumerate(engine.run_blocking(requests)):
            parsed = parse_labels(result.text, teacher_props) if result.text is not None else {}
            for prop in teacher_props:
                labels[i][prop.name] = parsed.get(prop.name)
                sources[i][prop.name] = "teacher" if parsed.get(prop.name) else "unusable"
        if any(p.name == "length" for p in teacher_props):
            fallback = length_fallback([len(" ".join(task_type.text_fields(s).values()).split()) for s in seeds])
            for i, row in enumerate(labels):
                if row.get("length") is None:
                    row["length"], sources[i]["length"] = fallback[i], "fallback: seed length tercile"
    posterior = Posterior.from_labels(properties, settings.prior, labels)
    record["seed_labels"] = [{"seed": i + 1, "values": labels[i], "source": sources[i]} for i in range(len(seeds))]
    record["properties"] = posterior.as_dict()
    return posterior, record


# -- context chunks ------------------------------------------------------------------------------


def context_chunks(project: Project, size: int) -> list[str]:
    """Passages of the knowledge base in context/ (text paragraphs merged up to ``size``
    characters; JSONL records' context/text fields), else the seeds' own contexts."""
    chunks: list[str] = []
    for path in project.context_files:
        text = read_document(project.root, path, project.limits)
        if path.suffix == ".jsonl":
            for line in text.splitlines():
                try:
                    row = parse_json(line)
                except ValueError:  # not JSON, or JSON germinate refuses (too deep, huge numbers...)
                    continue
                value = row.get("context") or row.get("text") if isinstance(row, dict) else None
                if isinstance(value, str) and value.strip():
                    chunks.append(value.strip())
            continue
        current = ""
        for paragraph in (p.strip() for p in text.split("\n\n")):
            if current and len(current) + len(paragraph) > size:
                chunks.append(current)
                current = ""
            current = f"{current}\n\n{paragraph}".strip() if paragraph else current
        if current:
            chunks.append(current)
    if not chunks:
        chunks = [s.data["context"] for s in project.seeds if isinstance(s.data.get("context"), str)]
    return list(dict.fromkeys(chunks))


# -- the loop ------------------------------------------------------------------------------------


def make_example(ctx: GenContext, index: int) -> Example:
    theta = ctx.posterior.sample(ctx.settings.seed, index)
    rng = random.Random(f"{ctx.settings.seed}:{index}")
    shown = ctx.task_type.pick_seeds(ctx.seeds, theta, ctx.settings.seeds_per_prompt, rng)
    chunk = rng.choice(ctx.chunks) if ctx.chunks else None
    by_name = {p.name: p for p in ctx.posterior.properties}
    instructions = "\n".join(by_name[name].instruction(value) for name, value in theta.items())
    return Example(index, theta, shown, chunk, instructions)


def active_templates(task_type: Any, settings: GenerationSettings) -> dict[str, str]:
    if settings.prompt_style == "single" and task_type.single_templates is not None:
        return task_type.single_templates
    return task_type.templates


def check_style(settings: GenerationSettings) -> None:
    if settings.prompt_style == "single" and settings.per_call != 1:
        raise GerminateError(
            Problem(
                "task.yaml",
                None,
                "generation.prompt_style",
                f"'single' writes one example per call; set generation.per_call to 1 (it is {settings.per_call})",
            )
        )


def prompt_overrides(project: Project, settings: GenerationSettings) -> dict[str, str]:
    """The project's generation prompts for the chosen style: task.yaml's ``generation.prompts``,
    then ``prompts/<name>.txt`` (as checked when the project was loaded; the judge's is not one)."""
    check_style(settings)
    known = active_templates(project.task_type, settings)
    overrides = dict(settings.prompts)
    for name, text in project.prompt_files.items():
        if name in known:
            overrides.setdefault(name, text)
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise GerminateError(
            Problem(
                "task.yaml",
                None,
                f"generation.prompts.{unknown[0]}",
                f"no such prompt for {project.task_type.name} (prompts: {', '.join(sorted(known))})",
            )
        )
    return overrides


def _hash(messages: list[dict]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()[:16]


def generate_batch(ctx: GenContext, engine: Engine, indexes: list[int]) -> list[dict[str, Any]] | None:
    """Candidates for these example indexes, in order; None when the budget stopped the batch."""
    if listed(ctx):
        return _listed_batch(ctx, engine, indexes)
    return _single_batch(ctx, engine, indexes)


def listed(ctx: GenContext) -> bool:
    """Whether calls write numbered lists of examples (else one example per call, germinate 0.1's way)."""
    return ctx.settings.prompt_style == "listed" and bool(ctx.task_type.listed_phases)


def _single_batch(ctx: GenContext, engine: Engine, indexes: list[int]) -> list[dict[str, Any]] | None:
    examples = [make_example(ctx, j) for j in indexes]
    task_type = ctx.task_type
    previous: dict[int, list[Any]] = {e.index: [] for e in examples}
    raws: dict[int, list[str]] = {e.index: [] for e in examples}
    failed: dict[int, str] = {}
    hashes: dict[int, str] = {}
    params = {"temperature": ctx.settings.temperature, "max_tokens": ctx.settings.max_tokens}
    for phase in range(task_type.phases):
        alive = [e for e in examples if e.index not in failed]
        prompts = [task_type.generation_prompt(ctx, e, phase, previous[e.index]) for e in alive]
        for e, messages in zip(alive, prompts):
            hashes[e.index] = hashes.get(e.index, "") + _hash(messages)[: 16 // task_type.phases]
        results = engine.run_blocking(
            [ChatRequest(m, params, sample=e.index, stage="generate") for e, m in zip(alive, prompts)]
        )
        for e, result in zip(alive, results):
            if result.error == "budget":
                return None
            if result.text is None:
                failed[e.index] = f"{TEACHER}: {result.error}: {result.message}"
                continue
            raws[e.index].append(result.text)
            try:
                previous[e.index].append(task_type.parse_phase(ctx, e, phase, result.text, previous[e.index]))
            except ParseError as exc:
                failed[e.index] = f"{PARSE}: {exc}"
    return [_row(ctx, engine, e, previous, raws, failed, hashes) for e in examples]


def _row(
    ctx: GenContext,
    engine: Engine,
    e: Example,
    previous: dict[int, list[Any]],
    raws: dict[int, list[str]],
    failed: dict[int, str],
    hashes: dict[int, str],
    item: int | None = None,
) -> dict[str, Any]:
    error = failed.get(e.index)
    row = {
        "id": f"c{e.index:06d}",
        "index": e.index,
        "record": None if error else previous[e.index][-1],
        "raw": "\n\n---\n\n".join(raws[e.index]) if raws[e.index] else None,
        "error": error,
        "theta": e.theta,
        "teacher": engine.client.model,
        "prompt_hash": hashes.get(e.index),
    }
    if item is not None:
        row["item"] = item  # its place in the numbered list of its first call
    return row


def make_group(ctx: GenContext, group: int) -> list[Example]:
    """The ``per_call`` examples one listed call writes: indexes ``group * per_call`` onwards, each
    with its own θ (drawn by index, as always); the shown seeds and the context chunk belong to
    the call. A group is fixed by its number, so its prompt (and cache key) never depends on the
    batch size or on where a run was interrupted."""
    k = ctx.settings.per_call
    indexes = range(group * k, group * k + k)
    thetas = [ctx.posterior.sample(ctx.settings.seed, j) for j in indexes]
    rng = random.Random(f"{ctx.settings.seed}:call:{k}:{group}")
    shown = ctx.task_type.pick_group_seeds(ctx.seeds, thetas, ctx.settings.seeds_per_prompt, rng)
    chunk = rng.choice(ctx.chunks) if ctx.chunks else None
    by_name = {p.name: p for p in ctx.posterior.properties}
    return [
        Example(j, theta, shown, chunk, "\n".join(by_name[name].instruction(value) for name, value in theta.items()))
        for j, theta in zip(indexes, thetas)
    ]


def _listed_batch(ctx: GenContext, engine: Engine, indexes: list[int]) -> list[dict[str, Any]] | None:
    """Listed calls: in a listed phase one call per group asks for all its examples as a numbered
    list, and each item is parsed on its own (a malformed item rejects that item only); in the
    other phases each example gets its own call. Examples of a group outside ``indexes`` (before
    a resume point) are asked for again, from the cache, and dropped."""
    task_type, settings = ctx.task_type, ctx.settings
    wanted = set(indexes)
    groups = [make_group(ctx, g) for g in sorted({j // settings.per_call for j in indexes})]
    examples = [e for group in groups for e in group]
    previous: dict[int, list[Any]] = {e.index: [] for e in examples}
    raws: dict[int, list[str]] = {e.index: [] for e in examples}
    failed: dict[int, str] = {}
    hashes: dict[int, str] = {}
    items: dict[int, int] = {}
    for phase in range(task_type.phases):
        if phase in task_type.listed_phases:
            calls = [[e for e in group if e.index not in failed] for group in groups]
        else:
            calls = [[e] for e in examples if e.index in wanted and e.index not in failed]
        calls = [c for c in calls if c]
        requests = []
        for call in calls:
            messages = task_type.listed_prompt(ctx, call, phase, [previous[e.index] for e in call])
            params: dict[str, Any] = {
                "temperature": settings.temperature,
                "max_tokens": settings.max_tokens * len(call),
            }
            if phase in task_type.listed_phases:
                params["stop"] = list_stop(len(call))
            requests.append(ChatRequest(messages, params, sample=call[0].index, stage="generate"))
            for position, e in enumerate(call, 1):
                hashes[e.index] = hashes.get(e.index, "") + _hash(messages)[: 16 // task_type.phases]
                if phase in task_type.listed_phases:
                    items.setdefault(e.index, position)
        results = engine.run_blocking(requests)
        for call, result in zip(calls, results):
            if result.error == "budget":
                return None
            if result.completion is None:
                for e in call:
                    failed[e.index] = f"{TEACHER}: {result.error}: {result.message}"
                continue
            reply = result.completion.text
            parts = numbered_items(reply, len(call)) if phase in task_type.listed_phases else [reply]
            for e, text in zip(call, parts):
                if text is None:
                    raws[e.index].append(reply)
                    failed[e.index] = f"{PARSE}: item {items[e.index]} of {len(call)} is missing from the reply"
                    continue
                raws[e.index].append(text)
                try:
                    previous[e.index].append(task_type.parse_item(ctx, e, phase, text, previous[e.index]))
                except ParseError as exc:
                    failed[e.index] = f"{PARSE}: {exc}"
    return [
        _row(ctx, engine, e, previous, raws, failed, hashes, items.get(e.index)) for e in examples if e.index in wanted
    ]


def batch_indexes(start: int, settings: GenerationSettings, *, missing: int, listed: bool) -> list[int]:
    """The next batch: ``batch_size`` examples, never more than are still missing (each candidate
    is accepted at most once, so more would be paid for and dropped), ending on a call boundary
    when calls write ``per_call`` examples each, and never past ``max_attempts``."""
    size = max(1, min(settings.batch_size, missing))
    end = start + size
    if listed:
        end = -(-end // settings.per_call) * settings.per_call
    return list(range(start, min(end, settings.attempts_limit)))


def run_generation(
    project: Project,
    engine: Engine,
    settings: GenerationSettings,
    run: RunFolder,
    on_accept: Callable[[int, int], None] | None = None,
    existing: list[dict[str, Any]] | None = None,
) -> GenerationResult:
    """Generate until ``settings.n`` candidates are accepted, resuming after ``existing`` (the
    run's candidates.jsonl, read here unless the caller already read and checked it)."""
    run.ensure()
    # what is already on disk is checked before the first teacher call (labelling the seeds)
    if existing is None:
        existing = run_candidates(run, project.task_type, require_index=True)
    overrides = prompt_overrides(project, settings)  # a bad template or style stops before any call
    if run.properties.exists():
        saved = json.loads(run.properties.read_text(encoding="utf-8"))
        posterior, record = _posterior_from_saved(project, saved, settings), saved
    else:
        posterior, record = build_posterior(project, engine, settings)
        record.update({"seed": settings.seed, "prior": settings.prior})
        write_json(run.properties, record)
    ctx = GenContext(project, settings, posterior, context_chunks(project, settings.chunk_chars), overrides)

    seeds = [r.data for r in project.seeds]
    # validators that ask the teacher share this engine (its cache, cost meter and --max-cost), and
    # an engine made for another model a validator names shares its budget
    engines = Engines(
        project,
        engine,
        use_cache=engine.settings.use_cache,
        max_cost=engine.settings.max_cost,
        budget=engine.meter.budget,
    )
    cascade = build_cascade(project.task_type, project.config, seeds, engines=engines)
    ledger = Ledger(Tally(cascade.names), accepted=seed_rows(seeds), reviews=load_reviews(run))
    ledger.judge_all(cascade, existing)  # resume: replay (teacher answers validators asked come from the cache)
    write_jsonl(run.accepted, ledger.accepted)
    write_jsonl(run.rejected, ledger.rejected)
    tally = ledger.tally
    next_index = (existing[-1]["index"] + 1) if existing else 0
    stopped = None
    if on_accept:
        on_accept(tally.accepted, next_index)
    while tally.accepted < settings.n:
        if next_index >= settings.attempts_limit:
            stopped = f"stopped after {next_index} candidates (generation.max_attempts); see rejected.jsonl"
            break
        indexes = batch_indexes(next_index, settings, missing=settings.n - tally.accepted, listed=listed(ctx))
        rows = generate_batch(ctx, engine, indexes)
        if rows is None:
            stopped = "stopped: --max-cost reached; everything accepted so far is kept, rerun to continue"
            break
        batch = Ledger(tally, reviews=ledger.reviews)
        cascade.prefetch([c["record"] for c in rows if c.get("record") is not None])
        new_candidates = []
        for candidate in rows:
            if tally.accepted >= settings.n:
                break
            batch.judge(cascade, candidate)
            new_candidates.append(candidate)
        append_jsonl(run.candidates, new_candidates)  # the source of truth goes first
        append_jsonl(run.accepted, batch.accepted)
        append_jsonl(run.rejected, batch.rejected)
        next_index = new_candidates[-1]["index"] + 1
        if on_accept:
            on_accept(tally.accepted, next_index)
    engines.close()  # the engines made for another model a validator names; the caller closes `engine`
    write_json(
        run.validation_summary,
        {"order": cascade.names, "settings": {s.name: s.settings for s in cascade.steps}, **tally.as_dict()},
    )
    coverage = coverage_report(project, posterior, run.rows(run.accepted))
    write_json(run.coverage, coverage)
    return GenerationResult(
        accepted=tally.accepted,
        target=settings.n,
        candidates=tally.candidates,
        validation=tally.as_dict(),
        order=cascade.names,
        coverage=coverage,
        stopped=stopped,
    )


def _posterior_from_saved(project: Project, saved: dict[str, Any], settings: GenerationSettings) -> Posterior:
    own = {p.name: p for p in project.task_type.own_properties(project.config)}
    properties = []
    for name, info in saved["properties"].items():
        if name == "topic":
            properties.append(topic_property(info["values"]))
        else:
            properties.append(own.get(name) or BUILT_IN[name])
    counts = {name: info["counts"] for name, info in saved["properties"].items()}
    return Posterior(properties, saved.get("prior", settings.prior), counts)


def coverage_report(project: Project, posterior: Posterior, accepted: list[dict[str, Any]]) -> dict[str, Any]:
    """For every property: the share of each value among accepted synthetic examples beside the
    posterior mean it was sampled from."""
    synthetic = [row for row in accepted if row.get("source") != "seed" and row.get("theta")]
    out: dict[str, Any] = {"synthetic": len(synthetic), "properties": {}}
    for prop in posterior.properties:
        counts = {v: 0 for v in prop.values}
        for row in synthetic:
            value = row["theta"].get(prop.name)
            if value in counts:
                counts[value] += 1
        total = sum(counts.values()) or 1
        mean = posterior.mean(prop)
        out["properties"][prop.name] = {
            v: {"accepted": counts[v], "share": round(counts[v] / total, 4), "posterior": round(mean[v], 4)}
            for v in prop.values
        }
    return out
