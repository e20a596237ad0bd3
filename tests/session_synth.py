"""The one synth of a test session: the default environments, the variants and the bootstrap.

Built through `stacks.app.build_app` (the same assembly `main.py` uses) and run as its own
process (`python -m tests.session_synth OUTDIR`), so tests/conftest.py can start it when
collection ends and let the tests that need no synthesized output run meanwhile on the
other core.
"""

from __future__ import annotations

import sys


def synthesize(outdir: str) -> None:
    """Write every default environment, every variant, the state bootstrap and a second
    bootstrap of state buckets in two regions to `outdir`."""
    from envs import load_environments
    from stacks.app import build_app
    from stacks.bootstrap import StateBootstrapStack
    from tests.variants import TWO_REGION_BOOTSTRAP, TWO_REGION_STATE, VARIANTS

    defaults = load_environments()
    app, _, _ = build_app((*defaults, *VARIANTS.values()), outdir=outdir, bootstrap=defaults)
    StateBootstrapStack(app, TWO_REGION_STATE, name=TWO_REGION_BOOTSTRAP)
    app.synth()


if __name__ == "__main__":
    synthesize(sys.argv[1])
