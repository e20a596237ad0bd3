"""Typed, immutable environment configuration.

Every field has its default here, once. Environment files (`envs/dev.py`, ...) hold plain
data that states only how an environment differs from `envs/base.py`; `envs.load` merges
and validates them. Nothing in this package imports the AWS provider.
"""

from __future__ import annotations

import enum
import ipaddress
import math
import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Smallest subnet AWS allows in a VPC (/28: 16 addresses, 11 usable).
SMALLEST_SUBNET_PREFIX = 28
# Allowed VPC IPv4 CIDR sizes: /16 ... /28.
VPC_PREFIX_RANGE = (16, 28)
# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,14}[a-z0-9]$")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")


class Strict(BaseModel):
    """Base for config objects: immutable, keyword-only, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class NatMode(enum.StrEnum):
    """How private subnets reach the internet."""

    NONE = "none"
    """No NAT gateway: private subnets have no default route (VPC endpoints only)."""
    SINGLE = "single"
    """One NAT gateway in the first AZ, shared by every private subnet."""
    PER_AZ = "per_az"
    """One NAT gateway per AZ; each private subnet routes through its own AZ's gateway."""


def check_bucket_name(name: str) -> str:
    """Apply S3's general-purpose bucket naming rules; raise ValueError naming the broken rule."""
    problems = []
    if not 3 <= len(name) <= 63:
        problems.append(f"must be 3-63 characters long (it has {len(name)})")
    if not re.fullmatch(r"[a-z0-9.-]*", name):
        problems.append("may contain only lowercase letters, digits, '.' and '-'")
    if not re.fullmatch(r"[a-z0-9].*[a-z0-9]|[a-z0-9]", name):
        problems.append("must begin and end with a lowercase letter or digit")
    if ".." in name:
        problems.append("must not contain two adjacent periods")
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        problems.append("must not be formatted as an IP address")
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if name.startswith(prefix):
            problems.append(f"must not start with the reserved prefix '{prefix}'")
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if name.endswith(suffix):
            problems.append(f"must not end with the reserved suffix '{suffix}'")
    if problems:
        raise ValueError(f"S3 would reject bucket name {name!r}: it " + "; it ".join(problems))
    return name


def check_log_retention(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        raise ValueError(
            f"CloudWatch Logs does not accept a retention of {days} days; "
            f"use one of {', '.join(map(str, LOG_RETENTION_DAYS))}"
        )
    return days


LogRetentionDays = Annotated[int, Field(gt=0)]


class StateBackendConfig(Strict):
    """Where Terraform keeps this environment's state (S3 backend, S3-native locking)."""

    bucket: str
    """State bucket name; created by the `state-bootstrap` stack."""
    key_prefix: str = ""
    """Prefix of the state key; the key is `<key_prefix><project>/<env>/terraform.tfstate`."""
    region: str
    """Region of the state bucket."""

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        return check_bucket_name(value)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return check_region(value)

    @field_validator("key_prefix")
    @classmethod
    def _key_prefix(cls, value: str) -> str:
        if value and (value.startswith("/") or not value.endswith("/")):
            raise ValueError(
                f"key_prefix {value!r} must be empty or a relative path ending in '/' "
                "(for example 'teams/web/')"
            )
        return value


class FlowLogsConfig(Strict):
    """VPC flow logs to CloudWatch Logs."""

    enabled: bool = False
    """Capture all VPC traffic metadata into a log group."""
    retention_days: LogRetentionDays = 30
    """How long flow log records are kept (a CloudWatch Logs retention value)."""
    traffic_type: str = "ALL"
    """ACCEPT, REJECT or ALL."""

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return check_log_retention(value)

    @field_validator("traffic_type")
    @classmethod
    def _traffic_type(cls, value: str) -> str:
        if value not in ("ACCEPT", "REJECT", "ALL"):
            raise ValueError(f"traffic_type {value!r} is not one of ACCEPT, REJECT, ALL")
        return value


def check_region(value: str) -> str:
    if not REGION_PATTERN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an AWS region code; "
            "use a code such as 'ap-northeast-1' or 'us-east-1'"
        )
    return value


class SubnetPlan(BaseModel):
    """CIDRs derived from the VPC CIDR: public and private subnets, one each per AZ."""

    model_config = ConfigDict(frozen=True)

    public: tuple[ipaddress.IPv4Network, ...]
    private: tuple[ipaddress.IPv4Network, ...]


def plan_subnets(vpc_cidr: ipaddress.IPv4Network, az_count: int) -> SubnetPlan:
    """Split the VPC CIDR in half (public, private) and each half into equal per-AZ subnets.

    With 2 AZs a /24 gives four /26s: public a, public c, private a, private c. With 3 AZs each
    half is split into 4 (the next power of two), leaving one spare block per half for growth.
    """
    bits_per_half = max(1, math.ceil(math.log2(az_count)))
    new_prefix = vpc_cidr.prefixlen + 1 + bits_per_half
    if new_prefix > SMALLEST_SUBNET_PREFIX:
        raise ValueError(
            f"{vpc_cidr} is too small for {az_count * 2} subnets "
            f"({az_count} AZs x public/private): "
            f"each would be /{new_prefix}, and AWS's smallest subnet is /{SMALLEST_SUBNET_PREFIX}; "
            f"use a /{SMALLEST_SUBNET_PREFIX - 1 - bits_per_half} or larger"
        )
    public_half, private_half = vpc_cidr.subnets(prefixlen_diff=1)
    public = tuple(public_half.subnets(new_prefix=new_prefix))[:az_count]
    private = tuple(private_half.subnets(new_prefix=new_prefix))[:az_count]
    return SubnetPlan(public=public, private=private)


class NetworkConfig(Strict):
    """The VPC: CIDR, AZs, NAT and flow logs."""

    vpc_cidr: ipaddress.IPv4Network
    """The VPC's IPv4 CIDR (/16 ... /28). Subnets are derived from it; never typed by hand."""
    availability_zones: tuple[str, ...]
    """Explicit AZ names in the environment's region, at least 2, in subnet order."""
    nat_mode: NatMode = NatMode.SINGLE
    """`none`, `single` or `per_az`."""
    flow_logs: FlowLogsConfig = FlowLogsConfig()

    @field_validator("vpc_cidr", mode="before")
    @classmethod
    def _cidr(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return ipaddress.IPv4Network(value, strict=True)
            except ValueError as error:
                raise ValueError(
                    f"{value!r} is not an IPv4 network in CIDR form with its host bits zero "
                    f"(for example '10.0.0.0/16'): {error}"
                ) from None
        return value

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr_size(cls, value: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
        low, high = VPC_PREFIX_RANGE
        if not low <= value.prefixlen <= high:
            raise ValueError(f"AWS allows VPC CIDRs from /{low} to /{high}; got {value}")
        return value

    @field_validator("availability_zones")
    @classmethod
    def _azs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) < 2:
            raise ValueError(
                f"need at least 2 availability zones for high availability; got {list(value)}"
            )
        if len(set(value)) != len(value):
            raise ValueError(f"availability zones must be distinct; got {list(value)}")
        return value

    @property
    def subnets(self) -> SubnetPlan:
        return plan_subnets(self.vpc_cidr, len(self.availability_zones))

    @model_validator(mode="after")
    def _fits(self) -> NetworkConfig:
        try:
            plan_subnets(self.vpc_cidr, len(self.availability_zones))
        except ValueError as error:
            raise ValueError(f"vpc_cidr: {error}") from None
        return self


class EnvironmentConfig(Strict):
    """One deployable environment: one Terraform stack with its own state."""

    name: str
    """Environment name: 2-16 characters, lowercase letters, digits and '-'. Also the stack name."""
    project: str
    """Project name, prefixed to resource names and part of the state key."""
    region: str
    """AWS region code."""
    network: NetworkConfig
    state: StateBackendConfig
    tags: dict[str, str] = Field(default_factory=dict)
    """Extra default tags; Project, Environment and ManagedBy are always set."""

    @field_validator("name", "project")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_PATTERN.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a valid name: use 2-16 characters, lowercase letters, digits "
                "and '-', starting with a letter and not ending with '-'"
            )
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return check_region(value)

    @model_validator(mode="after")
    def _azs_in_region(self) -> EnvironmentConfig:
        strangers = [
            az
            for az in self.network.availability_zones
            if not re.fullmatch(re.escape(self.region) + r"[a-z]", az)
        ]
        if strangers:
            raise ValueError(
                f"network.availability_zones: {strangers} not in region {self.region}; "
                f"use zones named {self.region}<letter>, e.g. {self.region}a"
            )
        reserved = {"Project", "Environment", "ManagedBy"} & set(self.tags)
        if reserved:
            raise ValueError(
                f"tags: {sorted(reserved)} are set by the platform; remove them from tags"
            )
        return self

    @property
    def state_key(self) -> str:
        return f"{self.state.key_prefix}{self.project}/{self.name}/terraform.tfstate"

    @property
    def resource_prefix(self) -> str:
        """`<project>-<env>`: prefix of every AWS resource name in this environment."""
        return f"{self.project}-{self.name}"
