"""The security-group model: traffic flows only along the architecture, nothing else is open."""

from __future__ import annotations

from typing import Any

from tests.tf import resources, rule_set

Json = dict[str, Any]


def test_dev_ingress_is_exactly_the_architecture(dev: Json) -> None:
    assert rule_set(dev, "ingress") == {
        ("fargate-dev-public-alb", "0.0.0.0/0", 80),
        ("fargate-dev-public-alb", "::/0", 80),
        ("fargate-dev-frontend-tasks", "fargate-dev-public-alb", 3000),
        ("fargate-dev-internal-alb", "fargate-dev-frontend-tasks", 80),
        ("fargate-dev-backend-tasks", "fargate-dev-internal-alb", 8080),
        ("fargate-dev-vpc-endpoints", "fargate-dev-frontend-tasks", 443),
        ("fargate-dev-vpc-endpoints", "fargate-dev-backend-tasks", 443),
        # The queue worker has no load balancer: it only calls out.
        ("fargate-dev-vpc-endpoints", "fargate-dev-worker-tasks", 443),
        # Jobs: egress only, so they appear only as callers of the endpoints.
        ("fargate-dev-vpc-endpoints", "fargate-dev-migrate-tasks", 443),
        ("fargate-dev-vpc-endpoints", "fargate-dev-nightly-report-tasks", 443),
    }


def test_dev_egress_is_exactly_the_architecture(dev: Json) -> None:
    assert rule_set(dev, "egress") == {
        ("fargate-dev-public-alb", "fargate-dev-frontend-tasks", 3000),
        ("fargate-dev-internal-alb", "fargate-dev-backend-tasks", 8080),
        ("fargate-dev-frontend-tasks", "fargate-dev-internal-alb", 80),
        ("fargate-dev-frontend-tasks", "fargate-dev-vpc-endpoints", 443),
        ("fargate-dev-frontend-tasks", "prefix-list", 443),
        ("fargate-dev-frontend-tasks", "0.0.0.0/0", 443),
        ("fargate-dev-backend-tasks", "fargate-dev-vpc-endpoints", 443),
        ("fargate-dev-backend-tasks", "prefix-list", 443),
        ("fargate-dev-backend-tasks", "0.0.0.0/0", 443),
        *(
            (f"fargate-dev-{workload}-tasks", peer, 443)
            for workload in ("worker", "migrate", "nightly-report")
            for peer in ("fargate-dev-vpc-endpoints", "prefix-list", "0.0.0.0/0")
        ),
    }


def test_no_world_ingress_except_public_alb_listener_ports(synthesized: dict[str, Json]) -> None:
    for name, stack in synthesized.items():
        for group, peer, port in rule_set(stack, "ingress") if "resource" in stack else ():
            if peer in ("0.0.0.0/0", "::/0"):
                assert group.endswith("-public-alb") and port in (80, 443), (name, group, port)


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
    assert internal == {
        ("fargate-https-shop-internal-alb", "fargate-https-shop-frontend-tasks", 443),
        ("fargate-https-shop-internal-alb", "fargate-https-shop-admin-tasks", 443),
    }
    # The worker has no load balancer: nothing may reach it.
    assert not {r for r in ingress if r[0] == "fargate-https-shop-worker-tasks"}


def test_nat_none_tasks_get_no_internet_egress(synthesized: dict[str, Json]) -> None:
    egress = rule_set(synthesized["nat-none"], "egress")
    assert not {r for r in egress if r[1] == "0.0.0.0/0"}
    assert ("fargate-nat-none-backend-tasks", "fargate-nat-none-vpc-endpoints", 443) in egress


def test_groups_have_no_inline_rules(synthesized: dict[str, Json]) -> None:
    for stack in synthesized.values():
        for group in resources(stack, "aws_security_group").values():
            assert "ingress" not in group and "egress" not in group
            assert group["revoke_rules_on_delete"] is True
