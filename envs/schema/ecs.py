"""The ECS cluster: capacity providers, Container Insights, log retention and ECR."""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import StrictBool, StrictInt, field_validator

from envs.schema.common import (
    Strict,
    between,
    check_log_retention,
)
from ops.run_task_contract import CAPACITY_BASE_MAX, CAPACITY_WEIGHT_MAX


class ContainerInsights(enum.StrEnum):
    DISABLED = "disabled"
    ENABLED = "enabled"
    ENHANCED = "enhanced"


class CapacityProvider(enum.StrEnum):
    FARGATE = "FARGATE"
    FARGATE_SPOT = "FARGATE_SPOT"


class CapacityProviderShare(Strict):
    capacity_provider: CapacityProvider
    """FARGATE (on-demand) or FARGATE_SPOT (up to 70% cheaper, may be interrupted)."""
    weight: Annotated[StrictInt, between(0, CAPACITY_WEIGHT_MAX)] = 1
    """Relative share of tasks beyond the base."""
    base: Annotated[StrictInt, between(0, CAPACITY_BASE_MAX)] = 0
    """Tasks placed on this provider first (at most one provider may have a base)."""


class EcrConfig(Strict):
    """ECR repositories for project-built images."""

    immutable_tags: StrictBool = False
    """Refuse pushing a tag that already exists (recommended for prod)."""
    # ECR lifecycle rule `countNumber` is a positive integer
    # (https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html);
    # 1000 is this project's upper bound (one repository per workload, not an archive).
    keep_last_images: Annotated[StrictInt, between(1, 1000)] = 20
    """Lifecycle policy: expire all but the newest N images."""
    force_delete: StrictBool = True
    """Allow `terraform destroy` to delete repositories that still hold images."""


class EcsConfig(Strict):
    """Cluster-wide settings."""

    capacity_provider_strategy: tuple[CapacityProviderShare, ...] = (
        CapacityProviderShare(capacity_provider=CapacityProvider.FARGATE, weight=1, base=1),
    )
    """Default strategy for services, jobs and schedules (default: FARGATE only, base 1)."""
    container_insights: ContainerInsights = ContainerInsights.ENABLED
    """CloudWatch Container Insights: disabled, enabled or enhanced."""
    log_retention_days: StrictInt = 30
    """Retention of service, job and ECS Exec log groups (a CloudWatch Logs value)."""
    ecr: EcrConfig = EcrConfig()
    """ECR repositories for project-built images."""

    @field_validator("capacity_provider_strategy")
    @classmethod
    def _strategy(
        cls, value: tuple[CapacityProviderShare, ...]
    ) -> tuple[CapacityProviderShare, ...]:
        providers = [share.capacity_provider for share in value]
        if not value or len(set(providers)) != len(providers):
            raise ValueError("list each capacity provider at most once, at least one")
        if sum(1 for share in value if share.base > 0) > 1:
            raise ValueError("only one capacity provider may have a base > 0")
        if all(share.weight == 0 for share in value):
            raise ValueError("at least one capacity provider needs weight > 0")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return check_log_retention(value)
