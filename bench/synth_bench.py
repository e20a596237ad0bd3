"""Benchmark: naive AWS provider import vs. the project's `make synth`, with identical output.

Why: `cdktf_cdktf_provider_aws/__init__.py` eagerly imports ~2,200 resource submodules, which
costs 13-18 s and up to 1.5 GB. `modules/aws.py` registers the package without running that
`__init__` and imports only the submodules the project uses. This script checks that the
shortcut pays off and changes nothing in the synthesized Terraform JSON.

Two paths, each in a fresh process tree, synthesizing every environment:

* naive:   the venv python runs `import cdktf_cdktf_provider_aws` (what a user would write),
           then `main.main(["--outdir", <dir>])`; `modules/aws.py` reuses the full package,
           and node loads the provider's whole index (FARGATE_EAGER_PROVIDER_LOAD=1).
* project: `make -s synth` in the project root with `CDKTF_OUTDIR=<dir>` (what users run).

For each path it records the wall time (spawn to exit) and the peak RSS of the whole process
tree: every ~10 ms it sums `VmRSS` from `/proc/<pid>/status` over the root process and all
its descendants (python *and* the node process jsii starts; for the project path also make)
and keeps the largest sum. With `--repeat N` the paths alternate N times and the best (lowest)
wall time and peak RSS of each path are reported.

Targets (project / naive): wall <= 0.15x, peak RSS <= 0.5x. It also times the operator CLI's
start-up (`python -m ops <command> --help`, best of 3 each): every command under 1 s. Finally every
`stacks/*/cdk.tf.json` and `manifest.json` of every run is compared byte for byte with the
first naive run. Exit status is 0 only if both targets pass and all outputs are identical.

    .venv/bin/python bench/synth_bench.py [--repeat N]      # or: make bench
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"
REQUIREMENTS_STAMP = ".venv/.runtime-installed"
BENCH_OUT = PROJECT_ROOT / "bench.out"

WALL_TARGET = 0.15
RSS_TARGET = 0.50
SAMPLE_INTERVAL_S = 0.050  # a 10 ms sampler took CPU from a synth using both cores
MIN_EAGER_SUBMODULES = 1000
"""The naive child fails if fewer provider submodules than this were imported."""

HAS_PROC_CHILDREN = os.path.exists(f"/proc/self/task/{os.getpid()}/children")

COMPARED_GLOBS = ("manifest.json", "stacks/*/cdk.tf.json")

# Runs in the naive child: the full eager package import, then the project's own entry point.
NAIVE_SCRIPT = f"""
import sys
sys.path.insert(0, {str(PROJECT_ROOT)!r})
import cdktf_cdktf_provider_aws
import main
status = main.main(["--outdir", sys.argv[1]])
loaded = sum(name.startswith("cdktf_cdktf_provider_aws.") for name in sys.modules)
if loaded < {MIN_EAGER_SUBMODULES}:
    sys.exit(f"naive path is not naive: only {{loaded}} provider submodules were imported")
sys.exit(status)
"""


class BenchError(Exception):
    """A benchmarked command failed; the message carries its output."""


@dataclass(frozen=True)
class Measurement:
    wall_s: float
    peak_rss_kib: int


# --------------------------------------------------------------------------- process tree


def _children(pid: int) -> list[int]:
    """Direct children of `pid`, from every thread's `children` list."""
    if not HAS_PROC_CHILDREN:
        return _children_by_scan(pid)
    children: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return children  # exited
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as handle:
                children.extend(int(child) for child in handle.read().split())
        except OSError:
            continue  # the thread or process just exited
    return children


def _children_by_scan(pid: int) -> list[int]:
    """Fallback for kernels without CONFIG_PROC_CHILDREN: match the ppid of every process."""
    children: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        # Fields after the parenthesised command name: state, ppid, ...
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children.append(int(entry))
    return children


def _rss_kib(pid: int) -> int:
    """`VmRSS` of `pid` in KiB; 0 if it has exited or is a zombie (no VmRSS line)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kib(root: int) -> int:
    """Sum of `VmRSS` over `root` and all its descendants, right now."""
    total, pending, seen = 0, [root], set()
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _rss_kib(pid)
        pending.extend(_children(pid))
    return total


def measure(command: Sequence[str], *, env: dict[str, str], log: Path) -> Measurement:
    """Run `command` in the project root; wall time and peak process-tree RSS.

    The child's stdout and stderr go to `log`; a non-zero exit raises with its content.
    """
    peak = 0
    done = threading.Event()

    def sample(root: int) -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kib(root))
            done.wait(SAMPLE_INTERVAL_S)

    with log.open("wb") as output:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        sampler = threading.Thread(target=sample, args=(process.pid,), daemon=True)
        sampler.start()
        returncode = process.wait()
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
    if returncode != 0:
        raise BenchError(
            f"{' '.join(command)} exited {returncode}:\n{log.read_text(errors='replace')}"
        )
    return Measurement(wall_s=wall, peak_rss_kib=peak)


# --------------------------------------------------------------------------- the two paths


def _base_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CDKTF_OUTDIR", None)
    # Started from `make bench`: don't let the outer make's flags leak into the inner one.
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(name, None)
    return env


def run_naive(outdir: Path, log: Path) -> Measurement:
    command = [str(PYTHON), "-c", NAIVE_SCRIPT, str(outdir)]
    # None of the shortcuts (both in stacks/): node loads the provider's whole index too
    # (lazy_provider_index.mjs off) and jsii runs its own relay runtime (jsii_direct_runtime.cjs
    # off), so "outputs identical" also proves that neither changes anything.
    env = _base_env() | {
        "FARGATE_EAGER_PROVIDER_LOAD": "1",
        "FARGATE_JSII_RELAY": "1",
        "NODE_OPTIONS": "",
    }
    return measure(command, env=env, log=log)


def run_project(outdir: Path, log: Path) -> Measurement:
    env = _base_env() | {"CDKTF_OUTDIR": str(outdir)}
    return measure(["make", "-s", "--no-print-directory", "synth"], env=env, log=log)


def check_venv_ready() -> None:
    """Refuse to run if `make synth` would (re)install requirements instead of just synthing."""
    question = subprocess.run(
        ["make", "-q", REQUIREMENTS_STAMP], cwd=PROJECT_ROOT, env=_base_env(), check=False
    )
    if question.returncode != 0:
        sys.exit(f"{REQUIREMENTS_STAMP} is out of date: run `make synth` once, then benchmark")


# --------------------------------------------------------------------------- output check


def compared_files(outdir: Path) -> set[str]:
    return {
        path.relative_to(outdir).as_posix()
        for pattern in COMPARED_GLOBS
        for path in outdir.glob(pattern)
    }


def differences(reference: Path, other: Path) -> list[str]:
    """Relative paths that are missing on either side or differ byte for byte."""
    expected, actual = compared_files(reference), compared_files(other)
    problems = [f"{name}: only in {reference.name}" for name in sorted(expected - actual)]
    problems += [f"{name}: only in {other.name}" for name in sorted(actual - expected)]
    problems += [
        f"{name}: {reference.name} and {other.name} differ"
        for name in sorted(expected & actual)
        if (reference / name).read_bytes() != (other / name).read_bytes()
    ]
    return problems


# --------------------------------------------------------------------------- report


def best(runs: Sequence[Measurement]) -> Measurement:
    return Measurement(
        wall_s=min(run.wall_s for run in runs),
        peak_rss_kib=min(run.peak_rss_kib for run in runs),
    )


def verdict(ratio: float, target: float) -> str:
    return "PASS" if ratio <= target else "FAIL"


def report(naive: Measurement, project: Measurement, repeat: int) -> bool:
    wall_ratio = project.wall_s / naive.wall_s
    rss_ratio = project.peak_rss_kib / naive.peak_rss_kib
    rows = [
        ("", "wall", "peak RSS"),
        ("naive import + main", f"{naive.wall_s:.2f} s", f"{naive.peak_rss_kib / 1024:.0f} MiB"),
        ("make synth", f"{project.wall_s:.2f} s", f"{project.peak_rss_kib / 1024:.0f} MiB"),
        ("project / naive", f"{wall_ratio:.3f}x", f"{rss_ratio:.3f}x"),
        ("target", f"<= {WALL_TARGET:.2f}x", f"<= {RSS_TARGET:.2f}x"),
        ("result", verdict(wall_ratio, WALL_TARGET), verdict(rss_ratio, RSS_TARGET)),
    ]
    print(f"synth benchmark, best of {repeat} (peak RSS: whole process tree incl. node)")
    for label, wall, rss in rows:
        print(f"  {label:<21}{wall:>12}{rss:>12}")
    return wall_ratio <= WALL_TARGET and rss_ratio <= RSS_TARGET


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=1, metavar="N", help="runs per path; best of N (default 1)"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    check_venv_ready()
    BENCH_OUT.mkdir(exist_ok=True)
    try:
        return run_benchmark(args.repeat)
    except BenchError as error:
        print(f"benchmark aborted: {error}", file=sys.stderr)
        return 1
    finally:
        with contextlib.suppress(OSError):
            BENCH_OUT.rmdir()  # only if empty: leave anything else there alone


OPS_COMMANDS = ("deploy", "promote", "rollback", "status", "logs", "exec", "release-impact")
OPS_STARTUP_TARGET_S = 1.0


def ops_startup() -> bool:
    """Print each ops command's start-up time (best of 3); True if all are under target."""
    print(
        "ops start-up, best of 3 (`python -m ops <command> --help`, "
        f"target < {OPS_STARTUP_TARGET_S:g} s)"
    )
    passed = True
    for command in OPS_COMMANDS:
        timings = []
        for _ in range(3):
            started = time.monotonic()
            subprocess.run(
                [str(PYTHON), "-m", "ops", command, "--help"],
                cwd=PROJECT_ROOT,
                env=_base_env(),
                stdout=subprocess.DEVNULL,
                check=True,
            )
            timings.append(time.monotonic() - started)
        seconds = min(timings)
        passed &= seconds < OPS_STARTUP_TARGET_S
        print(f"  {command:<21}{seconds:>10.2f} s  {verdict(seconds, OPS_STARTUP_TARGET_S)}")
    return passed


def run_benchmark(repeat: int) -> int:
    """Alternate the two paths `repeat` times, print the table and the output comparison."""
    naive_runs: list[Measurement] = []
    project_runs: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="synth-bench-", dir=BENCH_OUT) as scratch:
        work = Path(scratch)
        outdirs: list[Path] = []
        for index in range(1, repeat + 1):
            # The project path goes first: on a cold jsii package cache it pays the unpacking.
            project_dir, naive_dir = work / f"project-{index}", work / f"naive-{index}"
            project_runs.append(run_project(project_dir, work / f"project-{index}.log"))
            naive_runs.append(run_naive(naive_dir, work / f"naive-{index}.log"))
            outdirs += [naive_dir, project_dir]
            print(
                f"run {index}/{repeat}: naive {naive_runs[-1].wall_s:.2f} s "
                f"{naive_runs[-1].peak_rss_kib / 1024:.0f} MiB, "
                f"make synth {project_runs[-1].wall_s:.2f} s "
                f"{project_runs[-1].peak_rss_kib / 1024:.0f} MiB",
                flush=True,
            )

        targets_met = report(best(naive_runs), best(project_runs), repeat)
        reference = outdirs[0]
        file_count = len(compared_files(reference))
        problems = [] if file_count else [f"no synthesized files in {reference.name}"]
        for other in outdirs[1:]:
            problems += differences(reference, other)

    if problems:
        print("outputs identical: NO")
        for problem in problems:
            print(f"  {problem}")
    else:
        print(
            f"outputs identical: yes ({file_count} files: {', '.join(COMPARED_GLOBS)}; "
            f"{len(outdirs)} runs compared byte for byte)"
        )
    startup_ok = ops_startup()
    return 0 if targets_met and startup_ok and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
