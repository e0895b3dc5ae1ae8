"""Text classification: the input is free text, the output is one label from the project's set.

The student learns to emit the class name, so classification is text generation like the rest.
"""

import re
import unicodedata

from germinate import (
    NONBLANK,
    Metric,
    ParseError,
    Property,
    Score,
    TaskType,
    bullet_list,
    chat,
    hookimpl,
    numbered_requests,
    plain_text,
    split_pick,
    targets_and_others,
)
from germinate_classification.metrics import confusion, macro_f1

# Listed prompts (the default): what every call shares is the system message, so servers reuse
# it; the shown seeds and the numbered requests come last.
SYSTEM = """You write realistic, varied training examples for a text classification task.

Task description:
{description}

Labels: {labels}

You are shown examples and a numbered list of requests. For each request write one new input for this task whose correct label is the label the request names.
{properties}

Write the kind of text the task receives, like the examples: never a label, a request, a definition or a remark about the task. Every input must be new: another subject and other wording than each example and each of your other inputs.
Reply with a numbered list in the order of the requests, one input per line ("1. <input>"): the input text only, with no label, no quotes and no explanation."""

LISTED = """Examples:
{examples}

Requests:
{requests}

Write the {count} inputs now, numbered 1 to {count}, one per line."""

# germinate 0.1's one-example prompt (generation.prompt_style: single)
GENERATE = """Task description:
{description}

Examples whose label is "{label}":
{target_examples}

Examples with other labels:
{other_examples}

Write one new input for this task whose correct label is "{label}". It must be different from the examples.
{instructions}
Reply with the input text only: no label, no quotes, no explanation."""


def _label_list(labels, shown=20, width=60):
    """The label set for a message, short: every seed outside a set of 20,000 labels (or of one
    label 200,000 characters long) would otherwise print all of it."""
    parts = [label if len(label) <= width else label[: width - 3] + "..." for label in labels[:shown]]
    more = f", ... ({len(labels)} labels in all)" if len(labels) > shown else ""
    return ", ".join(parts) + more


class Classification(TaskType):
    name = "classification"
    metrics = (
        Metric("accuracy", "accuracy", "share of answers that are the reference label"),
        Metric("macro_f1", "macro-F1", "F1 per label, averaged over the labels that occur"),
    )
    headline = "accuracy"
    summary = "Assign one label from a fixed set to a text; the student emits the label name."
    record_schema = {
        "type": "object",
        "required": ["input", "output"],
        "properties": {
            "input": {"type": "string", "minLength": 1, "pattern": NONBLANK},
            "output": {"type": "string", "minLength": 1, "pattern": NONBLANK},
        },
    }
    config_schema = {
        "properties": {
            "labels": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 2,
                "uniqueItems": True,
                "description": "every class the student may answer with",
            }
        },
        "required": ["labels"],
    }

    def check_config(self, config):
        # the metric compares the answer's first line, stripped of spaces, quotes and a final
        # period, without case: a label it could never match is refused here
        first = {}
        for index, label in enumerate(config.get("labels") or []):
            # every character splitlines() breaks at (NEL, U+2028... too): the metric reads the first line
            if label.splitlines() != [label] or "\t" in label or label != label.strip():
                yield (
                    ("labels", index),
                    f"label {label!r} may not contain line breaks or tabs, or begin or end with a space",
                )
            elif any(unicodedata.category(c) in ("Cc", "Cf") for c in label):
                # a zero-width space or a bidi override: a label that looks like another one
                yield ("labels", index), f"label {label!r} may not contain control or invisible characters"
            elif label[0] in "\"'`." or label[-1] in "\"'`.":
                yield ("labels", index), f"label {label!r} may not begin or end with a quote or a period"
            elif label.lower() in first:
                yield ("labels", index), f"label {label!r} differs from {first[label.lower()]!r} only in case"
            first.setdefault(label.lower(), label)

    def check_record(self, record, config):
        labels = config.get("labels") or []
        if record["output"] not in labels:
            shown = repr(record["output"]) if len(record["output"]) <= 60 else repr(record["output"][:57]) + "..."
            yield "output", f"label {shown} is not in the label set ({_label_list(labels)})"

    templates = {"system": SYSTEM, "generate": LISTED}
    single_templates = {"generate": GENERATE}
    listed_phases = frozenset({0})

    def config_defaults(self, records):
        labels = [r["output"] for r in records if isinstance(r.get("output"), str) and r["output"]]
        return {"labels": list(dict.fromkeys(labels))} if len(set(labels)) >= 2 else {}

    def own_properties(self, config):
        labels = tuple(config.get("labels") or ())
        return [
            Property(
                "label",
                labels,
                "Which label does the example have?",
                {label: f'The correct label of the example must be "{label}".' for label in labels},
                source="record",
            )
        ]

    def seed_values(self, record, config):
        return {"label": record["output"]}

    def pick_seeds(self, seeds, theta, k, rng):
        return split_pick(seeds, lambda s: s["output"] == theta.get("label"), k, rng)

    def generation_prompt(self, ctx, example, phase, previous):
        label = example.theta["label"]
        target, others = targets_and_others(example.shown, lambda s: s["output"] == label)
        return chat(
            ctx.render(
                "generate",
                label=label,
                instructions=example.instructions,
                target_examples=bullet_list([s["input"] for s in target]),
                other_examples=bullet_list([f"{s['input']} -> {s['output']}" for s in others]),
            )
        )

    def listed_prompt(self, ctx, examples, phase, previous):
        labels = ctx.config.get("labels") or []
        return chat(
            ctx.render(
                "generate",
                examples=bullet_list([f"[{s['output']}] {s['input']}" for s in examples[0].shown]),
                requests=numbered_requests(examples),
                count=len(examples),
            ),
            system=ctx.render("system", labels=", ".join(labels)),
        )

    def parse_item(self, ctx, example, phase, text, previous):
        labels = ctx.config.get("labels") or []
        body = plain_text(text)
        # the listed prompt shows examples as "[label] text": weak teachers copy the tag
        tag = re.match(r"^\s*(?:\[([^\]]+)\]|\(([^)]+)\)|([^:\n]{1,40}):)\s*", body)
        if tag and (tag.group(1) or tag.group(2) or tag.group(3) or "").strip().strip("\"'") in labels:
            body = body[tag.end() :].strip()
        for label in labels:
            for tail in (f" [{label}]", f" ({label})"):
                if body.endswith(tail):
                    body = body[: -len(tail)].rstrip()
        if not body:
            raise ParseError("nothing but a label tag")
        return self.parse_phase(ctx, example, phase, body, previous)

    def parse_phase(self, ctx, example, phase, text, previous):
        body = plain_text(text)
        labels = ctx.config.get("labels") or []
        # the prompt shows other examples as "text -> label"; weak teachers copy the arrow
        for label in labels:
            for tail in (f" -> {label}", f"-> {label}", f" → {label}"):
                if body.endswith(tail):
                    body = body[: -len(tail)].rstrip()
        lowered = body.lower()
        if "label" in lowered and any(
            f'"{label.lower()}"' in lowered or f"'{label.lower()}'" in lowered for label in labels
        ):
            raise ParseError("the reply talks about the label instead of being an example input")
        return {"input": body, "output": example.theta["label"]}

    def score(self, prediction, record, config):
        lines = [line for line in prediction.strip().splitlines() if line.strip()]
        answer = lines[0].strip().strip("\"'`.").strip().lower() if lines else ""
        labels = {label.lower(): label for label in config.get("labels") or []}
        if answer not in labels:
            return Score(False, None, f"not a label: {answer[:60]!r}", {"accuracy": 0.0}, "not_a_label")
        right = labels[answer] == record["output"]
        return Score(right, labels[answer], None, {"accuracy": float(right)}, None if right else "wrong_label")

    def aggregate(self, scores, records, config):
        pairs = [(r["output"], s.parsed) for s, r in zip(scores, records)]
        accuracy = sum(1 for reference, answer in pairs if reference == answer) / len(pairs) if pairs else 0.0
        return {"accuracy": accuracy, "macro_f1": macro_f1(pairs)}

    def breakdown(self, scores, records, config):
        pairs = [(r["output"], s.parsed) for s, r in zip(scores, records)]
        return {"confusion": confusion(list(config.get("labels") or []), pairs)}

    def short_prompt(self, config):
        labels = ", ".join(config.get("labels") or [])
        # a long label set (banking77's 77 intents) would cost as much as the description: the
        # student learns the labels from its examples, so say only what the task is
        return f"Answer with one label: {labels}." if len(labels) <= 300 else super().short_prompt(config)

    def display(self, record):
        return f"{record['input']} -> {record['output']}"

    def schema_rules(self, config, strict=True):
        rule = {
            "type": "object",
            "required": ["input", "output"],
            "properties": {
                "input": {"type": "string", "minLength": 1, "pattern": NONBLANK},
                "output": {"enum": list(config.get("labels") or [])},
            },
        }
        return [rule]


@hookimpl
def register_task_types(register):
    register(Classification())
