"""Benchmark: a new user's first `make synth` and first `make test` set-up, on a fresh clone.

Clones the committed HEAD of this repository into a temporary directory and runs there:

1. `make synth`: creates .venv, installs uv (pip, hashes checked), the runtime lock
   (requirements.txt) with uv, then synthesizes every environment. Target: <= 45 s.
2. `make test`'s set-up: adds requirements-dev.txt to .venv and builds .venv-checkov
   (requirements-checkov.txt). With `--full-test`, the whole `make test` (set-up + suite).
   Target: <= 180 s for the whole first `make test`.

By default the installers' download caches are empty (`UV_CACHE_DIR` and `PIP_CACHE_DIR` point
into the scratch directory), as on a new machine; `--warm-cache` uses your caches instead.
Wall times include everything make does; the venv sizes are printed too.

    .venv/bin/python bench/setup_bench.py [--warm-cache] [--full-test]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SYNTH_TARGET_S = 45.0
TEST_TARGET_S = 180.0
TEST_SETUP_TARGETS = (".venv/.dev-installed", ".venv-checkov/.installed")


def tree_mib(path: Path) -> float:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            file = Path(root, name)
            if not file.is_symlink():
                total += file.stat().st_size
    return total / 2**20


def timed(command: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> float:
    with log.open("wb") as output:
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
        wall = time.perf_counter() - start
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        sys.exit(f"{' '.join(command)} exited {done.returncode}:\n{tail}")
    return wall


def verdict(wall: float, target: float) -> str:
    return f"<= {target:.0f} s {'PASS' if wall <= target else 'FAIL'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-cache", action="store_true", help="keep your uv/pip caches")
    parser.add_argument("--full-test", action="store_true", help="run the whole `make test`")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="setup-bench-") as scratch:
        work = Path(scratch)
        clone = work / "clone"
        subprocess.run(
            ["git", "clone", "--quiet", "--depth=1", f"file://{PROJECT_ROOT}", str(clone)],
            check=True,
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
        env.pop("VIRTUAL_ENV", None)
        if not args.warm_cache:
            env |= {"UV_CACHE_DIR": str(work / "uv-cache"), "PIP_CACHE_DIR": str(work / "pip")}
        env["TMPDIR"] = str(work)

        synth = timed(["make", "synth"], cwd=clone, env=env, log=work / "synth.log")
        runtime_mib = tree_mib(clone / ".venv")
        if args.full_test:
            test = timed(["make", "test"], cwd=clone, env=env, log=work / "test.log")
            test_label = "first make test (set-up + suite)"
        else:
            test = timed(["make", *TEST_SETUP_TARGETS], cwd=clone, env=env, log=work / "test.log")
            test_label = "first make test set-up"
        dev_mib = tree_mib(clone / ".venv") + tree_mib(clone / ".venv-checkov")

    cache = "warm" if args.warm_cache else "empty (cold)"
    print(f"setup benchmark: fresh clone of HEAD, installer caches {cache}")
    synth_verdict = verdict(synth, SYNTH_TARGET_S)
    print(f"  {'first make synth (incl. set-up)':<36}{synth:>8.1f} s   {synth_verdict}")
    print(f"  {'  runtime .venv':<36}{runtime_mib:>8.0f} MiB")
    test_verdict = verdict(test, TEST_TARGET_S)
    print(f"  {test_label:<36}{test:>8.1f} s   {test_verdict}")
    print(f"  {'  .venv + .venv-checkov':<36}{dev_mib:>8.0f} MiB")
    return 0 if synth <= SYNTH_TARGET_S and test <= TEST_TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
