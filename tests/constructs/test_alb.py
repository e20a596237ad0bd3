"""Load balancers: scheme, subnets, target groups, listeners, rules, Cognito, access logs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from envs import load_environments
from tests.example_envs import build_example
from tests.tf import by_path, ref, resources, where
from tests.variants import CERTIFICATE, EXAMPLE, USER_POOL, VARIANTS

Json = dict[str, Any]


def subnet_refs(stack: Json, tier: str) -> list[str]:
    return sorted(
        ref("aws_subnet", name)
        for name, body in resources(stack, "aws_subnet").items()
        if body["tags"]["Tier"] == tier
    )


def alb(stack: Json, exposure: str) -> tuple[str, Json]:
    return by_path(stack, "aws_lb", f"{exposure}-alb/lb")


@pytest.fixture(scope="module")
def dev(synthesized: dict[str, Json]) -> Json:
    """In this module `dev` is the frozen example's dev (tests/variants.py EXAMPLE), where
    exact values are asserted; the user's own dev is covered by the invariant tests."""
    return synthesized[EXAMPLE]


def test_public_alb_is_internet_facing_in_public_subnets(dev: Json) -> None:
    _, public = alb(dev, "public")
    assert public["name"] == "fargate-example-public"
    assert public["internal"] is False
    assert public["load_balancer_type"] == "application"
    assert sorted(public["subnets"]) == subnet_refs(dev, "public")
    assert public["drop_invalid_header_fields"] is True
    sg_name, _ = by_path(dev, "aws_security_group", "public-alb/sg/sg")
    assert public["security_groups"] == [ref("aws_security_group", sg_name)]


def test_internal_alb_is_internal_in_private_subnets(dev: Json) -> None:
    _, internal = alb(dev, "internal")
    assert internal["internal"] is True
    assert sorted(internal["subnets"]) == subnet_refs(dev, "private")
    assert internal["drop_invalid_header_fields"] is True


@pytest.mark.invariant
def test_deletion_protection_as_configured(synthesized: dict[str, Json]) -> None:
    for config in (*load_environments(), VARIANTS[EXAMPLE]):
        for exposure, settings in (
            ("public", config.public_alb),
            ("internal", config.internal_alb),
        ):
            lbs = where(synthesized[config.name], "aws_lb", internal=exposure == "internal")
            for body in lbs.values():
                assert body["enable_deletion_protection"] is settings.deletion_protection


def test_the_example_dev_albs_are_unprotected(dev: Json) -> None:
    for exposure in ("public", "internal"):
        assert alb(dev, exposure)[1]["enable_deletion_protection"] is False


def test_target_groups_are_ip_typed_with_health_checks(dev: Json) -> None:
    _, frontend = by_path(dev, "aws_lb_target_group", "public-alb/tg-frontend")
    assert frontend["target_type"] == "ip"
    assert frontend["port"] == 3000 and frontend["protocol"] == "HTTP"
    assert frontend["deregistration_delay"] == "60"
    assert frontend["health_check"] == {
        "enabled": True,
        "path": "/",
        "matcher": "200-399",
        "interval": 15,
        "timeout": 5,
        "healthy_threshold": 2,
        "unhealthy_threshold": 3,
        "protocol": "HTTP",
        "port": "traffic-port",
    }
    _, backend = by_path(dev, "aws_lb_target_group", "internal-alb/tg-backend")
    assert backend["port"] == 8080 and backend["health_check"]["path"] == "/health"
    assert "stickiness" not in backend


def test_target_groups_are_in_the_network_vpc(synthesized: dict[str, Json]) -> None:
    """Every target group (public, internal, blue/green alternates) takes the VPC of the
    stack's Network, the one its ALB and tasks live in."""
    for stack in synthesized.values():
        if "aws_vpc" not in stack.get("resource", {}):
            continue  # the state-bootstrap stack
        vpc, _ = by_path(stack, "aws_vpc", "network/vpc")
        groups = resources(stack, "aws_lb_target_group").values()
        assert groups or not resources(stack, "aws_lb"), "load balancers without target groups"
        for group in groups:
            assert group["vpc_id"] == ref("aws_vpc", vpc, "id")


def test_http_only_listener_forwards_to_the_default_service(dev: Json) -> None:
    listeners = resources(dev, "aws_lb_listener")
    assert len(listeners) == 2
    public_alb, _ = alb(dev, "public")
    (listener,) = where(
        dev, "aws_lb_listener", load_balancer_arn=ref("aws_lb", public_alb, "arn")
    ).values()
    tg, _ = by_path(dev, "aws_lb_target_group", "public-alb/tg-frontend")
    assert listener["port"] == 80 and listener["protocol"] == "HTTP"
    assert "certificate_arn" not in listener
    assert listener["default_action"] == [
        {"type": "forward", "target_group_arn": ref("aws_lb_target_group", tg, "arn")}
    ]


def test_https_listener_with_tls13_policy_and_http_redirect(synthesized: dict[str, Json]) -> None:
    stack = synthesized["https-shop"]
    for exposure in ("public", "internal"):
        name, _ = alb(stack, exposure)
        listeners = where(stack, "aws_lb_listener", load_balancer_arn=ref("aws_lb", name, "arn"))
        by_port = {body["port"]: body for body in listeners.values()}
        assert sorted(by_port) == [80, 443]
        https = by_port[443]
        assert https["protocol"] == "HTTPS"
        assert https["certificate_arn"] == CERTIFICATE
        assert https["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
        assert by_port[80]["default_action"] == [
            {
                "type": "redirect",
                "redirect": {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"},
            }
        ]


def test_cognito_authenticates_before_every_forward(synthesized: dict[str, Json]) -> None:
    stack = synthesized["https-shop"]
    _, https = by_path(stack, "aws_lb_listener", "public-alb/https")
    _rule_name, rule = by_path(stack, "aws_lb_listener_rule", "public-alb/rule-admin")
    for actions in (https["default_action"], rule["action"]):
        assert [(a["type"], a["order"]) for a in actions] == [
            ("authenticate-cognito", 1),
            ("forward", 2),
        ]
        assert actions[0]["authenticate_cognito"] == {
            "user_pool_arn": USER_POOL,
            "user_pool_client_id": "3abc4defg5hij6klm7nop8qrs",
            "user_pool_domain": "shop-auth",
        }
    # The internal ALB never authenticates with Cognito.
    _, internal = by_path(stack, "aws_lb_listener", "internal-alb/https")
    assert [a["type"] for a in internal["default_action"]] == ["forward"]


def test_path_rule_routes_second_service_on_shared_alb(synthesized: dict[str, Json]) -> None:
    stack = synthesized["https-shop"]
    listener, _ = by_path(stack, "aws_lb_listener", "public-alb/https")
    _, rule = by_path(stack, "aws_lb_listener_rule", "public-alb/rule-admin")
    admin_tg, admin = by_path(stack, "aws_lb_target_group", "public-alb/tg-admin")
    assert rule["listener_arn"] == ref("aws_lb_listener", listener, "arn")
    assert rule["priority"] == 100  # its explicit listener_priority
    assert rule["condition"] == [{"path_pattern": {"values": ["/admin/*"]}}]
    assert rule["action"][-1]["target_group_arn"] == ref("aws_lb_target_group", admin_tg, "arn")
    assert admin["port"] == 3001
    _, frontend = by_path(stack, "aws_lb_target_group", "public-alb/tg-frontend")
    assert frontend["stickiness"] == {"type": "lb_cookie", "enabled": True, "cookie_duration": 3600}


def test_access_logs_bucket_and_elb_delivery_policy(synthesized: dict[str, Json]) -> None:
    stack = synthesized["https-shop"]
    _, public = alb(stack, "public")
    bucket_name, bucket = by_path(stack, "aws_s3_bucket", "public-alb/access-logs/bucket")
    assert public["access_logs"] == {
        "bucket": ref("aws_s3_bucket", bucket_name),
        "enabled": True,
        "prefix": "fargate-https-shop-public",
    }
    assert bucket["bucket_prefix"] == "fargate-https-shop-public-logs"
    _, policy = by_path(stack, "aws_s3_bucket_policy", "public-alb/access-logs/policy")
    delivery, deny = json.loads(policy["policy"])["Statement"]
    elb_account = next(iter(stack["data"]["aws_elb_service_account"]))
    # The stack's one caller-identity lookup (the ALB does not look the account up again).
    (caller,) = stack["data"]["aws_caller_identity"]
    assert delivery["Principal"] == {"AWS": f"${{data.aws_elb_service_account.{elb_account}.arn}}"}
    assert delivery["Action"] == "s3:PutObject"
    assert delivery["Resource"] == (
        ref("aws_s3_bucket", bucket_name, "arn")
        + f"/fargate-https-shop-public/AWSLogs/${{data.aws_caller_identity.{caller}.account_id}}/*"
    )
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    _, sse = by_path(
        stack,
        "aws_s3_bucket_server_side_encryption_configuration",
        "public-alb/access-logs/encryption",
    )
    assert sse["rule"][0]["apply_server_side_encryption_by_default"] == {"sse_algorithm": "AES256"}
    # The example's dev does not log its public ALB.
    assert "access_logs" not in alb(synthesized[EXAMPLE], "public")[1]


def test_outputs_public_url_and_internal_dns(dev: Json) -> None:
    public, _ = alb(dev, "public")
    internal, _ = alb(dev, "internal")
    assert dev["output"]["public_url"]["value"] == f"http://${{aws_lb.{public}.dns_name}}"
    assert dev["output"]["internal_alb_dns_name"]["value"] == ref("aws_lb", internal, "dns_name")


@pytest.mark.invariant
def test_internet_facing_albs_wait_for_the_internet_gateway(synthesized: dict[str, Json]) -> None:
    """CreateLoadBalancer fails with InvalidSubnet before the gateway is attached."""
    for name, stack in synthesized.items():
        for lb_name, body in resources(stack, "aws_lb").items():
            igw = [f"aws_internet_gateway.{n}" for n in resources(stack, "aws_internet_gateway")]
            waits = set(body.get("depends_on", [])) & set(igw)
            if body["internal"]:
                assert not waits, (name, lb_name)
            else:
                assert waits == set(igw) and len(igw) == 1, (name, lb_name)


def test_listener_rule_priorities_come_from_each_service_not_its_position(
    synthesized: dict[str, Json],
) -> None:
    """Every service's production rule carries its own `rule_priority` (explicit or derived
    from its name), so reordering services in a config file never renumbers a rule."""
    from envs import load_environments
    from tests.variants import VARIANTS

    checked = 0
    for env in (*load_environments(), *VARIANTS.values()):
        stack = synthesized[env.name]
        for service in env.services:
            exposure = str(service.exposure)
            suffix = f"{exposure}-alb/rule-{service.name}"
            rules = [
                body
                for body in resources(stack, "aws_lb_listener_rule").values()
                if body["//"]["metadata"]["path"].endswith(suffix)
            ]
            if rules and rules[0]["priority"] != 50000:  # 50000: a shifting default route
                assert rules[0]["priority"] == service.rule_priority, (env.name, service.name)
                checked += 1
    assert checked >= 3


def test_derived_listener_priority_does_not_depend_on_service_order() -> None:
    from envs import merge
    from tests.example_envs.dev import OVERRIDES as DEV

    services = {
        "api": {"exposure": "public", "container_port": 3001, "path_patterns": ["/api/*"]},
        "admin": {"exposure": "public", "container_port": 3002, "path_patterns": ["/admin/*"]},
    }
    forward = build_example(merge(DEV, {"services": services}), source="forward")
    backward = build_example(
        merge(DEV, {"services": dict(reversed(services.items()))}), source="backward"
    )

    def priorities(env: Any) -> dict[str, int]:
        return {s.name: s.rule_priority for s in env.services if s.path_patterns}

    assert priorities(forward) == priorities(backward)
    assert len(set(priorities(forward).values())) == 2
