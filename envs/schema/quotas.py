"""AWS service quotas that grow with the configuration, checked before anything is deployed.

Each default is AWS's default quota, cited on its field. An account whose quota was raised
states the raised value in `quotas`, so the check follows the account instead of blocking it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import StrictInt, field_validator

from envs.schema.common import Strict
from envs.schema.service import Exposure

if TYPE_CHECKING:
    from envs.schema.environment import EnvironmentConfig


class QuotasConfig(Strict):
    """The account's service quotas this platform can exceed (AWS defaults; raise to match)."""

    rules_per_alb: StrictInt = 100
    """Listener rules per ALB, default rule not counted (Elastic Load Balancing quota, default
    100: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html)."""
    target_groups_per_alb: StrictInt = 100
    """Target groups per ALB (Elastic Load Balancing quota, default 100; same page)."""
    elastic_ips_per_region: StrictInt = 5
    """Elastic IPs per account and region; each NAT gateway takes one (EC2 quota, default 5:
    https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html). Every environment
    in the region that may share the account counts (see `account_id`)."""

    @field_validator("rules_per_alb", "target_groups_per_alb", "elastic_ips_per_region")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"a quota is at least 1; got {value}")
        return value


def nat_gateways(env: EnvironmentConfig) -> int:
    """NAT gateways (and so Elastic IPs) the environment's network creates."""
    return env.network.nat_gateway_count


def quota_problems(env: EnvironmentConfig) -> list[str]:
    """Quotas one environment exceeds on its own."""
    problems = []
    quotas = env.quotas
    for exposure in (Exposure.PUBLIC, Exposure.INTERNAL):
        services = env.services_behind(exposure)
        # A traffic-shifting service (blue/green, linear, canary) has a production and a test
        # rule and two target groups (modules/alb.py).
        shifting = sum(1 for s in services if s.deployment.strategy.shifts_traffic)
        rules = sum(
            2 if s.deployment.strategy.shifts_traffic else 1
            for s in services
            if s.path_patterns or s.host_headers or s.deployment.strategy.shifts_traffic
        )
        if rules > quotas.rules_per_alb:
            problems.append(
                f"services: the {exposure} ALB needs {rules} listener rules but the quota is "
                f"{quotas.rules_per_alb} rules per ALB; request an increase (Service Quotas, "
                "Elastic Load Balancing) and set quotas.rules_per_alb"
            )
        groups = len(services) + shifting
        if groups > quotas.target_groups_per_alb:
            problems.append(
                f"services: the {exposure} ALB needs {groups} target groups but the quota is "
                f"{quotas.target_groups_per_alb} per ALB; request an increase and set "
                "quotas.target_groups_per_alb"
            )
    return problems


def shared_quota_problems(
    environments: Sequence[EnvironmentConfig], origins: Sequence[str]
) -> list[str]:
    """Quotas the environments of one account and region use together (reported against the
    one that goes over)."""
    from envs.schema.names import share_an_account

    problems = []
    earlier: list[EnvironmentConfig] = []
    for env, origin in zip(environments, origins, strict=True):
        sharing = [e for e in earlier if e.region == env.region and share_an_account(e, env)] + [
            env
        ]
        earlier.append(env)
        if nat_gateways(env) == 0:
            continue
        counts = [(e.name, nat_gateways(e)) for e in sharing if nat_gateways(e)]
        total = sum(count for _, count in counts)
        if total > env.quotas.elastic_ips_per_region:
            listed = ", ".join(f"{name} {count}" for name, count in counts)
            problems.append(
                f"{origin}: network.nat_mode: NAT gateways in {env.region} need {total} Elastic "
                f"IPs ({listed}) but the quota is {env.quotas.elastic_ips_per_region} per "
                "account and region (set account_id if these environments use different "
                "accounts); use nat_mode 'single', move an environment to another region, or "
                "raise the quota and set quotas.elastic_ips_per_region"
            )
    return problems
