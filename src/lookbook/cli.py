"""The ``lookbook`` command line. Each stage package adds its own subcommands."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from lookbook import __version__
from lookbook.logs import setup_logging

# Modules that define ``register(subparsers)``; imported lazily so that ``--help``
# stays fast and a stage's heavy imports load only when its command runs.
COMMAND_MODULES = (
    "lookbook.data.cli",
    "lookbook.classifier.cli",
    "lookbook.search.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lookbook", description=__doc__)
    parser.add_argument("--version", action="version", version=f"lookbook {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(logging.DEBUG if args.verbose else logging.INFO)
    # Each subcommand sets ``func``, which returns the process exit status.
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
