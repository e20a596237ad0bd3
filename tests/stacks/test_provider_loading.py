"""The provider package is loaded without its eager `__init__`: only the used submodules."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.constants import ROOT

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


KERNEL_PROBE = """
import json, os, pathlib
import stacks.app, jsii._runtime
node = jsii._runtime.kernel.provider._process._process
tasks = pathlib.Path(f"/proc/{node.pid}/task").iterdir()
children = [c for t in tasks for c in (t / "children").read_text().split()]
print(json.dumps({"args": node.args, "children": children, "env": dict(os.environ)}))
"""


def test_kernel_runs_in_the_one_node_process_jsii_starts() -> None:
    """stacks/jsii_direct_runtime.cjs replaces jsii's relay: the node Python talks to is the
    kernel itself (no child process) and resolves packages as the relay's kernel does."""
    clean = {k: v for k, v in os.environ.items() if k not in ("NODE_OPTIONS", "JSII_RUNTIME")}
    result = subprocess.run(
        [sys.executable, "-c", KERNEL_PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    )
    probe = json.loads(result.stdout)
    runtime = str(ROOT / "stacks" / "jsii_direct_runtime.cjs")
    assert probe["args"][-1] == probe["env"]["JSII_RUNTIME"] == runtime
    assert "--preserve-symlinks" in probe["env"]["NODE_OPTIONS"].split()
    assert probe["children"] == []


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
