"""Benchmark: the operator CLI's read-only commands over a full synth (wall time, best of N).

Moved out of the test suite (a timing that only prints guards nothing). Synthesizes every
default environment, the test variants and the bootstrap once (tests/session_synth.py), then
times `python -m ops diagram` and `ops cost` over all of them and `ops preflight` over the
default environments.

    .venv/bin/python bench/ops_bench.py [--repeat N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from envs import DEFAULT_ENVIRONMENTS  # noqa: E402

DEFAULTS = (*DEFAULT_ENVIRONMENTS, "state-bootstrap")


def best_of(repeat: int, command: list[str]) -> float:
    """The lowest wall time of `repeat` runs of `command` in the project root (each must pass)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        outdir = Path(scratch) / "cdktf.out"
        subprocess.run(
            [sys.executable, "-m", "tests.session_synth", str(outdir)], cwd=ROOT, check=True
        )
        ops = [sys.executable, "-m", "ops"]
        commands = {
            "diagram": [*ops, "diagram", "--outdir", str(outdir), "--out", scratch],
            "cost": [*ops, "cost", "--outdir", str(outdir)],
            # Default environments only: some variants carry findings on purpose.
            "preflight": [*ops, "preflight", "--outdir", str(outdir), "--env", *DEFAULTS],
        }
        stacks = len(list((outdir / "stacks").iterdir()))
        for name, command in commands.items():
            seconds = best_of(args.repeat, command)
            print(f"python -m ops {name} ({stacks} stacks): {seconds:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
