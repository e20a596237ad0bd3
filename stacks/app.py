"""Assemble the cdktf App: one PlatformStack per environment plus the state bootstrap stack."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import App

from envs.schema.environment import EnvironmentConfig
from stacks.bootstrap import StateBootstrapStack
from stacks.platform import PlatformStack


def build_app(
    environments: Sequence[EnvironmentConfig],
    *,
    outdir: str | None = None,
    bootstrap: Sequence[EnvironmentConfig] | None = None,
    state_bootstrap: bool = True,
) -> tuple[App, dict[str, PlatformStack], StateBootstrapStack | None]:
    """Create the App and its stacks (not yet synthesized); the bootstrap stack covers
    `bootstrap` (default: `environments`), e.g. the environments whose stacks are kept.
    A stack whose promotion source is among either list gets that config; otherwise the
    stack loads it from envs/. `state_bootstrap=False` leaves the bootstrap stack out
    (main.py's second synth process builds it)."""
    app = App(outdir=outdir) if outdir else App()
    known = {env.name: env for env in (*environments, *(bootstrap or ()))}
    stacks = {
        env.name: PlatformStack(
            app, env, promotion_source=known.get(env.release.promote_from or "")
        )
        for env in environments
    }
    state = (
        StateBootstrapStack(app, bootstrap if bootstrap is not None else environments)
        if state_bootstrap
        else None
    )
    return app, stacks, state
