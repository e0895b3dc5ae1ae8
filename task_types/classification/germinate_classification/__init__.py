"""Text classification: the input is free text, the output is one label from the project's set.

The student learns to emit the class name, so classification is text generation like the rest.
"""

from germinate import (
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
    metric = "accuracy"
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

    def check_config(self, config):
        # the metric compares the answer's first line, stripped of spaces, quotes and a final
        # period, without case: a label it could never match is refused here
        first = {}
        for index, label in enumerate(config.get("labels") or []):
            if any(c in label for c in "\n\r\t\v\f") or label != label.strip():
                yield (
                    ("labels", index),
                    f"label {label!r} may not contain line breaks or tabs, or begin or end with a space",
                )
            elif label[0] in "\"'`." or label[-1] in "\"'`.":
                yield ("labels", index), f"label {label!r} may not begin or end with a quote or a period"
            elif label.lower() in first:
                yield ("labels", index), f"label {label!r} differs from {first[label.lower()]!r} only in case"
            first.setdefault(label.lower(), label)

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
            return Score(False, answer, f"not a label: {answer[:60]!r}")
        return Score(labels[answer] == record["output"], labels[answer])

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
