"""A frozen copy of the shipped example environment files (base, dev, stg, prod).

Fixtures build on these, never on the user's envs/ (which a fork edits): `build_example` merges
overrides onto this copy of the base, where `envs.build_environment` would read envs/base.py.
Refresh by copying envs/<name>.py when the shipped example changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from envs import build_environment
from envs.schema.environment import EnvironmentConfig
from tests.example_envs.base import BASE
from tests.example_envs.dev import OVERRIDES as DEV
from tests.example_envs.prod import OVERRIDES as PROD
from tests.example_envs.stg import OVERRIDES as STG

EXAMPLES: dict[str, Mapping[str, Any]] = {"dev": DEV, "stg": STG, "prod": PROD}
"""The frozen example environments by name, in deployment order."""


def build_example(
    overrides: Mapping[str, Any], *, source: str = "tests/example_envs"
) -> EnvironmentConfig:
    """`envs.build_environment` on the frozen example base rather than the user's envs/base.py."""
    return build_environment(overrides, base=BASE, source=source)


def example_environments() -> tuple[EnvironmentConfig, ...]:
    """The frozen dev, stg and prod, validated."""
    return tuple(
        build_example(overrides, source=f"tests/example_envs/{name}.py")
        for name, overrides in EXAMPLES.items()
    )
