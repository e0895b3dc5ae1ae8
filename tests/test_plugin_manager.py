"""Loading, filtering, tracing and isolating plugins."""

import json

import pytest
from conftest import germinate

from germinate import hookimpl
from germinate.plugins import get_plugins
from germinate.problems import GerminateError
from germinate.validate.base import Check, Validator, Verdict

pytestmark = pytest.mark.fast

TASK_PLUGINS = {"classification", "extraction", "qa", "tool_calling"}


def _listing(**env):
    result = germinate("plugins", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_plugins_json_lists_installed_distributions():
    rows = _listing()
    assert set(rows) >= TASK_PLUGINS
    qa = rows["qa"]
    assert qa["distribution"] == "germinate-qa" and qa["version"] == "0.1.0"
    assert qa["hooks"] == ["register_task_types"]
    assert qa["provides"]["task_types"] == ["open_book_qa", "closed_book_qa"]


def test_load_plugins_selects_and_empty_loads_none():
    assert set(_listing(GERMINATE_LOAD_PLUGINS="qa,germinate-classification")) == {"qa", "classification"}
    assert _listing(GERMINATE_LOAD_PLUGINS="") == {}


def test_disabled_plugins_are_skipped():
    rows = _listing(GERMINATE_DISABLED_PLUGINS="qa, germinate-tool-calling")
    assert "qa" not in rows and "tool_calling" not in rows and "classification" in rows


def test_trace_prints_each_hook_call():
    result = germinate("task-types", "--json", env={"GERMINATE_TRACE_PLUGINS": "1", "GERMINATE_LOAD_PLUGINS": "qa"})
    assert result.returncode == 0
    assert "[germinate trace] call register_task_types(register) -> qa" in result.stderr
    assert [row["name"] for row in json.loads(result.stdout)] == ["closed_book_qa", "open_book_qa"]


def test_misspelled_hook_fails_fast_naming_the_plugin():
    class Typo:
        @hookimpl
        def register_validator(self, register):  # the hook is register_validators
            pass

    with pytest.raises(GerminateError) as caught:
        get_plugins().add(Typo(), "typo-plugin")
    message = str(caught.value)
    assert message.startswith("plugin 'typo-plugin':") and "register_validator" in message
    assert not get_plugins().pm.has_plugin("typo-plugin")


class _Upper(Validator):
    name = "no_shouting_test"
    order = 5

    def prepare(self, seeds, settings, task):
        class _C(Check):
            def check(self, record):
                return Verdict.reject("shouting") if record["input"].isupper() else Verdict.accept()

        return _C()


class _Good:
    @hookimpl
    def register_validators(self, register):
        register(_Upper())


class _Raises:
    @hookimpl
    def register_validators(self, register):
        raise RuntimeError("config file missing")


def test_plugin_raising_in_registration_is_one_line(register_plugin):
    register_plugin(_Good(), "good-plugin")
    register_plugin(_Raises(), "bad-plugin")
    plugins = get_plugins()
    assert "no_shouting_test" in plugins.validators
    assert "plugin 'bad-plugin' failed in register_validators: RuntimeError: config file missing" in plugins.failures
    assert plugins.provider("validators", "no_shouting_test") == "good-plugin"


def test_registered_plugin_is_listed_then_removed(register_plugin, germinate_cli):
    with_it = germinate_cli("validators", "--json")
    assert "no_shouting_test" not in with_it.stdout
    register_plugin(_Good(), "good-plugin")
    rows = json.loads(germinate_cli("validators", "--json").stdout)
    assert rows[0]["name"] == "no_shouting_test" and rows[0]["plugin"] == "good-plugin"


def test_duplicate_names_keep_the_first(register_plugin):
    register_plugin(_Good(), "good-plugin")
    register_plugin(_Good(), "copy-plugin")
    plugins = get_plugins()
    assert plugins.provider("validators", "no_shouting_test") == "good-plugin"
    assert (
        "plugin 'copy-plugin' registers validator 'no_shouting_test', already provided by 'good-plugin'; ignored"
    ) in plugins.failures


def test_cli_help_does_not_import_heavy_modules():
    code = (
        "import sys; from germinate.cli import main; sys.argv=['germinate','--help'];\n"
        "try: main()\nexcept SystemExit: pass\n"
        "heavy = [m for m in ('torch','transformers','openai','anthropic','numpy','rouge_score','jsonschema','regex') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert "HEAVY []" in out
