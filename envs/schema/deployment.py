"""Config for how a service deploys: rolling (default) or ECS's native blue/green, linear and
canary strategies.

Limits come from the provider's schema for `aws_ecs_service.deployment_configuration`
(hashicorp/terraform-provider-aws internal/service/ecs/service.go: bake times 0-1440 minutes,
linear step_percent 3.0-100.0, canary_percent 0.1-100.0) and from the ECS developer guide,
"Application Load Balancer resources for blue/green, linear, and canary deployments"
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-resources-for-blue-green.html):
these strategies need a load balancer, and listeners that mix forward with non-forward actions
(such as Cognito authentication) are not supported.
"""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import model_validator

from envs.schema.common import Strict, between

BAKE_TIME_MINUTES = between(0, 1440)
STEP_PERCENT = (3.0, 100.0)
CANARY_PERCENT = (0.1, 100.0)
TEST_TRAFFIC_HEADER = "x-deployment-test"
"""Requests carrying this header (value: the service name) reach the new revision before
production traffic does (the deployment's test listener rule)."""


class DeploymentStrategy(enum.StrEnum):
    """How ECS replaces a service's tasks."""

    ROLLING = "rolling"
    """Replace tasks in place (100% healthy minimum, up to 200%); circuit breaker rollback."""
    BLUE_GREEN = "blue_green"
    """Start the new revision beside the old one, shift all traffic at once, bake, then stop
    the old one (an alternate target group per service)."""
    LINEAR = "linear"
    """Shift traffic in equal steps of `step_percent`, baking `step_bake_time_minutes` each."""
    CANARY = "canary"
    """Shift `canary_percent` first, bake `canary_bake_time_minutes`, then shift the rest."""

    @property
    def ecs_name(self) -> str:
        return self.value.upper()

    @property
    def shifts_traffic(self) -> bool:
        return self is not DeploymentStrategy.ROLLING


class DeploymentConfig(Strict):
    """A service's deployment strategy (lifecycle hooks are not configurable yet)."""

    strategy: DeploymentStrategy = DeploymentStrategy.ROLLING
    """`rolling`, `blue_green`, `linear` or `canary` (the last three need a load balancer)."""
    bake_time_minutes: Annotated[int, BAKE_TIME_MINUTES] = 5
    """Minutes both revisions run after all traffic moved, before the old one stops
    (traffic-shifting strategies only)."""
    step_percent: float = 25.0
    """`linear`: share of traffic moved per step (3-100)."""
    step_bake_time_minutes: Annotated[int, BAKE_TIME_MINUTES] = 2
    """`linear`: minutes between steps."""
    canary_percent: float = 10.0
    """`canary`: share of traffic the new revision gets first (0.1-100)."""
    canary_bake_time_minutes: Annotated[int, BAKE_TIME_MINUTES] = 5
    """`canary`: minutes at that share before the rest moves."""

    @model_validator(mode="after")
    def _limits(self) -> DeploymentConfig:
        problems = []
        for field, (low_p, high_p) in (
            ("step_percent", STEP_PERCENT),
            ("canary_percent", CANARY_PERCENT),
        ):
            if not low_p <= getattr(self, field) <= high_p:
                problems.append(f"{field} must be {low_p}-{high_p}; got {getattr(self, field)}")
        if problems:
            raise ValueError("deployment: " + "; ".join(problems))
        return self
