"""Helpers and pytest fixtures for testing germinate plugins (ours and third parties').

Enable the fixtures in a test suite with ``pytest_plugins = ["germinate.testing"]`` in its
conftest.py. They give:

* ``make_project(path=None, **overrides)`` -> Path: a small valid project on disk (classification,
  10 seeds by default; pass ``config``, ``seeds``, ``test`` or ``files`` to change it);
* ``register_plugin(plugin, name=None)``: registers a plugin object (a module or an instance with
  ``@hookimpl`` methods) for the duration of the test;
* ``run_germinate(*args)`` -> CompletedRun: runs the CLI in-process and captures its output.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import yaml

from germinate.plugins import get_plugins

SAMPLE_SEEDS = [
    {"input": "The package arrived two days early and works perfectly.", "output": "positive"},
    {"input": "Absolutely love the colour, would buy again.", "output": "positive"},
    {"input": "Customer support solved my issue within minutes.", "output": "positive"},
    {"input": "Great value for the price and very sturdy.", "output": "positive"},
    {"input": "Setup was quick and the manual was clear.", "output": "positive"},
    {"input": "The screen cracked after one week of normal use.", "output": "negative"},
    {"input": "Nobody answered my emails about the refund.", "output": "negative"},
    {"input": "It smells of plastic and the zipper broke.", "output": "negative"},
    {"input": "Far too small, the size chart is wrong.", "output": "negative"},
    {"input": "Battery dies after an hour, very disappointing.", "output": "negative"},
]

SAMPLE_CONFIG: dict[str, Any] = {
    "task_type": "classification",
    "name": "sample-sentiment",
    "description": "Classify a product review as positive or negative. Answer with the label only.",
    "labels": ["positive", "negative"],
}


def write_project(
    path: Path,
    config: dict[str, Any] | None = None,
    seeds: list[dict] | None = None,
    test: list[dict] | None = None,
    files: dict[str, str | bytes] | None = None,
) -> Path:
    """Write a project folder; every argument left out takes the sample classification project's."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / "task.yaml").write_text(yaml.safe_dump(config or SAMPLE_CONFIG, sort_keys=False), encoding="utf-8")
    rows = SAMPLE_SEEDS if seeds is None else seeds
    (path / "seeds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    if test is not None:
        (path / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in test), encoding="utf-8")
    for name, content in (files or {}).items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return path


@contextlib.contextmanager
def registered_plugin(plugin: Any, name: str | None = None) -> Iterator[Any]:
    """Register ``plugin`` with the process's plugin manager, and remove it afterwards."""
    plugins = get_plugins()
    name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
    plugins.add(plugin, name)
    try:
        yield plugin
    finally:
        if plugins.pm.has_plugin(name):
            plugins.remove(name)


@attrs.frozen
class CompletedRun:
    exit_code: int
    stdout: str
    stderr: str


def run_germinate(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> CompletedRun:
    """Run the germinate CLI in this process (plugin commands included)."""
    from click.testing import CliRunner

    from germinate.cli import cli

    cli.forget_plugin_commands()  # plugins registered since the last call
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input, env=env, catch_exceptions=True)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CompletedRun(result.exit_code, result.stdout, result.stderr)


# -- pytest fixtures ------------------------------------------------------------------------------

try:
    import pytest
except ImportError:  # the helpers above work without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def make_project(tmp_path: Path):
        counter = iter(range(10**6))

        def factory(path: Path | None = None, **overrides: Any) -> Path:
            return write_project(path or tmp_path / f"project{next(counter)}", **overrides)

        return factory

    @pytest.fixture
    def register_plugin():
        with contextlib.ExitStack() as stack:
            yield lambda plugin, name=None: stack.enter_context(registered_plugin(plugin, name))

    @pytest.fixture
    def germinate_cli():
        return run_germinate


__all__ = ["SAMPLE_CONFIG", "SAMPLE_SEEDS", "CompletedRun", "registered_plugin", "run_germinate", "write_project"]
