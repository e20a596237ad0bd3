"""The VPC (CIDR, subnets, NAT, flow logs) and its VPC endpoints."""

from __future__ import annotations

import enum
import ipaddress
import math
from collections.abc import Callable

from pydantic import (
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from envs.schema.common import (
    Strict,
    check_bucket_name,
    check_log_retention,
)

# Smallest subnet AWS allows in a VPC (/28: 16 addresses, 11 usable).
SMALLEST_SUBNET_PREFIX = 28

# Allowed VPC IPv4 CIDR sizes: /16 ... /28.
VPC_PREFIX_RANGE = (16, 28)

# Address ranges CreateVpc refuses ("IPv4 VPC CIDR blocks": loopback, link-local, multicast,
# reserved and "this network"). https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html
UNUSABLE_RANGES: tuple[tuple[str, Callable[[ipaddress.IPv4Network], bool]], ...] = (
    ("loopback", lambda n: n.is_loopback),
    ("link-local", lambda n: n.is_link_local),
    ("multicast", lambda n: n.is_multicast),
    ("reserved", lambda n: n.is_reserved),
    ("'this network' (0.0.0.0/8)", lambda n: n.subnet_of(ipaddress.IPv4Network("0.0.0.0/8"))),
)


class NatMode(enum.StrEnum):
    """How private subnets reach the internet."""

    NONE = "none"
    """No NAT gateway: private subnets have no default route (VPC endpoints only)."""
    SINGLE = "single"
    """One NAT gateway in the first AZ, shared by every private subnet."""
    PER_AZ = "per_az"
    """One NAT gateway per AZ; each private subnet routes through its own AZ's gateway."""


class TrafficType(enum.StrEnum):
    """Which traffic a VPC flow log records (`TrafficType` in
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateFlowLogs.html)."""

    ACCEPT = "ACCEPT"
    """Only traffic the security groups and network ACLs accepted."""
    REJECT = "REJECT"
    """Only rejected traffic."""
    ALL = "ALL"
    """Both."""


class FlowLogsConfig(Strict):
    """VPC flow logs to CloudWatch Logs."""

    enabled: StrictBool = False
    """Capture all VPC traffic metadata into a log group."""
    retention_days: StrictInt = 30
    """How long flow log records are kept (a CloudWatch Logs retention value)."""
    traffic_type: TrafficType = TrafficType.ALL
    """Which traffic the flow log records."""

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return check_log_retention(value)


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
    """VPC flow logs (on in every default environment)."""

    @property
    def nat_gateway_count(self) -> int:
        """NAT gateways (and so Elastic IPs) the network creates."""
        return {
            NatMode.NONE: 0,
            NatMode.SINGLE: 1,
            NatMode.PER_AZ: len(self.availability_zones),
        }[self.nat_mode]

    @property
    def has_nat(self) -> bool:
        """True when the private subnets route to the internet through a NAT gateway."""
        return self.nat_mode is not NatMode.NONE

    @field_validator("vpc_cidr", mode="before")
    @classmethod
    def _cidr(cls, value: object) -> object:
        if not isinstance(value, str | ipaddress.IPv4Network):
            raise ValueError(f"{value!r} is not a CIDR string such as '10.0.0.0/16'")
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
        kind = next((name for name, test in UNUSABLE_RANGES if test(value)), None)
        if kind is not None:
            raise ValueError(
                f"{value} is a {kind} range, which AWS does not accept for a VPC; use a "
                "private range (RFC 1918) such as 10.0.0.0/16, 172.16.0.0/16 or 192.168.0.0/16"
            )
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


class InterfaceEndpoint(enum.StrEnum):
    """AWS services reachable through an interface VPC endpoint (PrivateLink)."""

    ECR_API = "ecr.api"
    ECR_DKR = "ecr.dkr"
    LOGS = "logs"
    ECS = "ecs"
    ECS_AGENT = "ecs-agent"
    ECS_TELEMETRY = "ecs-telemetry"
    SSM = "ssm"
    SSMMESSAGES = "ssmmessages"
    EC2MESSAGES = "ec2messages"
    SECRETSMANAGER = "secretsmanager"
    KMS = "kms"
    STS = "sts"
    XRAY = "xray"
    SQS = "sqs"


ALWAYS_ON_ENDPOINTS = (InterfaceEndpoint.ECR_API, InterfaceEndpoint.ECR_DKR, InterfaceEndpoint.LOGS)
"""Interface endpoints every environment gets: pulling images and shipping logs."""


class EndpointsConfig(Strict):
    """VPC endpoints that let private tasks reach AWS without the internet."""

    enabled: StrictBool = True
    """False: no endpoints at all; tasks reach AWS through NAT (needs a NAT mode)."""
    interface: tuple[InterfaceEndpoint, ...] = ()
    """Optional interface endpoints on top of ecr.api, ecr.dkr and logs (always created)."""
    restrict_s3_gateway: StrictBool = True
    """The S3 gateway endpoint's policy allows only the region's ECR layer bucket, the
    environment's `buckets` and `s3_allowed_buckets`; false: all of S3 (the AWS default, lets
    tasks reach any bucket)."""
    s3_allowed_buckets: tuple[str, ...] = ()
    """Extra bucket names reachable through a restricted S3 gateway endpoint."""

    @field_validator("interface", mode="before")
    @classmethod
    def _known(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            known = [e.value for e in InterfaceEndpoint]
            unknown = [v for v in value if v not in known]
            if unknown:
                raise ValueError(
                    f"unknown interface endpoint(s) {unknown}; choose from {', '.join(known)}"
                )
        return value

    @field_validator("s3_allowed_buckets")
    @classmethod
    def _buckets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for bucket in value:
            check_bucket_name(bucket)
        return value

    @property
    def interface_services(self) -> tuple[InterfaceEndpoint, ...]:
        """Always-on endpoints first, then the optional ones, without duplicates."""
        if not self.enabled:
            return ()
        return tuple(dict.fromkeys((*ALWAYS_ON_ENDPOINTS, *self.interface)))

    @property
    def s3_gateway(self) -> bool:
        return self.enabled
