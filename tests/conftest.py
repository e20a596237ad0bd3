"""One synth per test session: the default environments plus the variants tests declare.

Loading the provider costs seconds, so every stack any test needs is added to one App and
synthesized once (tests/session_synth.py, through `stacks.app.build_app`). The synth starts
in its own process as soon as collection shows a test needs it, and the test modules that
need no synthesized output run first, on the other core, while it works. `make test` runs
two xdist workers (`-n 2 --dist loadscope`): the synth, checkov and the README's copy synth
still run once per run, shared through files (tests/background.py). Tests that only
validate config never touch these fixtures and never load the provider.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.background import SHARED, Job, stop_all
from tests.constants import ROOT

SYNTH_FIXTURES = frozenset({"synth_outdir", "synthesized", "dev", "stg", "prod"})
SYNTH_MODULES = pytest.StashKey[frozenset[str]]()
SYNTH_TIMEOUT_SECONDS = 600


def _needs_synth(item: pytest.Item) -> bool:
    return bool(SYNTH_FIXTURES & set(getattr(item, "fixturenames", ())))


def _owns_the_run(config: pytest.Config) -> bool:
    """pytest itself, or the xdist controller; not an xdist worker."""
    return not hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    if _owns_the_run(config):
        config.stash[SHARED] = Path(tempfile.mkdtemp(prefix="session-synth-"))
    else:
        config.stash[SHARED] = Path(config.workerinput["session_shared"])  # type: ignore[attr-defined]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: every worker gets the controller's shared directory."""
    node.workerinput["session_shared"] = str(node.config.stash[SHARED])


PROVIDER_MODULES = frozenset(
    {
        "tests/config/test_properties.py",
        "tests/constructs/test_alarms.py",
        "tests/constructs/test_deployment.py",
        "tests/constructs/test_domain.py",
        "tests/constructs/test_queue.py",
        "tests/stacks/test_hardening.py",
        "tests/stacks/test_unguarded.py",
    }
)
"""Test modules that load the provider in-process (they import `modules.*` or synthesize):
seconds of jsii start-up per process, so xdist runs them all on one worker (only scheduling
depends on this list; a module missing from it just costs that worker a second load)."""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadscope`, with the modules of PROVIDER_MODULES as one scope."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ProviderOnceScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "provider-in-process" if module in PROVIDER_MODULES else module

    return ProviderOnceScheduling(config, log)


SLOW_MODULES = frozenset(
    {
        "tests/config/test_bad_input_catalogue.py",
        "tests/config/test_properties.py",
        "tests/docs/test_readme.py",
        "tests/ops/test_diagram.py",
        "tests/ops/test_release.py",
        "tests/stacks/test_main.py",
        "tests/stacks/test_terraform.py",
    }
)
"""The modules that take seconds of CPU (`--durations`): each group (no synth needed, synth
needed) starts with them, so the two xdist workers end together instead of one waiting for
the other's last slow module. Only the order depends on this list."""


def _light(item: pytest.Item) -> bool:
    return item.nodeid.split("::", 1)[0] not in SLOW_MODULES


def _synth_job(config: pytest.Config) -> Job:
    return Job(config.stash[SHARED], "synth")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start the session synth in the background and run the modules that need none first,
    the slow ones of each group first (whole modules move, so module-scoped fixtures such as
    moto servers start once). Under
    xdist every worker collects: the first one starts the synth, the others share it."""
    synth_modules = {item.module.__name__ for item in items if _needs_synth(item)}  # type: ignore[attr-defined]
    config.stash[SYNTH_MODULES] = frozenset(synth_modules)
    if not synth_modules:
        return
    items.sort(key=lambda item: (item.module.__name__ in synth_modules, _light(item)))  # type: ignore[attr-defined]
    job = _synth_job(config)
    job.start(
        [sys.executable, "-m", "tests.session_synth", str(job.directory / "cdktf.out")],
        cwd=ROOT,
    )


POLICY_SCAN = "tests.stacks.test_policy_scan"
README = "tests.docs.test_readme"


def _start_checkov(config: pytest.Config, outdir: Path) -> None:
    """checkov takes seconds: start it as soon as there is output, on the other core, while the
    tests that read the synth run (tests/stacks/test_policy_scan.py collects it)."""
    if POLICY_SCAN not in config.stash.get(SYNTH_MODULES, ()):
        return
    from tests.stacks import test_policy_scan as policy_scan

    policy_scan.start_checkov(outdir / "stacks", Job(config.stash[SHARED], "checkov"))


def _start_readme_synth(config: pytest.Config) -> None:
    """The README tests' `make synth` in a copy: also seconds, also started early."""
    if README not in config.stash.get(SYNTH_MODULES, ()):
        return
    from tests.docs import test_readme

    test_readme.start_synth_copy(Job(config.stash[SHARED], "readme"))


def pytest_unconfigure(config: pytest.Config) -> None:
    """The process that owns the run stops what still runs and removes the shared directory
    (an xdist worker leaves the jobs it started to the others that may still read them)."""
    if SHARED in config.stash and _owns_the_run(config):
        stop_all(config.stash[SHARED])
        shutil.rmtree(config.stash[SHARED], ignore_errors=True)


@pytest.fixture(scope="session")
def synth_outdir(request: pytest.FixtureRequest) -> Path:
    """A cdktf.out directory with every default environment, the bootstrap and the variants."""
    job = _synth_job(request.config)
    if not job.directory.is_dir():  # collected without a synth user, e.g. by a plugin
        outdir = Path(tempfile.mkdtemp(prefix="session-cdktf.out-"))
        from tests.session_synth import synthesize

        synthesize(str(outdir))
        return outdir
    if job.wait(SYNTH_TIMEOUT_SECONDS) != 0:
        log = job.stdout.read_text(errors="replace") + job.stderr.read_text(errors="replace")
        pytest.fail(f"session synth failed:\n{log}", False)
    outdir = job.directory / "cdktf.out"
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
