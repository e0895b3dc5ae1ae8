"""What a generated record claims its own source text says: an extraction's string values must
come from its input, an open-book answer from its context. A task type answers
:meth:`TaskType.grounding <germinate.tasks.base.TaskType.grounding>` with a :class:`Grounding`;
the grounding validator checks it.

A field of an output schema marked ``"x-derived": true`` holds something the text implies rather
than states (a normalised date, a role, a category): its values are not checked. ``"x-derived":
false`` asks for the check even where the seeds suggest the field is derived.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

#: the keyword an output schema uses to mark a field whose values need not occur in the text
DERIVED = "x-derived"

#: strings that stand for "no value" (compared after normalisation)
PLACEHOLDERS = frozenset(
    {
        "",
        "null",
        "none",
        "nil",
        "n a",
        "na",
        "unknown",
        "not available",
        "not applicable",
        "not specified",
        "unspecified",
        "not mentioned",
        "not provided",
        "not given",
        "undefined",
        "tbd",
    }
)


@attrs.frozen
class Grounded:
    """One value that must be supported by the source: where it is (``output.parties[0].name``),
    its field with list positions left out (``output.parties[].name``), and the value."""

    path: str
    field: str
    value: str
    #: the schema marks the field ``"x-derived": false``: check it whatever the seeds show
    forced: bool = False
    #: the value may paraphrase the source (a free-text answer): enough shared words support it;
    #: otherwise (an extracted span) it must occur in the source
    abstractive: bool = False


@attrs.frozen
class Grounding:
    """A record's source text (and the field it is in) and the values it must support."""

    source: str
    source_field: str
    values: tuple[Grounded, ...]


def string_values(
    value: Any, schema: dict[str, Any] | None, path: str = "", field: str = "", forced: bool = False
) -> Iterator[Grounded]:
    """Every string in ``value`` that the text should contain, walking ``schema`` beside it
    (``path`` names ``value``): fields marked ``x-derived``, enums and constants (chosen from a
    list, not copied from the text) are left out; a field the schema does not describe is kept."""
    schema = schema if isinstance(schema, dict) else {}
    if schema.get(DERIVED) is True or "enum" in schema or "const" in schema:
        return
    forced = forced or schema.get(DERIVED) is False
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for key, item in value.items():
            yield from string_values(item, properties.get(key), f"{path}.{key}", f"{field}.{key}", forced)
    elif isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        for index, item in enumerate(value):
            yield from string_values(item, items, f"{path}[{index}]", f"{field}[]", forced)
    elif isinstance(value, str):
        yield Grounded(path.lstrip("."), field.lstrip("."), value, forced)
