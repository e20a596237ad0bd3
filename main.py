"""Synthesize every environment's Terraform JSON into cdktf.out/ (atomically).

    python main.py                 # all environments in envs.DEFAULT_ENVIRONMENTS
    python main.py --env dev       # a subset; the other environments' stacks are kept
    python main.py --check         # validate the config only; never loads the AWS provider

A rejected config (or an output directory that is not safe to replace) prints one line per
problem and exits 2, leaving any existing output as it was. Synth writes into a sibling
temporary directory and swaps it in only when complete; the swap cannot be interrupted
half-way, and what a killed run left behind is cleaned (or restored) by the next one.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path

from envs import DEFAULT_ENVIRONMENTS, ConfigError, EnvironmentConfig, load_environments
from ops.common import EXIT_BAD_INPUT, OUTDIR_VARIABLE, PROJECT_ROOT, default_outdir

EXIT_CONFIG_ERROR = EXIT_BAD_INPUT
MANIFEST = "manifest.json"
BOOTSTRAP_STACK = "state-bootstrap"
SWAP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
PART = ".second-process"
"""Where the second synth process writes, inside the staging directory (see `synth_stacks`)."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--env",
        action="append",
        dest="envs",
        metavar="NAME",
        help=f"environment to synthesize (repeatable; default: {', '.join(DEFAULT_ENVIRONMENTS)})",
    )
    parser.add_argument(
        "--check", action="store_true", help="validate the configuration only, then exit"
    )
    parser.add_argument(
        "--outdir",
        type=Path,
        default=None,
        help=f"output directory (default: ${OUTDIR_VARIABLE} or cdktf.out)",
    )
    return parser.parse_args(argv)


def is_synth_output(path: Path) -> bool:
    """An empty directory, or one holding only what cdktf writes (manifest.json, stacks/)."""
    if path.is_symlink() or not path.is_dir():
        return False
    entries = {entry.name: entry for entry in path.iterdir()}
    if set(entries) - {MANIFEST, "stacks"}:
        return False
    return "stacks" not in entries or entries["stacks"].is_dir()


def outdir_problem(outdir: Path, source: str) -> str | None:
    """Why `outdir` must not be replaced by a synth (None when it is safe)."""
    resolved = outdir.expanduser().resolve()
    for protected in {PROJECT_ROOT, Path.cwd().resolve()}:
        if resolved == protected or resolved in protected.parents:
            return (
                f"{source}: {outdir} contains the project ({protected}); synth replaces its "
                "output directory whole; fix: use a directory of its own, e.g. cdktf.out"
            )
    if resolved.exists() and not is_synth_output(resolved):
        return (
            f"{source}: {outdir} exists and is not a synth output (only manifest.json and "
            "stacks/ may be in it); synth would delete it; fix: remove it yourself or choose "
            "another directory"
        )
    return None


def _siblings(outdir: Path, kind: str) -> Iterator[tuple[Path, int]]:
    """`<outdir>.<kind>-<pid>` directories left next to the output, with their pid."""
    for path in outdir.parent.glob(f"{outdir.name}.{kind}-*"):
        pid = path.name.rsplit("-", 1)[1]
        if pid.isdigit():
            yield path, int(pid)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(outdir: Path) -> None:
    """Undo what a killed synth left: restore a retired output it never replaced, then delete
    its staging and retired directories (never those of a synth still running)."""
    retired = sorted(
        ((p, pid) for p, pid in _siblings(outdir, "old") if not _alive(pid)),
        key=lambda item: item[0].stat().st_mtime,
    )
    if retired and not outdir.exists():
        newest, _ = retired.pop()
        newest.rename(outdir)
    for path, _ in retired + [s for s in _siblings(outdir, "tmp") if not _alive(s[1])]:
        shutil.rmtree(path, ignore_errors=True)


def keep_other_stacks(previous: Path, staging: Path) -> None:
    """Copy into `staging` the environment stacks of `previous` this synth did not produce,
    and list them in its manifest, so synthesizing a subset never drops the others."""
    old_stacks = previous / "stacks"
    if not old_stacks.is_dir():
        return
    manifest_path = staging / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    try:
        old_manifest = json.loads((previous / MANIFEST).read_text())
    except (OSError, ValueError):
        old_manifest = {}
    for stack in sorted(old_stacks.iterdir()):
        name = stack.name
        if name in manifest["stacks"] or name not in DEFAULT_ENVIRONMENTS or not stack.is_dir():
            continue
        shutil.copytree(stack, staging / "stacks" / name)
        entry = old_manifest.get("stacks", {}).get(name)
        manifest["stacks"][name] = entry or {
            "annotations": [],
            "constructPath": name,
            "dependencies": [],
            "name": name,
            "stackMetadataPath": f"stacks/{name}/metadata.json",
            "synthesizedStackPath": f"stacks/{name}/cdk.tf.json",
            "workingDirectory": f"stacks/{name}",
        }
    manifest["stacks"] = dict(sorted(manifest["stacks"].items()))
    manifest_path.write_text(cdktf_manifest_text(manifest))


def kept_environments(outdir: Path, selected: tuple[EnvironmentConfig, ...]) -> list[str]:
    """Environments whose stacks a subset synth keeps from the previous output."""
    chosen = {env.name for env in selected}
    stacks = outdir / "stacks"
    present = {p.name for p in stacks.iterdir()} if stacks.is_dir() else set()
    return [name for name in DEFAULT_ENVIRONMENTS if name in present and name not in chosen]


def swap(staging: Path, outdir: Path, retired: Path) -> None:
    """Replace `outdir` by `staging`. Ctrl-C, SIGTERM or SIGHUP arriving between the two
    renames are held back and delivered once both are done, so an interrupt never leaves the
    output missing (a SIGKILL there is repaired by the next run: `clean_leftovers`)."""
    pending: list[int] = []

    def hold(signum: int, _frame: object) -> None:
        pending.append(signum)

    previous = {held: signal.signal(held, hold) for held in SWAP_SIGNALS}
    try:
        had_output = outdir.exists()
        if had_output:
            outdir.rename(retired)
        try:
            staging.rename(outdir)
        except OSError:
            if had_output:
                retired.rename(outdir)
            raise
    finally:
        for held, handler in previous.items():
            signal.signal(held, handler)
        if pending:
            signal.raise_signal(pending[0])  # now handled as it would have been


def cdktf_manifest_text(manifest: dict[str, object]) -> str:
    """`manifest` as cdktf writes manifest.json (json-stable-stringify, 2 spaces: sorted keys,
    an empty list on two lines, no final newline), so a merged manifest is byte-identical."""

    def render(value: object, level: int) -> str:
        indent = "\n" + "  " * level
        if isinstance(value, list):
            items = [f"{indent}  {render(item, level + 1)}" for item in value]
            return "[" + ",".join(items) + indent + "]"
        if isinstance(value, dict):
            items = [
                f"{indent}  {json.dumps(key, ensure_ascii=False)}: {render(item, level + 1)}"
                for key, item in sorted(value.items())
            ]
            return "{" + ",".join(items) + indent + "}"
        return json.dumps(value, ensure_ascii=False)

    return render(manifest, 0)


def merge_part(part: Path, staging: Path) -> None:
    """Move the stacks the second process synthesized into `part` into `staging`, and list
    them in the staging manifest; `part` is removed."""
    manifest = json.loads((staging / MANIFEST).read_text())
    entries = json.loads((part / MANIFEST).read_text())["stacks"]
    for name in entries:
        (part / "stacks" / name).rename(staging / "stacks" / name)
    manifest["stacks"].update(entries)
    (staging / MANIFEST).write_text(cdktf_manifest_text(manifest))
    shutil.rmtree(part)


def _build_and_synth(
    environments: Sequence[EnvironmentConfig],
    outdir: Path,
    bootstrap: tuple[EnvironmentConfig, ...] | None,
    *,
    state_bootstrap: bool = True,
) -> None:
    from stacks.app import build_app  # loads the provider: only after the config is valid

    app, _, _ = build_app(
        environments, outdir=str(outdir), bootstrap=bootstrap, state_bootstrap=state_bootstrap
    )
    app.synth()


PROCESSES_VARIABLE = "FARGATE_SYNTH_PROCESSES"


def synth_processes() -> int:
    """1 or 2: $FARGATE_SYNTH_PROCESSES when set to one of those, else 2 when a CPU is free for
    a second synth process (at least two CPUs, and the load average of the last minute leaves
    one idle; on a busy machine a second process only adds its start-up), else 1."""
    if not hasattr(os, "fork"):  # Windows: one process
        return 1
    chosen = os.environ.get(PROCESSES_VARIABLE, "")
    if chosen in ("1", "2"):
        return int(chosen)
    # sched_getaffinity is Linux-only (macOS: every CPU is usable).
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 2 if (cpus or 1) - os.getloadavg()[0] >= 1 else 1


def synth_stacks(
    environments: tuple[EnvironmentConfig, ...],
    staging: Path,
    bootstrap: tuple[EnvironmentConfig, ...] | None,
) -> None:
    """Synthesize the environments' stacks and the state bootstrap into `staging`.

    With two or more environments and two processes allowed (`synth_processes`), in two: a fork
    made before the jsii runtime starts (each process starts its own Node) synthesizes the
    second (larger) half of the environments and the state bootstrap into
    `staging/.second-process`, while this one does the first half; the halves are then
    merged (`merge_part`). The output is byte-identical to one process (`make bench` checks
    it). One process when the runtime has already started here (a fork would share its Node),
    e.g. inside the test session."""
    bootstrap = bootstrap if bootstrap is not None else environments
    # This process also merges and runs preflight: the second one takes the larger half.
    half = len(environments) // 2
    first, second = environments[:half], environments[half:]
    if not first or synth_processes() < 2 or "constructs" in sys.modules:
        _build_and_synth(environments, staging, bootstrap)
        return
    import stacks  # noqa: F401  (configures the jsii runtime once, for both processes)

    part = staging / PART
    part.mkdir(parents=True)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the second process: never returns into the caller's frames
        status = 1
        try:
            _build_and_synth(second, part, bootstrap)
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            atexit._run_exitfuncs()  # what a normal exit runs: jsii stops its Node process
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    try:
        _build_and_synth(first, staging, bootstrap, state_bootstrap=False)
    except BaseException:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
        raise
    _, wait_status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(wait_status) != 0:
        names = ", ".join(env.name for env in second)
        raise RuntimeError(f"synthesizing {names} and the state bootstrap failed (see above)")
    merge_part(part, staging)


def promotion_sources(environments: tuple[EnvironmentConfig, ...]) -> list[str]:
    """The environments these promote from (`release.promote_from`) that are not among them."""
    names = {env.name for env in environments}
    return sorted({e.release.promote_from for e in environments if e.release.promote_from} - names)


def synthesize(
    environments: tuple[EnvironmentConfig, ...],
    outdir: Path,
    *,
    bootstrap: tuple[EnvironmentConfig, ...] | None = None,
) -> None:
    """Synthesize into `<outdir>.tmp-<pid>`, then swap it into place.

    `bootstrap`: the environments the state-bootstrap stack covers (default: `environments`).
    """
    outdir = outdir.expanduser().resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(outdir)
    staging = outdir.with_name(f"{outdir.name}.tmp-{os.getpid()}")
    retired = outdir.with_name(f"{outdir.name}.old-{os.getpid()}")
    try:
        synth_stacks(environments, staging, bootstrap)
        keep_other_stacks(outdir, staging)
        swap(staging, outdir, retired)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    outdir: Path = args.outdir if args.outdir is not None else default_outdir()
    if args.outdir is not None:
        source = "--outdir"
    elif os.environ.get(OUTDIR_VARIABLE):
        source = f"${OUTDIR_VARIABLE}"
    else:
        source = "default output directory"
    try:
        environments = load_environments(args.envs or DEFAULT_ENVIRONMENTS)
        # A stack reads the config of the environment it promotes from (region, account):
        # validated with the requested ones, so a problem is blamed on the right file.
        sources = promotion_sources(environments)
        if sources:
            load_environments([env.name for env in environments] + sources)
        if args.check:
            print(f"configuration valid: {', '.join(env.name for env in environments)}")
            return 0
        problem = outdir_problem(outdir, source)
        if problem is not None:
            raise ConfigError([problem])
        kept = kept_environments(outdir.expanduser().resolve(), environments)
        bootstrap = load_environments([env.name for env in environments] + kept)
    except ConfigError as error:
        print(error.render(), file=sys.stderr)
        return EXIT_CONFIG_ERROR
    synthesize(environments, outdir, bootstrap=bootstrap)
    names = [env.name for env in environments]
    also = f" (kept {', '.join(kept)})" if kept else ""
    shown = outdir.resolve()
    if shown.is_relative_to(Path.cwd()):
        shown = shown.relative_to(Path.cwd())
    print(f"synthesized {', '.join(names)} and state-bootstrap into {shown}/stacks/{also}")
    print(preflight_summary(outdir))
    return 0


def preflight_summary(outdir: Path) -> str:
    """What `python -m ops preflight` finds in the whole output: its warnings in full (e.g.
    "replace the placeholder zone before deploying"), then one summary line."""
    from ops.preflight import advisories, load, preflight, summary

    stacks = load(outdir.resolve(), None)
    warnings = advisories(stacks)
    return "\n".join(
        [*(w.render() for w in warnings), summary(preflight(stacks), stacks, warnings)]
    )


if __name__ == "__main__":
    sys.exit(main())
