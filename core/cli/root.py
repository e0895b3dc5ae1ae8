"""The root ``germinate`` command group.

Start-up is kept short: the built-in commands are listed in :data:`COMMANDS` with their one-line
help and their module is imported only when the command runs (or its own ``--help`` is asked
for); plugins, whose ``register_commands`` hook may add commands, load only when a name is not
built in or the full command list is wanted. Options several commands share live in
:mod:`germinate.cli.options`."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import click

from germinate import __version__
from germinate.problems import GerminateError, one_line

EXIT_BAD_INPUT = 2

#: built-in commands: name -> (module under germinate.cli, attribute, the help's first sentence).
#: tests/test_cli_lazy.py holds each sentence equal to the command's own docstring.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("project", "init_command", "Create a project folder with a commented task.yaml (asks for what the flags leave out)."),
    "check": ("project", "check_command", "Check a project folder; print every problem as file:line: field: message."),
    "gate": ("evaluate", "gate_command", "Can the teacher do the task? Score it k-shot on the seeds (leave-one-out) or a slice of the test split: PROCEED, ITERATE or RETHINK (exit code 3), with the figure and the worst answers."),
    "generate": ("generate", "generate_command", "Generate synthetic examples until N pass the validation cascade (resumes where it stopped)."),
    "validate": ("generate", "validate_command", "Run the validation cascade over a run's candidates and show what changes; only --apply writes anything."),
    "review": ("review", "review_command", "List a run's candidates and record decisions about them."),
    "train": ("student", "train_command", "LoRA-fine-tune the student on seeds + accepted examples (resumes from the last checkpoint)."),
    "evaluate": ("evaluate", "evaluate_command", "Score teacher (k-shot), trained, seed-only and base student on the test split; write a report."),
    "run": ("evaluate", "run_command", "Everything: check, the teacher gate, generate and validate, train, evaluate, report (resumes where it stopped)."),
    "bench": ("evaluate", "bench_command", "The whole pipeline over several projects (or benchmark dataset folders with task.json) and one combined table."),
    "predict": ("student", "predict_command", "Run a student over a JSONL file, batched, and write its predictions."),
    "serve": ("student", "serve_command", "Serve the student as an OpenAI-compatible API (/v1/chat/completions, /v1/models, /health)."),
    "export": ("export", "export_command", "Export the student (gguf, ollama, merged, adapter) and/or the accepted data (--data)."),
    "ask": ("teacher", "ask_command", "Send prompts to the project's teacher through the engine (cache, retries, cost)."),
    "cache": ("teacher", "cache_group", "Inspect or clear a project's cache of teacher calls."),
    "plugins": ("listings", "plugins_command", "List installed plugins: distribution, version, hooks and what each provides."),
    "task-types": ("listings", "task_types_command", "List task types, with their record and config schemas."),
    "validators": ("listings", "validators_command", "List validators in cascade order, with their config schemas."),
    "teachers": ("listings", "teachers_command", "List teacher backends, with their config schemas."),
}  # fmt: skip
# click >= 8.2 reports a group called without a command as an error that carries the help text
_HELP_ERRORS: tuple[type[click.ClickException], ...] = tuple(
    getattr(click.exceptions, name) for name in ("NoArgsIsHelpError",) if hasattr(click.exceptions, name)
)


def echo_err(line: str) -> None:
    """Print one line to stderr: control characters shown escaped, anything key-shaped redacted."""
    click.echo(one_line(line), err=True)


def echo_problems(problems: list[Any]) -> None:
    """Each problem's line once (two checks that find the same thing print it once)."""
    for line in dict.fromkeys(str(problem) for problem in problems):
        echo_err(line)


class GerminateGroup(click.Group):
    """Turns GerminateError into ``file:line: field: message`` lines and exit code 2, never a
    traceback; a usage error (a bad option value) is one line and exit code 2 too; Ctrl-C exits
    130 with a note that rerunning resumes. Built-in commands load on use (:data:`COMMANDS`);
    a plugin's command of the same name as a built-in one is not used."""

    #: whether --help may list plugin commands from :mod:`germinate.cli.plugin_commands` (set by
    #: the console entry point; an in-process caller may have registered plugins by hand)
    listing_cache = False
    _plugins_registered = False

    def _register_plugin_commands(self) -> None:
        if not self._plugins_registered:
            self._plugins_registered = True
            from germinate.plugins import get_plugins

            get_plugins().each("register_commands", cli=self)
            if self.listing_cache:
                from germinate.cli import plugin_commands

                plugin_commands.remember(self._plugin_help())

    def forget_plugin_commands(self) -> None:
        """Drop the commands plugins added, so the next use registers what is installed then."""
        self.commands.clear()
        self._plugins_registered = False

    def _plugin_help(self) -> dict[str, str]:
        """{name: one-line help} of the registered plugin commands that --help shows."""
        return {n: c.get_short_help_str(1000) for n, c in self.commands.items() if n not in COMMANDS and not c.hidden}

    def _plugin_listing(self) -> dict[str, str]:
        """{name: one-line help} of plugin commands: remembered, or found by loading the plugins."""
        if self.listing_cache and not self._plugins_registered:
            from germinate.cli import plugin_commands

            remembered = plugin_commands.cached()
            if remembered is not None:
                return remembered
        self._register_plugin_commands()
        return self._plugin_help()

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self._plugin_listing()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:  # a built-in name wins over a plugin's command of that name
            module, attribute, _ = COMMANDS[cmd_name]
            command: click.Command = getattr(importlib.import_module(f"germinate.cli.{module}"), attribute)
            return command
        self._register_plugin_commands()
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list for ``--help``: built-ins from :data:`COMMANDS`, plugin commands from
        the remembered listing, so neither is imported."""
        listing = {name: text for name, (_, _, text) in COMMANDS.items()}
        listing.update({n: t for n, t in self._plugin_listing().items() if n not in COMMANDS})
        limit = formatter.width - 6 - max(len(name) for name in listing)
        # click's own shortening, through a bare Command that holds only the help text
        rows = [(n, click.Command(n, help=listing[n]).get_short_help_str(limit)) for n in sorted(listing)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except GerminateError as exc:  # e.g. a plugin with a misspelled hook, found while listing commands
            echo_problems(exc.problems)
            sys.exit(EXIT_BAD_INPUT)
        except _HELP_ERRORS as exc:  # `germinate` alone: the help, as click shows it
            exc.show()
            sys.exit(exc.exit_code)
        except click.ClickException as exc:  # click would print usage and a hint: three more lines
            echo_err(f"germinate: {exc.format_message()}")
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            echo_err("germinate: aborted")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GerminateError as exc:
            echo_problems(exc.problems)
            ctx.exit(EXIT_BAD_INPUT)
        except KeyboardInterrupt:
            echo_err("germinate: interrupted; everything finished so far is kept, rerun to resume")
            ctx.exit(130)
        except OSError as exc:
            # an unwritable folder, a full disk, an unreadable file: one line naming the file
            where = exc.filename or "germinate"
            echo_err(f"{where}: {exc.strerror or exc}; everything finished so far is kept")
            ctx.exit(EXIT_BAD_INPUT)


def _report_plugin_failures() -> None:
    from germinate.plugins import get_plugins

    plugins = get_plugins()
    plugins.listing()  # makes every plugin register, so registration failures surface too
    for line in plugins.failures:
        echo_err(f"germinate: warning: {line}")


@click.group(cls=GerminateGroup)
@click.version_option(__version__, prog_name="germinate")
def cli() -> None:
    """Turn a task description and 10-50 examples into a small fine-tuned expert model."""
    _report_plugin_failures()
