"""Operator commands for the Fargate platform.

    python -m ops run-task --env dev --job migrate -- python manage.py migrate

Each command lives in its own module exposing `register(subparsers)`, which adds a subparser
and sets `handler` (a callable taking the parsed arguments and returning the exit code) as its
default. To add a command, write the module and append it to COMMANDS. Modules import heavy
dependencies (boto3) inside their handlers, never at module level, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Protocol

from ops import (
    cost,
    diagram,
    ecs_exec,
    import_compose,
    logs,
    preflight,
    release,
    release_impact,
    run_task,
)


class Command(Protocol):
    """What a command module provides (modules satisfy this protocol structurally)."""

    def register(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        """Add the command's subparser; set `handler` as its default."""


class Handler(Protocol):
    def __call__(self, args: argparse.Namespace) -> int: ...


COMMANDS: tuple[Command, ...] = (
    run_task,
    release,
    logs,
    ecs_exec,
    release_impact,
    cost,
    diagram,
    preflight,
    import_compose,
)


def build_parser(commands: Sequence[Command] = COMMANDS) -> argparse.ArgumentParser:
    """The top-level parser, one subcommand per module in `commands`."""
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command_name", metavar="COMMAND", required=True)
    for command in commands:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: sys.argv[1:]) and run the chosen command; returns its exit code."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
