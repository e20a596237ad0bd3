"""The security-group model: traffic flows only along the architecture, nothing else is open."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tf import resources, rule_set, security_group_names
from tests.variants import EXAMPLE, VARIANTS

Json = dict[str, Any]


@pytest.fixture(scope="module")
def dev(synthesized: dict[str, Json]) -> Json:
    """In this module `dev` is the frozen example's dev (tests/variants.py EXAMPLE), where
    exact values are asserted; the user's own dev is covered by the invariant tests."""
    return synthesized[EXAMPLE]


def test_dev_ingress_is_exactly_the_architecture(dev: Json) -> None:
    assert rule_set(dev, "ingress") == {
        ("fargate-example-public-alb", "0.0.0.0/0", 80),
        ("fargate-example-public-alb", "::/0", 80),
        ("fargate-example-frontend-tasks", "fargate-example-public-alb", 3000),
        ("fargate-example-internal-alb", "fargate-example-frontend-tasks", 80),
        ("fargate-example-backend-tasks", "fargate-example-internal-alb", 8080),
        # Every task reaches the endpoints through the one shared workloads group.
        ("fargate-example-vpc-endpoints", "fargate-example-workloads", 443),
    }


def test_dev_egress_is_exactly_the_architecture(dev: Json) -> None:
    assert rule_set(dev, "egress") == {
        ("fargate-example-public-alb", "fargate-example-frontend-tasks", 3000),
        ("fargate-example-internal-alb", "fargate-example-backend-tasks", 8080),
        ("fargate-example-frontend-tasks", "fargate-example-internal-alb", 80),
        ("fargate-example-workloads", "fargate-example-vpc-endpoints", 443),
        ("fargate-example-workloads", "prefix-list", 443),
    }


@pytest.mark.invariant
def test_no_world_ingress_except_public_alb_listener_ports(synthesized: dict[str, Json]) -> None:
    world = set()
    for name, stack in synthesized.items():
        for group, peer, port in rule_set(stack, "ingress") if "resource" in stack else ():
            if peer in ("0.0.0.0/0", "::/0"):
                assert group.endswith("-public-alb") and port in (80, 443), (name, group, port)
                world.add((name, port))
    # The fixtures have public ALBs: their listener ports are the world ingress seen.
    assert {port for name, port in world if name in VARIANTS} == {80, 443}, world


def test_https_public_alb_admits_80_and_443_and_callers_reach_internal_on_443(
    synthesized: dict[str, Json],
) -> None:
    stack = synthesized["https-shop"]
    ingress = rule_set(stack, "ingress")
    world = {(g, p, port) for g, p, port in ingress if p in ("0.0.0.0/0", "::/0")}
    assert world == {
        ("fargate-https-shop-public-alb", cidr, port)
        for cidr in ("0.0.0.0/0", "::/0")
        for port in (80, 443)
    }
    internal = {(g, p, port) for g, p, port in ingress if g == "fargate-https-shop-internal-alb"}
    # frontend calls two internal services (backend and api): one rule, not one per callee.
    internal = {(g, p, port) for g, p, port in ingress if g == "fargate-https-shop-internal-alb"}
    assert internal == {
        ("fargate-https-shop-internal-alb", "fargate-https-shop-frontend-tasks", 443),
        ("fargate-https-shop-internal-alb", "fargate-https-shop-admin-tasks", 443),
        # A job may call an internal service too (never through Service Connect).
        ("fargate-https-shop-internal-alb", "fargate-https-shop-admin-report-tasks", 443),
    }
    # The worker has no load balancer: nothing may reach it.
    assert not {r for r in ingress if r[0] == "fargate-https-shop-worker-tasks"}


def test_nat_none_tasks_get_no_internet_egress(synthesized: dict[str, Json]) -> None:
    egress = rule_set(synthesized["nat-none"], "egress")
    assert not {r for r in egress if r[1] == "0.0.0.0/0"}
    assert ("fargate-nat-none-workloads", "fargate-nat-none-vpc-endpoints", 443) in egress


@pytest.mark.invariant
def test_groups_have_no_inline_rules(synthesized: dict[str, Json]) -> None:
    for stack in synthesized.values():
        for group in resources(stack, "aws_security_group").values():
            assert "ingress" not in group and "egress" not in group
            assert group["revoke_rules_on_delete"] is True


@pytest.mark.invariant
def test_endpoint_rules_do_not_grow_with_workloads(synthesized: dict[str, Json]) -> None:
    """The endpoints admit only the shared workloads group, whatever the number of tasks."""
    for name, stack in synthesized.items():
        groups = {g for g, _, _ in rule_set(stack, "ingress")} if "resource" in stack else set()
        endpoint_groups = {g for g in groups if g.endswith("-vpc-endpoints")}
        if name == "https-shop":  # a fixture with interface endpoints: the check must run
            assert endpoint_groups == {"fargate-https-shop-vpc-endpoints"}, endpoint_groups
        for group in endpoint_groups:
            peers = {(p, port) for g, p, port in rule_set(stack, "ingress") if g == group}
            assert peers == {(group.replace("-vpc-endpoints", "-workloads"), 443)}, name


def test_every_task_carries_its_own_group_and_the_workloads_group(
    synthesized: dict[str, Json],
) -> None:
    for name in (EXAMPLE, "https-shop", "nat-none"):
        stack = synthesized[name]
        names = security_group_names(stack)
        shared = f"fargate-{name}-workloads"
        for service in resources(stack, "aws_ecs_service").values():
            groups = [names[g] for g in service["network_configuration"]["security_groups"]]
            assert groups == [service["name"] + "-tasks", shared], (name, groups)
        for schedule in resources(stack, "aws_scheduler_schedule").values():
            network = schedule["target"]["ecs_parameters"]["network_configuration"]
            assert [names[g] for g in network["security_groups"]][1:] == [shared]
        specs = stack["output"]["run_task_specs"]["value"]
        for job, spec in specs.items():
            assert [names[g] for g in spec["security_groups"]] == [
                f"fargate-{name}-{job}-tasks",
                shared,
            ]


def test_without_endpoints_tasks_carry_only_their_own_group(synthesized: dict[str, Json]) -> None:
    stack = synthesized["no-endpoints"]
    names = security_group_names(stack)
    assert not [n for n in names.values() if n.endswith("-workloads")]
    for service in resources(stack, "aws_ecs_service").values():
        assert len(service["network_configuration"]["security_groups"]) == 1


def test_cognito_alb_reaches_the_idp_on_443_only_when_configured(
    synthesized: dict[str, Json],
) -> None:
    egress = rule_set(synthesized["https-shop"], "egress")
    public = {(p, port) for g, p, port in egress if g == "fargate-https-shop-public-alb"}
    assert ("0.0.0.0/0", 443) in public
    assert {p for p, _ in public} - {"0.0.0.0/0"} == {
        "fargate-https-shop-frontend-tasks",
        "fargate-https-shop-admin-tasks",
    }
    internal = {(p, port) for g, p, port in egress if g == "fargate-https-shop-internal-alb"}
    assert ("0.0.0.0/0", 443) not in internal
    for name, stack in synthesized.items():
        if name != "https-shop" and "resource" in stack:
            for group, peer, _ in rule_set(stack, "egress"):
                assert not (group.endswith("-alb") and peer == "0.0.0.0/0"), (name, group)
