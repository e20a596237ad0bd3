"""Per-environment release rules for `python -m ops deploy|promote|rollback`.

The contract the synthesizer and `ops` share (parameter names, template, record) lives in
ops/release_contract.py; README "Releasing" explains the ownership split.
"""

from __future__ import annotations

from typing import Annotated

from envs.schema.common import Strict, between


class ReleaseConfig(Strict):
    """How images reach this environment's services (`python -m ops deploy|promote|rollback`)."""

    promote_from: str | None = None
    """Environment whose releases this one must follow: an image may be deployed here only
    after it was released there (e.g. `stg` for prod). Default: any image may be deployed."""
    require_clean_scan: bool = False
    """Refuse images whose ECR scan reports CRITICAL findings (or that have no finished scan)."""
    # Not an AWS limit: ops' own bounds, a minute to a day.
    rollout_timeout_seconds: Annotated[int, between(60, 86400)] = 1800
    """How long `ops deploy` follows a rollout before giving up (the deployment goes on)."""
