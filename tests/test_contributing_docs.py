"""CONTRIBUTING.md documents every hook with its exact signature."""

import inspect
import re
from pathlib import Path

import pytest

from germinate import hookspecs

pytestmark = pytest.mark.fast

DOC = (Path(__file__).resolve().parents[1] / "CONTRIBUTING.md").read_text()


def _specs():
    return {name: fn for name, fn in vars(hookspecs).items() if callable(fn) and hasattr(fn, "germinate_spec")}


def test_every_hook_spec_has_a_docstring():
    assert _specs()
    for name, fn in _specs().items():
        assert (fn.__doc__ or "").strip(), name


def test_every_hook_is_documented_with_its_exact_signature():
    headings = set(re.findall(r"^### `([a-z_]+\(.*\))`$", DOC, re.M))
    expected = {f"{name}({', '.join(inspect.signature(fn).parameters)})" for name, fn in _specs().items()}
    assert expected <= headings, f"undocumented or wrong signature: {sorted(expected - headings)}"
    documented_names = {h.split("(")[0] for h in headings}
    assert documented_names <= set(_specs()), "CONTRIBUTING documents a hook that does not exist"
