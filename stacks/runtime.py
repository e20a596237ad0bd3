"""The jsii runtime's environment: set it before the first `import cdktf` starts Node.

`configure_jsii_runtime()` is called once by `stacks/__init__.py` (so every importer of a stack,
`main.py`, the tests and the benchmarks, gets it) before any stack module imports cdktf; it only
changes this process's environment and is idempotent. Nothing else in the project has
import-time side effects on the environment.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

# jsii's Node runtime prints a 12-line banner on every run under Node 20 (end of life for jsii
# since 2026-10-30). cdktf 0.21 is frozen and runs fine on it; keep synth and test output clean.
SILENCED_WARNINGS = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
}

# Node-side memory. When jsii loads an assembly, its kernel `require()`s the package's main file;
# for @cdktf/provider-aws that is lib/index.js, which eagerly requires all 2,212 resource modules
# (224 MB of JS, all kept live: ~620 MiB RSS in the jsii node child, whatever Python imports). This
# preload (stacks/lazy_provider_index.mjs, run in jsii's node processes through NODE_OPTIONS as an
# inline `data:` module, so paths with spaces cannot break it) turns such a main file into lazy
# getters: a submodule is required the first time the kernel looks a type up in it
# (`closure[namespace][Type]`). It applies only to an absolute-path `require` of a `lib/index.js`
# made of nothing but `exports.x = require("./y");` lines (>= 100 of them); any other file loads
# unchanged, and touching every namespace costs the same as the eager load (checked: all 2,212
# resolve). --max-semi-space-size=1 (MiB) caps V8's young generation: ~-25 MiB, no cap on total
# heap (jsii passes --max-old-space-size=4069 on node's argv, which beats NODE_OPTIONS anyway).
# Synth output is byte-identical. Measured (Node 20, 2 cores, `make bench`, whole process tree):
# make synth 739 -> 274 MiB peak RSS, 5.4 -> 2.8 s (0.597x -> 0.221x of the naive path); the naive
# path is unchanged (1240 MiB: it starts jsii before `main` imports us); with this NODE_OPTIONS
# forced on it too: 777 MiB, ratio 0.355x. Semi-space alone: only -34 MiB. At 150x the environments
# (451 stacks): 822 -> 347 MiB. Only runtimes started after this runs.
_LAZY_PROVIDER_INDEX = Path(__file__).with_name("lazy_provider_index.mjs").read_text()
_NODE_OPTIONS = "--max-semi-space-size=1 --import=data:text/javascript," + quote(
    _LAZY_PROVIDER_INDEX, safe=""
)


# One Node process instead of two. jsii's stock runtime is a relay node that starts the kernel in a
# second node and pipes every request and response through itself (~1,600 round trips per full
# synth). stacks/jsii_direct_runtime.cjs runs the same kernel (lib/program.js of the installed
# `jsii` Python package) in the node jsii starts, on stdin/stdout (see there). Synth output is
# byte-identical. Measured (Node 22, 2 cores, loaded machine, full synth in one process, 6 runs
# each): 3.58 -> 3.33 s CPU for Python and Node together; peak RSS 309 -> 240 MiB (`make bench`).
# FARGATE_JSII_RELAY=1 keeps jsii's own runtime (e.g. to rule this out when debugging); a
# JSII_RUNTIME set by the user wins.
_DIRECT_RUNTIME = Path(__file__).with_name("jsii_direct_runtime.cjs")
_PRESERVE_SYMLINKS = "--preserve-symlinks"  # what the relay passes to the kernel's node


def _jsii_kernel_program() -> Path | None:
    """lib/program.js of the installed jsii runtime (the Python package ships it flattened)."""
    spec = importlib.util.find_spec("jsii")
    if spec is None or spec.origin is None:
        return None
    program = Path(spec.origin).parent / "_embedded" / "jsii" / "lib__program.js"
    return program if program.is_file() else None


def _use_direct_runtime() -> None:
    runtime = os.environ.get("JSII_RUNTIME")
    ours = runtime == str(_DIRECT_RUNTIME)  # e.g. inherited from a parent that ran this
    if runtime and not ours:
        return
    program = _jsii_kernel_program()
    if os.environ.get("FARGATE_JSII_RELAY") == "1" or program is None:
        if ours:
            del os.environ["JSII_RUNTIME"]
        return
    os.environ["JSII_RUNTIME"] = str(_DIRECT_RUNTIME)
    os.environ["FARGATE_JSII_PROGRAM"] = str(program)
    options = os.environ.get("NODE_OPTIONS", "")
    if _PRESERVE_SYMLINKS not in options.split():
        os.environ["NODE_OPTIONS"] = f"{options} {_PRESERVE_SYMLINKS}".strip()


def _node_supports_import_flag() -> bool:
    """`--import` exists from Node 20.6 (and 18.19); an older node would refuse to start."""
    node = shutil.which(os.environ.get("JSII_NODE", "node"))
    if node is None:
        return False
    try:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
        major, minor = (int(part) for part in version.strip().lstrip("v").split(".")[:2])
    except (OSError, subprocess.SubprocessError, ValueError):
        return False
    return (major, minor) >= (20, 6) or (major == 18 and minor >= 19)


def configure_jsii_runtime() -> None:
    """Silence the Node end-of-life banner, run the kernel in one process and preload the lazy
    provider index (see above).

    Only runtimes started after this call are affected."""
    for name, value in SILENCED_WARNINGS.items():
        os.environ.setdefault(name, value)
    _use_direct_runtime()
    # Appended (not setdefault) so a NODE_OPTIONS set by the user keeps its flags and still
    # gets ours. FARGATE_EAGER_PROVIDER_LOAD=1 turns the preload off (e.g. to rule it out when
    # debugging).
    if (
        os.environ.get("FARGATE_EAGER_PROVIDER_LOAD") != "1"
        and _NODE_OPTIONS not in os.environ.get("NODE_OPTIONS", "")
        and _node_supports_import_flag()
    ):
        os.environ["NODE_OPTIONS"] = f"{os.environ.get('NODE_OPTIONS', '')} {_NODE_OPTIONS}".strip()
