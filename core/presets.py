"""Size presets, importable by the CLI at start-up (no other imports)."""

from __future__ import annotations

from typing import Any

#: a preset that fits a 2-core machine in minutes per project; every value is printed in the report
QUICK: dict[str, dict[str, Any]] = {
    "generation": {"n": 40, "batch_size": 8},
    "training": {"epochs": 4, "learning_rate": 5e-4, "batch_size": 4, "max_length": 512},
    "evaluation": {"max_examples": 40, "repeats": 2, "max_new_tokens": 128},
}
