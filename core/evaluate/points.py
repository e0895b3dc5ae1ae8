"""The four reference points of an evaluation, and the models that stand for each.

* teacher: a fixed prompt with k examples drawn from the seeds (the only labelled training data);
* trained: the student tuned on seeds + accepted synthetic examples (``repeats`` runs, seeds differ);
* seeds: the student tuned on the seeds alone, same recipe (``repeats`` runs);
* base: the untuned student, prompted with the task description.
"""

from __future__ import annotations

import attrs

POINTS = ("teacher", "trained", "seeds", "base")
TITLES = {"teacher": "Teacher", "trained": "Trained", "seeds": "Seed", "base": "Base"}
TRAINED_POINTS = ("trained", "seeds")


@attrs.frozen
class Model:
    """One thing to evaluate: a reference point, and for trained points the repeat."""

    point: str
    repeat: int = 0

    @property
    def name(self) -> str:
        return self.point if self.point in ("teacher", "base") else f"{self.point}-r{self.repeat}"

    @property
    def trained(self) -> bool:
        return self.point in TRAINED_POINTS

    @property
    def seeds_only(self) -> bool:
        return self.point == "seeds"


def models_for(points: tuple[str, ...], repeats: int) -> list[Model]:
    out: list[Model] = []
    for point in points:
        if point in TRAINED_POINTS:
            out += [Model(point, r) for r in range(repeats)]
        else:
            out.append(Model(point))
    return out
