"""Latent properties θ of an example and their Dirichlet posterior.

Each property has a few values (complexity: simple / moderate / complex...). A broad Dirichlet
prior (``generation.prior`` pseudo-counts per value) meets the seeds: the teacher labels every
seed's complexity, length and topic; task-specific properties (the target class, the target tool)
are read off the seed records. α_post = α_prior + counts. Every example's θ is drawn from the
posterior with a generator seeded by (run seed, example index), so a sample never depends on
batch size or on where a run was interrupted.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import attrs

from germinate.tasks.parsing import ParseError, extract_json, plain_text
from germinate.tasks.property import BUILT_IN, COMPLEXITY, LENGTH, Property, topic_property
from germinate.teachers.base import ChatRequest

if TYPE_CHECKING:
    import numpy as np

# COMPLEXITY, LENGTH, BUILT_IN and topic_property live beside Property (tasks/property.py), where the
# validators can read their instruction texts; generation imports them from here as before

DEFAULT_ACTIVE = ("complexity",)
MAX_TOPICS = 10


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def parse_topics(text: str) -> list[str]:
    """Topics from a list reply: one per line, bullets and numbering dropped, deduplicated."""
    seen, topics = set(), []
    try:
        items = [str(x) for x in extract_json(text, list)]
    except ParseError:
        items = text.splitlines()
    for line in items:
        topic = re.sub(r"^\s*(?:[-*•]+|\d+[.)])\s*", "", line).strip().strip(".:;\"'").strip()
        key = _normalise(topic)
        if key and key not in seen and len(topic.split()) <= 6:
            seen.add(key)
            topics.append(topic)
    return topics[:MAX_TOPICS]


def match_value(answer: Any, values: tuple[str, ...]) -> str | None:
    """A teacher's label mapped onto a property value: exact, case-insensitive, or the one value
    mentioned in free text; None when unusable."""
    if not isinstance(answer, str):
        return None
    by_key = {_normalise(v): v for v in values}
    key = _normalise(answer)
    if key in by_key:
        return by_key[key]
    mentioned = [v for k, v in by_key.items() if k and re.search(rf"\b{re.escape(k)}\b", key)]
    return mentioned[0] if len(mentioned) == 1 else None


def label_request(description: str, record_text: str, props: list[Property], index: int) -> ChatRequest:
    fields = "\n".join(f'- "{p.name}": {p.question} One of: {", ".join(p.values)}.' for p in props)
    keys = ", ".join(f'"{p.name}": "..."' for p in props)
    prompt = (
        f"Task description:\n{description}\n\nExample:\n{record_text}\n\n"
        f"Label this example's properties:\n{fields}\n\nReply with one JSON object: {{{keys}}}"
    )
    return ChatRequest(
        [
            {"role": "system", "content": "You label examples of a dataset precisely."},
            {"role": "user", "content": prompt},
        ],
        {"temperature": 0.0, "max_tokens": 80},
        sample=index,
        stage="properties",
    )


def topics_request(description: str, examples: str) -> ChatRequest:
    prompt = (
        f"Task description:\n{description}\n\nExamples:\n{examples}\n\nList {MAX_TOPICS} distinct topics or "
        "domains that realistic examples of this task could be about, as a JSON array of short strings."
    )
    return ChatRequest(
        [{"role": "system", "content": "You help design diverse datasets."}, {"role": "user", "content": prompt}],
        {"temperature": 0.0, "max_tokens": 200},
        sample=0,
        stage="properties",
    )


def parse_labels(text: str, props: list[Property]) -> dict[str, str | None]:
    try:
        data = extract_json(text)
    except ParseError:
        data = {}
    out = {}
    for prop in props:
        value = match_value(data.get(prop.name), prop.values) if isinstance(data, dict) else None
        if value is None:  # free text such as "complexity: moderate"
            found = re.search(rf"{prop.name}\W+([A-Za-z][\w -]*)", text or "", re.I)
            value = match_value(found.group(1), prop.values) if found else None
        out[prop.name] = value
    return out


def length_fallback(lengths: list[int]) -> list[str]:
    """Length labels by tercile of the seeds' own lengths, when the teacher's are unusable."""
    import numpy as np  # only when generating: keeps the CLI's start-up light

    low: float
    high: float
    low, high = np.percentile(lengths, [100 / 3, 200 / 3]).tolist()
    return ["short" if n <= low else "long" if n > high else "medium" for n in lengths]


@attrs.define
class Posterior:
    properties: list[Property]
    prior: float
    counts: dict[str, dict[str, int]]

    def alpha(self, prop: Property) -> np.ndarray:
        import numpy as np

        return np.array([self.prior + self.counts.get(prop.name, {}).get(v, 0) for v in prop.values], dtype=float)

    def mean(self, prop: Property) -> dict[str, float]:
        alpha = self.alpha(prop)
        return {v: float(a / alpha.sum()) for v, a in zip(prop.values, alpha)}

    def sample(self, seed: int, index: int) -> dict[str, str]:
        """θ for example ``index``: p ~ Dirichlet(α_post), value ~ Categorical(p), per property."""
        import numpy as np

        rng = np.random.default_rng([seed, index])
        theta = {}
        for prop in self.properties:
            weights = rng.dirichlet(self.alpha(prop))
            theta[prop.name] = prop.values[int(rng.choice(len(prop.values), p=weights))]
        return theta

    def as_dict(self) -> dict[str, Any]:
        return {
            p.name: {
                "values": list(p.values),
                "source": p.source,
                "prior": self.prior,
                "counts": {v: self.counts.get(p.name, {}).get(v, 0) for v in p.values},
                "posterior_alpha": dict(zip(p.values, self.alpha(p).tolist())),
                "posterior_mean": self.mean(p),
            }
            for p in self.properties
        }

    @classmethod
    def from_labels(cls, properties: list[Property], prior: float, labels: list[dict[str, str | None]]) -> Posterior:
        counts: dict[str, dict[str, int]] = {p.name: {} for p in properties}
        for row in labels:
            for name, value in row.items():
                if value is not None and name in counts:
                    counts[name][value] = counts[name].get(value, 0) + 1
        return cls(properties, prior, counts)


__all__ = [
    "BUILT_IN",
    "COMPLEXITY",
    "LENGTH",
    "Posterior",
    "Property",
    "label_request",
    "length_fallback",
    "parse_labels",
    "parse_topics",
    "plain_text",
    "topic_property",
    "topics_request",
]
