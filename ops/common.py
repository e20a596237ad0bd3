"""What every entry point shares: where synth output lives, one error type, the exit codes and
the one wrapper that turns an error into its exit code.

Only the standard library: `main.py` and every `python -m ops` command import this.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTDIR = PROJECT_ROOT / "cdktf.out"
OUTDIR_VARIABLE = "CDKTF_OUTDIR"

EXIT_OK = 0
EXIT_FAILED = 1
"""The work ran and failed: a rollout rolled back, preflight findings, a diagram not rendered."""
EXIT_BAD_INPUT = 2
"""Bad config, arguments, spec or synth output: nothing was done."""
EXIT_AWS_ERROR = 3
EXIT_REFUSED = 4
"""The image does not exist, fails its scan, or skipped the environment it must come from."""
EXIT_TIMEOUT = 124
EXIT_NOT_STARTED = 125
"""The task stopped before its container produced an exit code."""
EXIT_TOOL_MISSING = 127
EXIT_INTERRUPTED = 130


def default_outdir() -> Path:
    """Where synth writes and the ops commands read: `$CDKTF_OUTDIR` when set (the CDKTF CLI
    sets it; relative to the working directory), else the project's `cdktf.out`. main.py uses
    this same function, so both always agree."""
    configured = os.environ.get(OUTDIR_VARIABLE)
    return Path(configured) if configured else DEFAULT_OUTDIR


class OpsError(Exception):
    """A failure reported as one message and an exit code, without a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


Handler = Callable[[argparse.Namespace], int]


def handle(body: Handler) -> Handler:
    """Wrap a command body: OpsError -> `error: ...` on stderr and its exit code; Ctrl-C ->
    `error: interrupted` and 130. Every `python -m ops` command is registered through this."""

    def handler(args: argparse.Namespace) -> int:
        try:
            return body(args)
        except OpsError as error:
            print(f"error: {error}", file=sys.stderr)
            return error.exit_code
        except KeyboardInterrupt:
            print("error: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED

    return handler


def positive_seconds(text: str) -> float:
    """argparse type of `--timeout`/`--poll-interval`: a positive number of seconds."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return seconds
