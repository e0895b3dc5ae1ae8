"""The command line loads on use: ``germinate --help`` lists every built-in command from the
root group's table and plugin commands from a remembered listing, without importing either;
running a command imports its module. The plugin here is real: a distribution found through its
``.dist-info`` entry point on PYTHONPATH, as an installed one is."""

import importlib
import inspect
import os
import subprocess
import sys
import textwrap

import click
import pytest

from germinate.cli.root import COMMANDS, cli

pytestmark = pytest.mark.fast


def test_the_table_holds_each_commands_own_help_and_name():
    for name, (module, attribute, text) in COMMANDS.items():
        command = getattr(importlib.import_module(f"germinate.cli.{module}"), attribute)
        assert command.name == name and command.get_short_help_str(1000) == text, name


def test_every_command_defined_under_cli_is_in_the_table():
    listed = {(module, attribute) for module, attribute, _ in COMMANDS.values()}
    top = [getattr(importlib.import_module(f"germinate.cli.{m}"), a) for m, a in listed]
    nested = {id(c) for group in top if isinstance(group, click.Group) for c in group.commands.values()}
    for module in {m for m, _, _ in COMMANDS.values()} | {"options", "root"}:
        loaded = importlib.import_module(f"germinate.cli.{module}")
        for attribute, value in inspect.getmembers(loaded, lambda v: isinstance(v, click.Command)):
            if value is not cli and id(value) not in nested:
                assert (module, attribute) in listed, f"germinate.cli.{module}.{attribute} is not in COMMANDS"


PLUGIN = '''
import pathlib, click
from germinate import hookimpl

pathlib.Path({marker!r}).open("a").write("imported\\n")


class Plugin:
    @hookimpl
    def register_commands(self, cli):
        @cli.command("hello-test")
        def hello():
            """Greet from a plugin command."""
            click.echo("hello from the plugin")


plugin = Plugin()
'''


def _germinate(*args, env):
    return subprocess.run([sys.executable, "-m", "germinate", *args], capture_output=True, text=True, env=env)


def test_help_lists_plugin_commands_without_importing_them_again(tmp_path):
    site, marker = tmp_path / "site", tmp_path / "imports.txt"
    site.mkdir()
    (site / "hello_plugin.py").write_text(PLUGIN.format(marker=str(marker)))
    info = site / "hello_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hello-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[germinate]\nhello = hello_plugin:plugin\n")
    env = {**os.environ, "PYTHONPATH": str(site), "XDG_CACHE_HOME": str(tmp_path / "cache")}

    first = _germinate("--help", env=env)
    assert first.returncode == 0, first.stderr
    assert "hello-test  Greet from a plugin command." in first.stdout and "validators" in first.stdout
    assert marker.read_text() == "imported\n"  # no listing remembered yet: the plugins were loaded
    assert list((tmp_path / "cache" / "germinate").glob("cli-commands-*.json"))

    second = _germinate("--help", env=env)
    assert second.stdout == first.stdout
    assert marker.read_text() == "imported\n"  # listed from the remembered listing

    ran = _germinate("hello-test", env=env)
    assert ran.returncode == 0 and ran.stdout == "hello from the plugin\n", ran.stderr

    # uninstalled (its .dist-info removed): the remembered listing no longer applies
    for path in info.iterdir():
        path.unlink()
    info.rmdir()
    gone = _germinate("--help", env=env)
    assert gone.returncode == 0 and "hello-test" not in gone.stdout
    assert _germinate("hello-test", env=env).returncode == 2


def test_help_imports_no_command_module():
    code = textwrap.dedent(
        """
        import sys
        from germinate.cli import main
        sys.argv = ["germinate", "--help"]
        try:
            main()
        except SystemExit:
            pass
        loaded = sorted(m for m in sys.modules if m.startswith("germinate.cli.") and m != "germinate.cli.root")
        print("LOADED", [m for m in loaded if m != "germinate.cli.plugin_commands"])
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "LOADED []" in out.stdout, out.stdout + out.stderr
