"""A latent property of an example (complexity, length, topic, a task's target class...): its
values, the question the teacher answers when labelling a seed, and the mutation instruction each
value turns into in a generation prompt. Task types declare their own (``own_properties``)."""

from __future__ import annotations

import attrs


@attrs.frozen
class Property:
    name: str
    values: tuple[str, ...]
    #: what the teacher reads when labelling a seed
    question: str
    #: value -> mutation instruction for the generation prompt
    instructions: dict[str, str]
    #: "teacher" (labelled by the teacher) or "record" (read off the seed by the task type)
    source: str = "teacher"

    def instruction(self, value: str) -> str:
        return self.instructions.get(value, f"The example's {self.name} should be: {value}.")


COMPLEXITY = Property(
    "complexity",
    ("simple", "moderate", "complex"),
    "How complex is the example: simple, moderate or complex?",
    {
        "simple": "The example should be simple: short, direct and unambiguous.",
        "moderate": "The example should be of moderate complexity: some detail, or one extra condition.",
        "complex": "The example should be complex: several details, conditions or steps, or wording that "
        "needs careful reading.",
    },
)

LENGTH = Property(
    "length",
    ("short", "medium", "long"),
    "How long is the example's input compared with typical inputs for this task: short, medium or long?",
    {
        "short": "The input should be short.",
        "medium": "The input should be of medium length.",
        "long": "The input should be long for this task.",
    },
)


#: the properties the teacher labels whose values are fixed (topic's come from the teacher)
BUILT_IN = {p.name: p for p in (COMPLEXITY, LENGTH)}
#: the properties germinate itself can vary, besides each task type's own; ``generation.properties``
#: may name these and the task's own
GENERATED_PROPERTIES = (*BUILT_IN, "topic")


def topic_property(topics: list[str]) -> Property:
    return Property(
        "topic",
        tuple(topics),
        f"Which of these topics fits the example best: {', '.join(topics)}?",
        {t: f"The example should be about {t}." for t in topics},
    )
