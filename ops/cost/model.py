"""What an estimate is made of: assumptions, line items, service tasks, break-even, estimate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NEVER_EXPIRE_MONTHS = 12  # log storage assumed for groups without a retention period


@dataclass(frozen=True)
class Assumptions:
    """Usage the fixed-cost estimate cannot read from the stack."""

    nat_gb: float = 10.0  # GB/month processed per NAT gateway
    endpoint_gb: float = 5.0  # GB/month processed per interface endpoint
    alb_lcu: float = 1.0  # average LCUs per ALB, all month
    log_gb: float = 1.0  # GB/month ingested per log group
    dns_million_queries: float = 1.0  # million DNS queries/month per hosted zone the stack uses
    sqs_million_requests: float = 1.0  # million SQS requests/month per queue
    s3_gb: float = 5.0  # GB stored per S3 bucket
    efs_gb: float = 5.0  # GB stored per EFS file system

    def describe(self) -> str:
        """One sentence listing the assumptions."""
        return (
            f"{self.nat_gb:g} GB/month through each NAT gateway, {self.endpoint_gb:g} GB/month "
            f"through each interface endpoint, {self.alb_lcu:g} LCU per ALB, "
            f"{self.log_gb:g} GB/month ingested per log group (stored for its retention period, "
            f"{NEVER_EXPIRE_MONTHS} months if it never expires), "
            f"{self.sqs_million_requests:g} M requests/month per SQS queue, "
            f"{self.s3_gb:g} GB per S3 bucket, {self.efs_gb:g} GB per EFS file system"
        )


@dataclass(frozen=True)
class LineItem:
    """One priced line: quantity x unit price."""

    item: str
    basis: str
    quantity: float
    unit: str
    unit_price: float

    @property
    def monthly(self) -> float:
        """USD per month, rounded to cents (the total is the sum of these)."""
        return round(self.quantity * self.unit_price, 2)


@dataclass(frozen=True)
class ServiceTasks:
    """What one ECS service runs: tasks, their size and the expected Spot share."""

    name: str
    tasks: int
    vcpu: float
    memory_gb: float
    architecture: str
    spot_tasks: float
    strategy: str

    @property
    def on_demand_tasks(self) -> float:
        return self.tasks - self.spot_tasks


@dataclass(frozen=True)
class BreakEven:
    """Interface endpoints' hourly cost against NAT's per-GB processing charge."""

    endpoints: int
    enis: int
    hourly_monthly: float  # the endpoints' hourly charge, USD/month
    nat_gb_price: float
    endpoint_gb_price: float
    assumed_gb: float  # GB/month through the endpoints (assumption)

    @property
    def saving_per_gb(self) -> float:
        """USD saved per GB sent through an endpoint instead of NAT."""
        return self.nat_gb_price - self.endpoint_gb_price

    @property
    def gb_per_month(self) -> float | None:
        """Monthly GB above which the endpoints are cheaper (None: never)."""
        if self.saving_per_gb <= 0:
            return None
        return self.hourly_monthly / self.saving_per_gb

    @property
    def via_nat(self) -> float:
        """USD/month if the assumed endpoint traffic went through NAT instead."""
        return self.assumed_gb * self.nat_gb_price

    @property
    def via_endpoints(self) -> float:
        """USD/month of the endpoints at the assumed traffic."""
        return self.hourly_monthly + self.assumed_gb * self.endpoint_gb_price


@dataclass(frozen=True)
class Estimate:
    """The monthly estimate of one environment."""

    env: str
    region: str
    lines: tuple[LineItem, ...]
    services: tuple[ServiceTasks, ...]
    nat_gateways: int
    break_even: BreakEven | None
    notes: tuple[str, ...]
    prices: Mapping[str, Any] = field(repr=False)

    @property
    def total(self) -> float:
        return round(sum(line.monthly for line in self.lines), 2)

    def line(self, item: str) -> LineItem:
        """The line named `item` (KeyError if absent)."""
        for line in self.lines:
            if line.item == item:
                return line
        raise KeyError(item)
