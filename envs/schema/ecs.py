"""The ECS cluster: capacity providers, Container Insights, log retention and ECR."""

from __future__ import annotations

import enum

from pydantic import StrictBool, StrictInt, field_validator, model_validator

from envs.schema.common import (
    Strict,
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
    weight: StrictInt = 1
    """Relative share of tasks beyond the base (0-1000)."""
    base: StrictInt = 0
    """Tasks placed on this provider first (0-100000; at most one provider may have a base)."""

    @model_validator(mode="after")
    def _limits(self) -> CapacityProviderShare:
        problems = []
        if not 0 <= self.weight <= CAPACITY_WEIGHT_MAX:
            problems.append(f"weight must be 0-{CAPACITY_WEIGHT_MAX}; got {self.weight}")
        if not 0 <= self.base <= CAPACITY_BASE_MAX:
            problems.append(f"base must be 0-{CAPACITY_BASE_MAX}; got {self.base}")
        if problems:
            raise ValueError(f"{self.capacity_provider}: " + "; ".join(problems))
        return self


class EcrConfig(Strict):
    """ECR repositories for project-built images."""

    immutable_tags: StrictBool = False
    """Refuse pushing a tag that already exists (recommended for prod)."""
    keep_last_images: StrictInt = 20
    """Lifecycle policy: expire all but the newest N images."""
    force_delete: StrictBool = True
    """Allow `terraform destroy` to delete repositories that still hold images."""

    @field_validator("keep_last_images")
    @classmethod
    def _keep(cls, value: int) -> int:
        if not 1 <= value <= 1000:
            raise ValueError(f"keep_last_images must be 1-1000; got {value}")
        return value


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
