"""The base class a task family (classification, QA, tool calling, extraction) implements.

Core never names a family: it asks the registered TaskType for the record format, the extra
task.yaml keys the family needs, and the checks that JSON Schema cannot express.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_SPACES = re.compile(r"\s+")


class TaskType:
    #: the ``task_type`` value in task.yaml
    name: str = ""
    #: one line for listings
    summary: str = ""
    #: JSON Schema of one record (seeds.jsonl, test.jsonl and generated examples)
    record_schema: dict[str, Any] = {"type": "object"}
    #: JSON Schema fragment for the top-level task.yaml keys this family adds:
    #: ``{"properties": {...}, "required": [...]}``; merged into core's task.yaml schema
    config_schema: dict[str, Any] = {"properties": {}, "required": []}
    #: record fields whose text identifies a record, for duplicate detection
    key_fields: tuple[str, ...] = ("input",)

    def check_record(self, record: dict, config: dict) -> Iterable[tuple[str, str]]:
        """Yield ``(field, message)`` for what the schema cannot say (a label outside the set...)."""
        return ()

    def check_config(self, config: dict) -> Iterable[tuple[str, str]]:
        """Yield ``(field, message)`` for task.yaml problems beyond the schema (duplicate labels...)."""
        return ()

    def record_key(self, record: dict) -> str:
        """Normalised identity of a record: two seeds with the same key are duplicates."""
        parts = []
        for field in self.key_fields:
            value = record.get(field, "")
            text = value if isinstance(value, str) else repr(value)
            parts.append(_SPACES.sub(" ", text).strip().lower())
        return "\x1f".join(parts)

    def text_fields(self, record: dict) -> dict[str, str]:
        """The free-text fields of a record that text validators (length, format, novelty) measure."""
        value = record.get("input")
        return {"input": value} if isinstance(value, str) else {}

    def schema_rules(self, config: dict, strict: bool = True) -> list[dict[str, Any]]:
        """JSON Schemas every generated record must satisfy under this project's config. With
        ``strict``, structured outputs may not carry keys their schema does not list."""
        return [self.record_schema]

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "summary": self.summary,
            "record_schema": self.record_schema,
            "config_schema": self.config_schema,
        }
