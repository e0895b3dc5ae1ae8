"""The plugin API (``germinate.__all__``) resolves every name it lists, lazily: importing
germinate loads none of the modules behind it, so the command line starts fast."""

import subprocess
import sys

import pytest

import germinate

pytestmark = pytest.mark.fast


def test_every_listed_name_resolves_to_what_its_module_defines():
    import importlib

    for name in germinate.__all__:
        value = getattr(germinate, name)
        if name != "__version__":
            assert value is getattr(importlib.import_module(germinate._SOURCES[name]), name), name
    assert sorted(dir(germinate)) == sorted(germinate.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        _ = germinate.nonesuch


def test_importing_germinate_loads_none_of_the_api_modules():
    code = (
        "import sys, germinate\n"
        "loaded = sorted(set(germinate._SOURCES.values()) & set(sys.modules))\n"
        "print(','.join(loaded))\n"
        "from germinate import TaskType\n"
        "print('germinate.tasks.base' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["", "True"]
