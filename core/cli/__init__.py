"""The ``germinate`` command line: the root group in :mod:`germinate.cli.root`, one module per
command group beside it. Importing this package registers every built-in command."""

from __future__ import annotations

import sys

from germinate.cli import evaluate, export, generate, listings, project, review, student, teacher  # noqa: F401  (registers commands)
from germinate.cli.root import EXIT_BAD_INPUT, cli, echo_err
from germinate.plugins import get_plugins
from germinate.problems import GerminateError

__all__ = ["cli", "main"]


def main() -> None:
    try:
        get_plugins().each("register_commands", cli=cli)
    except GerminateError as exc:  # e.g. a plugin with a misspelled hook, found while loading
        for problem in exc.problems:
            echo_err(str(problem))
        sys.exit(EXIT_BAD_INPUT)
    cli(prog_name="germinate")


if __name__ == "__main__":
    main()
