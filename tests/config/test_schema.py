"""Environment config: defaults, derived subnets, and every validation message. No provider."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from typing import Any

import pytest

from envs import (
    DEFAULT_ENVIRONMENTS,
    ConfigError,
    load_environments,
    merge,
    validate_together,
)
from envs.schema.network import NatMode, plan_subnets
from tests.example_envs import build_example, example_environments
from tests.example_envs.dev import OVERRIDES as DEV


def dev_with(overrides: dict[str, Any]) -> Any:
    return build_example(merge(DEV, overrides), source="test")


def rejected(overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        dev_with(overrides)
    return caught.value.render()


def test_dev_subnets_are_the_four_26s_of_its_24() -> None:
    dev = build_example(DEV)
    assert dev.region == "ap-northeast-1"
    assert dev.network.availability_zones == ("ap-northeast-1a", "ap-northeast-1c")
    assert [str(n) for n in dev.network.subnets.public] == ["10.0.0.0/26", "10.0.0.64/26"]
    assert [str(n) for n in dev.network.subnets.private] == ["10.0.0.128/26", "10.0.0.192/26"]
    assert dev.network.nat_mode is NatMode.SINGLE


def test_default_environments_load_in_their_order() -> None:
    assert [env.name for env in load_environments()] == list(DEFAULT_ENVIRONMENTS)


def test_stg_and_prod_defaults() -> None:
    envs = {env.name: env for env in example_environments()}
    assert list(envs) == ["dev", "stg", "prod"]
    prod = envs["prod"]
    assert len(prod.network.availability_zones) == 3
    assert prod.network.nat_mode is NatMode.PER_AZ
    assert prod.network.flow_logs.enabled is True
    assert envs["stg"].network.vpc_cidr.prefixlen == 16
    assert prod.network.vpc_cidr.prefixlen == 16
    assert not envs["stg"].network.vpc_cidr.overlaps(prod.network.vpc_cidr)


@pytest.mark.parametrize(
    "cidr,azs",
    [
        ("10.0.0.0/16", 2),
        ("10.0.0.0/16", 3),
        ("10.9.0.0/20", 4),
        ("172.16.0.0/24", 2),
        ("192.168.0.0/23", 3),
    ],
)
def test_subnet_plan_is_disjoint_and_inside_the_vpc(cidr: str, azs: int) -> None:
    vpc = ipaddress.IPv4Network(cidr)
    plan = plan_subnets(vpc, azs)
    subnets = [*plan.public, *plan.private]
    assert len(plan.public) == len(plan.private) == azs
    assert all(subnet.subnet_of(vpc) for subnet in subnets)
    assert len({subnet.prefixlen for subnet in subnets}) == 1
    for index, subnet in enumerate(subnets):
        assert not any(subnet.overlaps(other) for other in subnets[index + 1 :])


@pytest.mark.invariant
def test_state_key_is_per_project_and_environment() -> None:
    envs = load_environments()
    assert len({env.state_key for env in envs}) == len(envs), "two environments share a state key"
    for env in envs:
        assert env.state_key.endswith(f"{env.project}/{env.name}/terraform.tfstate")


def test_state_keys_of_the_example() -> None:
    assert {env.state_key for env in example_environments()} == {
        "fargate/dev/terraform.tfstate",
        "fargate/stg/terraform.tfstate",
        "fargate/prod/terraform.tfstate",
    }


def test_config_objects_are_immutable() -> None:
    dev = build_example(DEV)
    with pytest.raises(Exception, match="frozen"):
        dev.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "overrides,expected",
    [
        (
            {"network": {"availability_zones": ["ap-northeast-1a"]}},
            "network.availability_zones: need at least 2 availability zones for high availability; "
            "got ['ap-northeast-1a']",
        ),
        (
            {"network": {"availability_zones": ["ap-northeast-1a", "ap-northeast-1a"]}},
            "availability zones must be distinct",
        ),
        (
            {"network": {"availability_zones": ["ap-northeast-1a", "us-east-1b"]}},
            "network.availability_zones: ['us-east-1b'] not in region ap-northeast-1; use zones "
            "of ap-northeast-1: ap-northeast-1a, ap-northeast-1c, ap-northeast-1d",
        ),
        (
            {"network": {"vpc_cidr": "10.0.0.0/27"}},
            "vpc_cidr: 10.0.0.0/27 is too small for 4 subnets (2 AZs x public/private): each would "
            "be /29, and AWS's smallest subnet is /28; use a /26 or larger",
        ),
        (
            {"network": {"vpc_cidr": "10.0.0.0/8"}},
            "network.vpc_cidr: AWS allows VPC CIDRs from /16 to /28; got 10.0.0.0/8",
        ),
        (
            {"network": {"vpc_cidr": "10.0.0.1/24"}},
            "network.vpc_cidr: '10.0.0.1/24' is not an IPv4 network in CIDR form with its host "
            "bits zero",
        ),
        (
            {"network": {"nat_mode": "double"}},
            "network.nat_mode: Input should be 'none', 'single' or 'per_az' (got 'double')",
        ),
        (
            {"name": "Dev_1"},
            "name: 'Dev_1' is not a valid name: use 2-16 characters, lowercase letters, digits "
            "and '-'",
        ),
        (
            {"state": {"bucket": "My_State"}},
            "state.bucket: S3 would reject bucket name 'My_State': it may contain only lowercase "
            "letters, digits, '.' and '-'",
        ),
        ({"state": {"bucket": "ab"}}, "must be 3-63 characters long (it has 2)"),
        ({"state": {"bucket": "state..bucket"}}, "must not contain two adjacent periods"),
        ({"state": {"bucket": "192.168.1.10"}}, "must not be formatted as an IP address"),
        ({"state": {"bucket": "xn--state"}}, "must not start with the reserved prefix 'xn--'"),
        (
            {"state": {"bucket": "state-s3alias"}},
            "must not end with the reserved suffix '-s3alias'",
        ),
        ({"state": {"key_prefix": "/abs"}}, "state.key_prefix: key_prefix '/abs' must be empty or"),
        ({"region": "tokyo"}, "region: 'tokyo' is not an AWS region code"),
        (
            {"network": {"flow_logs": {"enabled": True, "retention_days": 10}}},
            "network.flow_logs.retention_days: CloudWatch Logs does not accept a retention of "
            "10 days",
        ),
        (
            {"tags": {"Environment": "x"}},
            "tags: ['Environment'] are set by the platform; remove them from tags",
        ),
        (
            {"network": {"vpc_cidrr": "10.0.0.0/16"}},
            "network.vpc_cidrr: unknown field; check its spelling against envs/schema/",
        ),
    ],
)
def test_rejected_config_names_field_value_and_fix(
    overrides: dict[str, Any], expected: str
) -> None:
    message = rejected(overrides)
    assert expected in message
    assert message.startswith("configuration rejected")


def test_every_problem_is_reported_at_once() -> None:
    message = rejected({"network": {"nat_mode": "both"}, "state": {"bucket": "UPPER"}})
    assert "(2 problems)" in message
    assert "network.nat_mode" in message and "state.bucket" in message


def test_overlapping_environment_cidrs_are_rejected() -> None:
    dev = dev_with({})
    clash = dev_with({"name": "qa", "network": {"vpc_cidr": "10.0.0.0/16"}})
    with pytest.raises(ConfigError) as caught:
        validate_together([dev, clash])
    assert (
        "envs/qa.py: network.vpc_cidr: qa (10.0.0.0/16) overlaps dev (10.0.0.0/24); give each "
        "environment its own range"
    ) in str(caught.value)


def test_duplicate_environment_names_are_rejected() -> None:
    first = dev_with({})
    second = dev_with({"network": {"vpc_cidr": "10.50.0.0/24"}})
    with pytest.raises(ConfigError, match="environment name 'dev' is used twice"):
        validate_together([first, second])


def test_unknown_environment_file_is_rejected() -> None:
    with pytest.raises(ConfigError, match="environment 'no-such-env' has no file; known "):
        load_environments(["no-such-env"])


def test_config_validation_never_loads_the_provider_or_cdktf() -> None:
    probe = (
        "import sys, main; rc = main.main(['--check']);"
        "assert rc == 0;"
        "loaded = [m for m in sys.modules if m.split('.')[0] in "
        "('cdktf', 'cdktf_cdktf_provider_aws', 'jsii', 'constructs')];"
        "print(loaded)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().endswith("[]"), result.stdout
