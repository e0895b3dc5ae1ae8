"""Text classification: the input is free text, the output is one label from the project's set.

The student learns to emit the class name, so classification is text generation like the rest.
"""

from germinate import (
    Metric,
    ParseError,
    Property,
    Score,
    TaskType,
    bullet_list,
    chat,
    hookimpl,
    plain_text,
    split_pick,
    targets_and_others,
)
from germinate_classification.metrics import confusion, macro_f1

GENERATE = """Task description:
{description}

Examples whose label is "{label}":
{target_examples}

Examples with other labels:
{other_examples}

Write one new input for this task whose correct label is "{label}". It must be different from the examples.
{instructions}
Reply with the input text only: no label, no quotes, no explanation."""


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
            "input": {"type": "string", "minLength": 1},
            "output": {"type": "string", "minLength": 1},
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

    def check_record(self, record, config):
        labels = config.get("labels") or []
        if record["output"] not in labels:
            yield "output", f"label {record['output']!r} is not in the label set ({', '.join(labels)})"

    templates = {"generate": GENERATE}

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

    def display(self, record):
        return f"{record['input']} -> {record['output']}"

    def schema_rules(self, config, strict=True):
        rule = {
            "type": "object",
            "required": ["input", "output"],
            "properties": {
                "input": {"type": "string", "minLength": 1},
                "output": {"enum": list(config.get("labels") or [])},
            },
        }
        return [rule]


@hookimpl
def register_task_types(register):
    register(Classification())
