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


#: the properties germinate itself can vary, besides each task type's own (their definitions are in
#: germinate.generate.properties); ``generation.properties`` may name these and the task's own
GENERATED_PROPERTIES = ("complexity", "length", "topic")
