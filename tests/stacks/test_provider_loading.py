"""The provider package is loaded without its eager `__init__`: only the used submodules."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.project_copy import ROOT

PROBE = """
import sys, modules.aws as aws
pkg = sys.modules['cdktf_cdktf_provider_aws']
loaded = sorted({m.split('.')[1] for m in sys.modules if m.startswith('cdktf_cdktf_provider_aws.')})
print(len(loaded), hasattr(pkg, '__all__'), 'xray_group' in loaded)
print(pkg.__path__)
"""


def test_only_listed_submodules_are_imported() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    )
    count, has_all, has_unused = result.stdout.splitlines()[0].split()
    import modules.aws as aws

    # _jsii plus the submodules modules/aws.py lists, nothing else (the full package is ~2,200).
    assert int(count) == len(aws.__all__) + 1
    assert has_all == "False"  # the package __init__ (which defines __all__) never ran
    assert has_unused == "False"


def test_session_synth_did_not_run_the_package_init(synthesized: object) -> None:
    assert not hasattr(sys.modules["cdktf_cdktf_provider_aws"], "__all__")


def test_importing_the_constructs_package_leaves_the_environment_alone() -> None:
    """The jsii set-up lives in stacks/runtime.py, run by `stacks`; `modules` is inert."""
    probe = "import os; old = dict(os.environ); import modules; print(dict(os.environ) == old)"
    clean = {k: v for k, v in os.environ.items() if k != "NODE_OPTIONS"}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "True"
    configured = subprocess.run(
        [sys.executable, "-c", "import os, stacks; print(os.environ.get('NODE_OPTIONS', ''))"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--import=data:text/javascript," in configured.stdout
