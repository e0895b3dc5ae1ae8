"""Information extraction: a source text becomes a JSON object that fits the project's
``output_schema``."""

import json
import random

from germinate import (
    JUDGE_METRIC,
    NONBLANK,
    Grounding,
    Metric,
    ParseError,
    Score,
    TaskType,
    bullet_list,
    chat,
    check_schema,
    extract_json,
    field_name,
    forbid_extra_keys,
    hookimpl,
    numbered_requests,
    plain_text,
    schema_problems,
    standalone,
    string_values,
)
from germinate_extraction.metrics import compare, micro

# Listed prompts (the default). Phase 0 writes a group of new source texts in one call; phase 1
# extracts each text in its own call, behind a system message (task, schema, two fixed seed
# examples) that is the same for every call, so servers reuse it and only the text is new.
# The task description is left out of the text phase for the reason given below.
TEXT_SYSTEM = """You write realistic, varied example texts for a dataset.

You are shown example texts and a numbered list of requests. For each request write one new text of the same kind as the examples, with different content (other names, numbers, dates and details).
{properties}

Each text is one complete text like an example: not a list, not several texts, not a summary or a description of a text.
Reply with a numbered list in the order of the requests ("1. <text>"), each text starting on a new line with its number, and nothing else."""

LISTED_TEXT = """Example texts:
{examples}

Requests:
{requests}

Write the {count} texts now, numbered 1 to {count}."""

EXTRACT_SYSTEM = """Task description:
{description}

Output JSON Schema:
{schema}

Examples:
{examples}

Reply with the JSON output for the input text only."""

LISTED_EXTRACT = """Input text:
{text}"""

# germinate 0.1's one-example prompts (generation.prompt_style: single).
# The task description is left out of the text phase on purpose: it describes the OUTPUT (often
# "return JSON"), and small teachers then write an output instead of an input. A project can
# put {description} back by overriding the template.
TEXT = """Here are example texts from a dataset:
{examples}

Write one more text like these: the same kind of text, with different content (other names, numbers and details).
{instructions}
Reply with the new text only."""

EXTRACT = """Task description:
{description}

Output JSON Schema:
{schema}

Examples:
{examples}

Input text:
{text}

Reply with the JSON output for this input text only."""


class Extraction(TaskType):
    name = "information_extraction"
    summary = "Extract structured data from a text into a JSON object fitting output_schema."
    record_schema = {
        "type": "object",
        "required": ["input", "output"],
        "properties": {
            "input": {"type": "string", "minLength": 1, "pattern": NONBLANK},
            "output": {"type": "object"},
        },
    }
    config_schema = {
        "properties": {"output_schema": {"type": "object", "description": "JSON Schema of the output object"}},
        "required": ["output_schema"],
    }

    metrics = (
        Metric(
            "field_f1", "field F1", "F1 over the output's fields flattened by path (lists as multisets), micro-averaged"
        ),
        Metric("field_precision", "field P", "share of predicted fields that are expected, micro-averaged"),
        Metric("field_recall", "field R", "share of expected fields that are predicted, micro-averaged"),
        Metric("exact_match", "exact", "whole output object equal (key order and list order aside)"),
        JUDGE_METRIC,
    )
    headline = "field_f1"

    phases = 2  # first a new source text, then its structured output
    templates = {
        "text_system": TEXT_SYSTEM,
        "text": LISTED_TEXT,
        "extract_system": EXTRACT_SYSTEM,
        "extract": LISTED_EXTRACT,
    }
    single_templates = {"text": TEXT, "extract": EXTRACT}
    listed_phases = frozenset({0})

    def listed_prompt(self, ctx, examples, phase, previous):
        if phase == 0:
            return chat(
                ctx.render(
                    "text",
                    examples=bullet_list([s["input"] for s in examples[0].shown], 700),
                    requests=numbered_requests(examples),
                    count=len(examples),
                ),
                system=ctx.render("text_system"),
            )
        # the same two seeds in every extraction call of a run: the whole system message is shared
        shown = random.Random(f"{ctx.settings.seed}:extract").sample(ctx.seeds, min(2, len(ctx.seeds)))
        pairs = [f"{s['input']}\n=> {json.dumps(s['output'], ensure_ascii=False)}" for s in shown]
        return chat(
            ctx.render("extract", text=previous[0][0]),
            system=ctx.render(
                "extract_system",
                examples="\n\n".join(pairs),
                schema=json.dumps(ctx.config["output_schema"], separators=(",", ":")),
            ),
        )

    def generation_prompt(self, ctx, example, phase, previous):
        if phase == 0:
            return chat(
                ctx.render(
                    "text",
                    instructions=example.instructions,
                    examples=bullet_list([s["input"] for s in example.shown], 700),
                )
            )
        pairs = [f"{s['input']}\n=> {json.dumps(s['output'], ensure_ascii=False)}" for s in example.shown[:2]]
        return chat(
            ctx.render(
                "extract",
                text=previous[0],
                examples="\n\n".join(pairs),
                schema=json.dumps(ctx.config["output_schema"], separators=(",", ":")),
            )
        )

    def parse_phase(self, ctx, example, phase, text, previous):
        if phase == 0:
            body = plain_text(text, whole=True)
            if body.startswith(("{", "[", "```")):
                # the teacher answered with an output instead of writing an input: stop before
                # paying for the second call
                raise ParseError("asked for an input text, the teacher wrote JSON")
            return body
        return {"input": previous[0], "output": extract_json(text)}

    def short_prompt(self, config):
        fields = list((config.get("output_schema") or {}).get("properties") or {})
        return "Extract a JSON object" + (f" with the fields: {', '.join(fields)}." if fields else ".")

    def score(self, prediction, record, config):
        """Field-level P/R/F1 and whole-object exact match against the reference object; the judge
        gives its verdict beside them. Output that holds no JSON object is wrong without asking."""
        want = record["output"]
        try:
            got = extract_json(prediction)
        except ParseError as exc:
            _, counts, differences = compare({}, want)
            zero = {m.name: 0.0 for m in self.metrics if m is not JUDGE_METRIC}
            counts["fp"] += 1  # the unreadable answer itself, so an empty reference does not score 1
            return Score(False, None, f"no JSON object: {exc}", zero, "unparseable", differences, counts)
        metrics, counts, differences = compare(got, want)
        return Score(None, got, None, metrics, None if metrics["exact_match"] else "wrong_fields", differences, counts)

    def aggregate(self, scores, records, config):
        precision, recall, f1 = micro([s.counts for s in scores])
        exact = sum(s.metrics.get("exact_match", 0.0) for s in scores) / len(scores) if scores else 0.0
        return {"field_f1": f1, "field_precision": precision, "field_recall": recall, "exact_match": exact}

    def check_config(self, config):
        problem = check_schema(config["output_schema"])
        if problem:
            yield ("output_schema",) + problem[0], f"not a valid JSON Schema: {problem[1]}"

    def check_record(self, record, config):
        for path, message in schema_problems(config.get("output_schema") or {}, record["output"]):
            yield field_name(("output",) + path), message

    def grounding(self, record, config):
        """Every string the output extracts must occur in the input, save fields the output schema
        marks ``"x-derived": true`` and enums."""
        values = string_values(record.get("output"), config.get("output_schema"), "output", "output")
        return Grounding(record["input"], "input", tuple(values))

    def schema_rules(self, config, strict=True):
        output = config.get("output_schema") or {}
        output = standalone(forbid_extra_keys(output) if strict else output, "output_schema")
        return [self.record_schema, {"properties": {"output": output}}]


@hookimpl
def register_task_types(register):
    register(Extraction())
