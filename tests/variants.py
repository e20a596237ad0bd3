"""Environment configs built in tests, synthesized alongside the defaults in one session synth.

Each is the dev environment with a few overrides, under its own stack name and CIDR.
"""

from __future__ import annotations

from typing import Any

from envs import build_environment, merge
from envs.dev import OVERRIDES as DEV
from envs.schema import EnvironmentConfig


def variant(name: str, cidr: str, overrides: dict[str, Any]) -> EnvironmentConfig:
    return build_environment(
        merge(DEV, merge({"name": name, "network": {"vpc_cidr": cidr}}, overrides)),
        source=f"tests/variants.py:{name}",
    )


VARIANTS: dict[str, EnvironmentConfig] = {
    env.name: env
    for env in (
        variant("nat-none", "10.10.0.0/24", {"network": {"nat_mode": "none"}}),
        variant(
            "nat-per-az",
            "10.11.0.0/22",
            {
                "network": {
                    "nat_mode": "per_az",
                    "availability_zones": ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
                }
            },
        ),
    )
}
