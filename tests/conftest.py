"""One synth per test session: the default environments plus the variants tests declare.

Loading the provider costs seconds, so every stack any test needs is added to one App and
synthesized once (tests/session_synth.py, through `stacks.app.build_app`). The synth starts
in its own process as soon as collection shows a test needs it, and the test modules that
need no synthesized output run first, on the other core, while it works. Tests that only
validate config never touch these fixtures and never load the provider.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.constants import ROOT

SYNTH_FIXTURES = frozenset({"synth_outdir", "synthesized", "dev", "stg", "prod"})
_SESSION_SYNTH: dict[str, Any] = {}


def _needs_synth(item: pytest.Item) -> bool:
    return bool(SYNTH_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start the session synth in the background and run the modules that need none first
    (whole modules move, so module-scoped fixtures such as moto servers start once)."""
    synth_modules = {item.module.__name__ for item in items if _needs_synth(item)}  # type: ignore[attr-defined]
    if not synth_modules:
        return
    items.sort(key=lambda item: item.module.__name__ in synth_modules)  # type: ignore[attr-defined]
    workdir = Path(tempfile.mkdtemp(prefix="session-synth-"))
    log = workdir / "synth.log"
    with log.open("wb") as sink:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.session_synth", str(workdir / "cdktf.out")],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    _SESSION_SYNTH.update(workdir=workdir, process=process, log=log, modules=synth_modules)


POLICY_SCAN = "tests.stacks.test_policy_scan"
README = "tests.docs.test_readme"


def _start_checkov(config: pytest.Config, outdir: Path) -> None:
    """checkov takes seconds: start it as soon as there is output, on the other core, while the
    tests that read the synth run (tests/stacks/test_policy_scan.py collects it)."""
    if POLICY_SCAN not in _SESSION_SYNTH.get("modules", ()):
        return
    from tests.stacks import test_policy_scan as policy_scan

    workdir = _SESSION_SYNTH["workdir"] / "checkov"
    workdir.mkdir()
    process = policy_scan.start_checkov(outdir / "stacks", workdir)
    _SESSION_SYNTH["checkov"] = process
    config.stash[policy_scan.CHECKOV_RUN] = (process, workdir)


def _start_readme_synth(config: pytest.Config) -> None:
    """The README tests' `make synth` in a copy: also seconds, also started early."""
    if README not in _SESSION_SYNTH.get("modules", ()):
        return
    from tests.docs import test_readme

    workdir = _SESSION_SYNTH["workdir"] / "readme"
    workdir.mkdir()
    project, process = test_readme.start_synth_copy(workdir)
    _SESSION_SYNTH["readme"] = process
    config.stash[test_readme.README_SYNTH] = (project, process)


def pytest_unconfigure(config: pytest.Config) -> None:
    for key in ("checkov", "readme", "process"):
        process = _SESSION_SYNTH.get(key)
        if process is not None:
            if process.poll() is None:
                if key == "readme":  # make and the synth it started
                    os.killpg(process.pid, signal.SIGKILL)
                else:
                    process.kill()
            process.wait()
    if "workdir" in _SESSION_SYNTH:
        shutil.rmtree(_SESSION_SYNTH["workdir"], ignore_errors=True)


@pytest.fixture(scope="session")
def synth_outdir(request: pytest.FixtureRequest) -> Path:
    """A cdktf.out directory with every default environment, the bootstrap and the variants."""
    if "process" not in _SESSION_SYNTH:  # collected without a synth user, e.g. by a plugin
        outdir = Path(tempfile.mkdtemp(prefix="session-cdktf.out-"))
        from tests.session_synth import synthesize

        synthesize(str(outdir))
        return outdir
    process: subprocess.Popen[bytes] = _SESSION_SYNTH["process"]
    if process.wait() != 0:
        log: Path = _SESSION_SYNTH["log"]
        pytest.fail(f"session synth failed:\n{log.read_text(errors='replace')}", False)
    outdir: Path = _SESSION_SYNTH["workdir"] / "cdktf.out"
    _start_checkov(request.config, outdir)
    _start_readme_synth(request.config)
    return outdir


@pytest.fixture(scope="session")
def synthesized(synth_outdir: Path) -> dict[str, dict[str, Any]]:
    """Stack name -> synthesized Terraform JSON, exactly as `cdk.tf.json` holds it."""
    return {
        stack_dir.name: json.loads((stack_dir / "cdk.tf.json").read_text())
        for stack_dir in sorted((synth_outdir / "stacks").iterdir())
    }


@pytest.fixture(scope="session")
def dev(synthesized: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return synthesized["dev"]


@pytest.fixture(scope="session")
def stg(synthesized: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return synthesized["stg"]


@pytest.fixture(scope="session")
def prod(synthesized: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return synthesized["prod"]
