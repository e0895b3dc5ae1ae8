"""The ``germinate`` command line: the root group in :mod:`germinate.cli.root` (which imports a
command's module only when that command runs), one module per command group beside it, and the
options they share in :mod:`germinate.cli.options`."""

from __future__ import annotations

from germinate.cli.root import cli

__all__ = ["cli", "main"]


def main() -> None:
    cli.listing_cache = True  # only installed plugins reach a console run
    cli(prog_name="germinate")


if __name__ == "__main__":
    main()
