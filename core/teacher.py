"""The base class a teacher backend (OpenAI, Anthropic, a local model...) implements."""

from __future__ import annotations

from typing import Any


class Teacher:
    #: the ``teacher.backend`` value in task.yaml
    name: str = ""
    summary: str = ""
    #: JSON Schema of the ``teacher`` section when this backend is chosen
    config_schema: dict[str, Any] = {"type": "object"}

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "summary": self.summary, "config_schema": self.config_schema}
