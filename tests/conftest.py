"""One synth per test session: the default environments plus the variants tests declare.

Loading the provider costs seconds, so every stack any test needs is added to one App and
synthesized once. Tests that only validate config never touch this fixture and never load
the provider.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.variants import VARIANTS


@pytest.fixture(scope="session")
def synth_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cdktf.out directory with every default environment, the bootstrap and the variants."""
    from stacks import runtime  # noqa: F401  (configures the jsii runtime before cdktf starts it)

    from cdktf import App  # isort: skip

    from envs import load_environments
    from stacks.bootstrap import StateBootstrapStack
    from stacks.platform import PlatformStack

    outdir = tmp_path_factory.mktemp("cdktf.out")
    app = App(outdir=str(outdir))
    defaults = load_environments()
    for env in (*defaults, *VARIANTS.values()):
        PlatformStack(app, env)
    StateBootstrapStack(app, defaults)
    app.synth()
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
