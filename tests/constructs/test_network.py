"""Network construct, asserted on the synthesized JSON of the default and variant stacks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from envs import DEFAULT_ENVIRONMENTS, load_environments
from tests.tf import by_path, only, ref, resources, where
from tests.variants import EXAMPLE, VARIANTS

Json = dict[str, Any]


@pytest.fixture(scope="module")
def dev(synthesized: dict[str, Json]) -> Json:
    """In this module `dev` is the frozen example's dev (tests/variants.py EXAMPLE), where
    exact values are asserted; the user's own dev is covered by the invariant tests."""
    return synthesized[EXAMPLE]


def subnets_by_tier(stack: Json, tier: str) -> list[Json]:
    found = [s for s in resources(stack, "aws_subnet").values() if s["tags"]["Tier"] == tier]
    return sorted(found, key=lambda s: s["availability_zone"])


def test_vpc_has_dns_support_and_hostnames(dev: Json) -> None:
    _, vpc = only(dev, "aws_vpc")
    assert vpc["cidr_block"] == "10.0.0.0/24"
    assert vpc["enable_dns_support"] is True
    assert vpc["enable_dns_hostnames"] is True


def test_the_example_dev_subnets_are_the_four_26s_of_its_24(dev: Json) -> None:
    for tier, expected in (
        ("public", ["10.0.0.0/26", "10.0.0.64/26"]),
        ("private", ["10.0.0.128/26", "10.0.0.192/26"]),
    ):
        assert [s["cidr_block"] for s in subnets_by_tier(dev, tier)] == expected


@pytest.mark.invariant
@pytest.mark.parametrize("env", DEFAULT_ENVIRONMENTS)
def test_subnet_cidrs_and_azs(synthesized: dict[str, Json], env: str) -> None:
    """Each tier's subnets are the config's plan, in the VPC, without public IPs."""
    (config,) = load_environments([env])
    public = [str(n) for n in config.network.subnets.public]
    private = [str(n) for n in config.network.subnets.private]
    stack = synthesized[env]
    vpc_name, _ = only(stack, "aws_vpc")
    for tier, expected in (("public", public), ("private", private)):
        found = subnets_by_tier(stack, tier)
        assert [s["cidr_block"] for s in found] == expected
        assert all(s["vpc_id"] == ref("aws_vpc", vpc_name) for s in found)
        assert all(s["map_public_ip_on_launch"] is False for s in found)
    azs = [s["availability_zone"] for s in subnets_by_tier(stack, "private")]
    assert azs == list(stack["output"]["availability_zones"]["value"])


def default_route_targets(stack: Json, table_name: str) -> list[Json]:
    return [
        route
        for route in where(stack, "aws_route", destination_cidr_block="0.0.0.0/0").values()
        if route["route_table_id"] == ref("aws_route_table", table_name)
    ]


def private_tables(stack: Json) -> dict[str, Json]:
    return {n: t for n, t in resources(stack, "aws_route_table").items() if "private" in n}


def table_of_subnet(stack: Json, subnet_name: str) -> str:
    (association,) = where(
        stack, "aws_route_table_association", subnet_id=ref("aws_subnet", subnet_name)
    ).values()
    return association["route_table_id"].split(".")[1]


def test_public_subnets_route_to_the_internet_gateway(dev: Json) -> None:
    igw_name, _ = only(dev, "aws_internet_gateway")
    public_table, _ = by_path(dev, "aws_route_table", "network/public-rt")
    (default,) = default_route_targets(dev, public_table)
    assert default["gateway_id"] == ref("aws_internet_gateway", igw_name)
    for name, body in resources(dev, "aws_subnet").items():
        if body["tags"]["Tier"] == "public":
            assert table_of_subnet(dev, name) == public_table


def test_single_nat_serves_every_private_subnet(dev: Json) -> None:
    nat_name, nat = only(dev, "aws_nat_gateway")
    eip_name, eip = only(dev, "aws_eip")
    assert nat["allocation_id"] == ref("aws_eip", eip_name)
    assert eip["domain"] == "vpc"
    public_a, _ = by_path(dev, "aws_subnet", "network/public-ap-northeast-1a")
    assert nat["subnet_id"] == ref("aws_subnet", public_a)
    tables = private_tables(dev)
    assert len(tables) == 2
    for table in tables:
        (default,) = default_route_targets(dev, table)
        assert default["nat_gateway_id"] == ref("aws_nat_gateway", nat_name)
        assert "gateway_id" not in default


def test_per_az_nat_routes_each_private_subnet_through_its_own_az(
    synthesized: dict[str, Json],
) -> None:
    per_az = [
        e for e in (*load_environments(), *VARIANTS.values()) if e.network.nat_mode == "per_az"
    ]
    assert "nat-per-az" in {e.name for e in per_az}
    for config in per_az:
        stack = synthesized[config.name]
        nats = resources(stack, "aws_nat_gateway")
        assert len(nats) == len(config.network.availability_zones)
        for name, body in resources(stack, "aws_subnet").items():
            if body["tags"]["Tier"] != "private":
                continue
            az = body["availability_zone"]
            (default,) = default_route_targets(stack, table_of_subnet(stack, name))
            nat_name = default["nat_gateway_id"].split(".")[1]
            nat_subnet = nats[nat_name]["subnet_id"].split(".")[1]
            assert stack["resource"]["aws_subnet"][nat_subnet]["availability_zone"] == az
            assert stack["resource"]["aws_subnet"][nat_subnet]["tags"]["Tier"] == "public"


def test_nat_none_has_no_gateway_and_no_private_default_route(
    synthesized: dict[str, Json],
) -> None:
    stack = synthesized["nat-none"]
    assert resources(stack, "aws_nat_gateway") == {}
    assert resources(stack, "aws_eip") == {}
    tables = private_tables(stack)
    assert len(tables) == 2
    for table in tables:
        assert default_route_targets(stack, table) == []
    # Private subnets are still explicitly associated with their own tables.
    assert len(resources(stack, "aws_route_table_association")) == 4


@pytest.mark.invariant
@pytest.mark.parametrize("env", DEFAULT_ENVIRONMENTS)
def test_default_security_group_has_no_rules(synthesized: dict[str, Json], env: str) -> None:
    _, group = only(synthesized[env], "aws_default_security_group")
    assert group["ingress"] == [] and group["egress"] == []


def test_flow_logs_everywhere_with_finite_encrypted_retention(
    synthesized: dict[str, Json],
) -> None:
    for config in (*load_environments(), VARIANTS[EXAMPLE]):
        if not config.network.flow_logs.enabled:
            assert not resources(synthesized[config.name], "aws_flow_log"), config.name
            continue
        stack, days = synthesized[config.name], config.network.flow_logs.retention_days
        _, flow = only(stack, "aws_flow_log")
        vpc, _ = only(stack, "aws_vpc")
        group_name, group = by_path(stack, "aws_cloudwatch_log_group", "network/flow-logs")
        key, _ = by_path(stack, "aws_kms_key", "logs-key/key")
        assert group["retention_in_days"] == days
        assert group["kms_key_id"] == ref("aws_kms_key", key, "arn")
        assert flow["vpc_id"] == ref("aws_vpc", vpc)
        assert flow["log_destination"] == ref("aws_cloudwatch_log_group", group_name, "arn")
        assert flow["traffic_type"] == "ALL"
        role_name, role = by_path(stack, "aws_iam_role", "network/flow-logs-role")
        assert flow["iam_role_arn"] == ref("aws_iam_role", role_name, "arn")
        (trust,) = json.loads(role["assume_role_policy"])["Statement"]
        assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
        account = next(iter(stack["data"]["aws_caller_identity"]))
        account_ref = f"${{data.aws_caller_identity.{account}.account_id}}"
        assert trust["Condition"] == {
            "StringEquals": {"aws:SourceAccount": account_ref},
            "ArnLike": {
                "aws:SourceArn": f"arn:aws:ec2:{config.region}:{account_ref}:vpc-flow-log/*"
            },
        }


def test_flow_logs_can_be_turned_off(synthesized: dict[str, Json]) -> None:
    stack = synthesized["no-endpoints"]
    assert resources(stack, "aws_flow_log") == {}
    assert not [
        g
        for g in resources(stack, "aws_cloudwatch_log_group").values()
        if g["name"].endswith("flow-logs")
    ]


def test_outputs_expose_network_ids(dev: Json) -> None:
    vpc_name, _ = only(dev, "aws_vpc")
    assert dev["output"]["vpc_id"]["value"] == ref("aws_vpc", vpc_name)
    private = dev["output"]["private_subnet_ids"]["value"]
    assert [p.split(".")[1] for p in private] == [
        by_path(dev, "aws_subnet", f"network/private-{az}")[0]
        for az in ("ap-northeast-1a", "ap-northeast-1c")
    ]
    assert len(dev["output"]["public_subnet_ids"]["value"]) == 2
