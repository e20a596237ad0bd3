"""Native blue/green, linear and canary deployments, deployment alarms and scheduled scaling
on the `rollouts` variant; rolling everywhere in the default environments."""

from __future__ import annotations

from typing import Any

import pytest

from envs import DEFAULT_ENVIRONMENTS
from envs.schema.deployment import TEST_TRAFFIC_HEADER
from tests.tf import by_path, policy, ref, resources

Json = dict[str, Any]


def arn(stack: Json, type_: str, path: str, attribute: str = "arn") -> str:
    name, _ = by_path(stack, type_, path)
    return ref(type_, name, attribute)


@pytest.mark.parametrize(
    "service,exposure,expected",
    [
        ("frontend", "public", {"strategy": "BLUE_GREEN", "bake_time_in_minutes": "10"}),
        (
            "backend",
            "internal",
            {
                "strategy": "LINEAR",
                "bake_time_in_minutes": "5",
                "linear_configuration": {"step_percent": 20, "step_bake_time_in_minutes": "3"},
            },
        ),
        (
            "api",
            "public",
            {
                "strategy": "CANARY",
                "bake_time_in_minutes": "5",
                "canary_configuration": {"canary_percent": 5, "canary_bake_time_in_minutes": "15"},
            },
        ),
    ],
)
def test_traffic_shifting_service_is_wired_for_ecs(
    synthesized: dict[str, Json], service: str, exposure: str, expected: Json
) -> None:
    stack = synthesized["rollouts"]
    _, ecs = by_path(stack, "aws_ecs_service", f"service-{service}/service")
    assert ecs["deployment_configuration"] == expected
    primary = arn(stack, "aws_lb_target_group", f"{exposure}-alb/tg-{service}")
    alternate = arn(stack, "aws_lb_target_group", f"{exposure}-alb/tg-{service}-alternate")
    production = arn(stack, "aws_lb_listener_rule", f"{exposure}-alb/rule-{service}")
    test = arn(stack, "aws_lb_listener_rule", f"{exposure}-alb/rule-{service}-test")
    role = arn(stack, "aws_iam_role", f"service-{service}/deployment-role/role")
    (balancer,) = ecs["load_balancer"]
    assert balancer["target_group_arn"] == primary
    assert balancer["advanced_configuration"] == {
        "alternate_target_group_arn": alternate,
        "production_listener_rule": production,
        "test_listener_rule": test,
        "role_arn": role,
    }
    # Both rules forward to both groups on this ALB's listener; ECS moves the weights.
    listener = arn(stack, "aws_lb_listener", f"{exposure}-alb/http")
    _, prod_rule = by_path(stack, "aws_lb_listener_rule", f"{exposure}-alb/rule-{service}")
    _, test_rule = by_path(stack, "aws_lb_listener_rule", f"{exposure}-alb/rule-{service}-test")
    for rule in (prod_rule, test_rule):
        assert rule["listener_arn"] == listener
        assert rule["action"] == [
            {
                "type": "forward",
                "forward": {
                    "target_group": [
                        {"arn": primary, "weight": 100},
                        {"arn": alternate, "weight": 0},
                    ]
                },
            }
        ]
        assert rule["lifecycle"] == {"ignore_changes": ["action"]}
    assert test_rule["priority"] < prod_rule["priority"]
    header = [c["http_header"] for c in test_rule["condition"] if "http_header" in c]
    assert header == [{"http_header_name": TEST_TRAFFIC_HEADER, "values": [service]}]
    assert [c for c in test_rule["condition"] if "http_header" not in c] == prod_rule["condition"]
    # The alternate group is the primary's twin: same port, VPC and health check.
    _, primary_group = by_path(stack, "aws_lb_target_group", f"{exposure}-alb/tg-{service}")
    _, alternate_group = by_path(
        stack, "aws_lb_target_group", f"{exposure}-alb/tg-{service}-alternate"
    )
    assert alternate_group["name"] == f"{primary_group['name']}-g"
    for key in ("port", "protocol", "target_type", "vpc_id", "health_check"):
        assert alternate_group[key] == primary_group[key]


def test_default_route_service_gets_a_catch_all_rule_and_a_404_default(
    synthesized: dict[str, Json],
) -> None:
    stack = synthesized["rollouts"]
    _, rule = by_path(stack, "aws_lb_listener_rule", "public-alb/rule-frontend")
    assert rule["condition"] == [{"path_pattern": {"values": ["/*"]}}]
    assert rule["priority"] == 50000
    _, api = by_path(stack, "aws_lb_listener_rule", "public-alb/rule-api")
    assert api["condition"] == [{"path_pattern": {"values": ["/api/*"]}}]
    assert api["priority"] < rule["priority"]
    _, listener = by_path(stack, "aws_lb_listener", "public-alb/http")
    assert [a["type"] for a in listener["default_action"]] == ["fixed-response"]


def test_deployment_role_is_trusted_by_ecs_with_the_managed_policy_only(
    synthesized: dict[str, Json],
) -> None:
    # Imported here, not at collection: the module loads the provider (modules/aws.py).
    from modules.deployment import LOAD_BALANCER_POLICY_ARN

    stack = synthesized["rollouts"]
    name, role = by_path(stack, "aws_iam_role", "service-frontend/deployment-role/role")
    (statement,) = policy(role["assume_role_policy"])["Statement"]
    assert statement["Principal"] == {"Service": "ecs.amazonaws.com"}
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "${data.aws_caller_identity.caller.account_id}"}
    }
    _, attachment = by_path(
        stack, "aws_iam_role_policy_attachment", "service-frontend/deployment-role/policy"
    )
    assert attachment == {**attachment, "role": ref("aws_iam_role", name, "name")}
    assert attachment["policy_arn"] == LOAD_BALANCER_POLICY_ARN
    paths = [b["//"]["metadata"]["path"] for b in resources(stack, "aws_iam_role_policy").values()]
    assert not any("deployment-role" in p for p in paths)


def test_rolling_worker_has_no_traffic_shifting(synthesized: dict[str, Json]) -> None:
    _, ecs = by_path(synthesized["rollouts"], "aws_ecs_service", "service-worker/service")
    assert "deployment_configuration" not in ecs
    assert "load_balancer" not in ecs


@pytest.mark.parametrize("env", DEFAULT_ENVIRONMENTS)
def test_default_environments_deploy_rolling(synthesized: dict[str, Json], env: str) -> None:
    stack = synthesized[env]
    for body in resources(stack, "aws_ecs_service").values():
        assert "deployment_configuration" not in body
        assert all("advanced_configuration" not in lb for lb in body.get("load_balancer", []))
    assert not [
        b for b in resources(stack, "aws_lb_target_group").values() if b["name"].endswith("-g")
    ]


def test_scheduled_scaling_moves_the_services_bounds(synthesized: dict[str, Json]) -> None:
    stack = synthesized["rollouts"]
    target, _ = by_path(stack, "aws_appautoscaling_target", "service-frontend/autoscaling/target")
    actions = {
        body["//"]["metadata"]["path"].rsplit("/", 1)[-1]: body
        for body in resources(stack, "aws_appautoscaling_scheduled_action").values()
    }
    assert sorted(actions) == ["schedule-morning", "schedule-night"]
    night = actions["schedule-night"]
    assert night["resource_id"] == ref("aws_appautoscaling_target", target, "resource_id")
    assert night["scalable_dimension"] == ref(
        "aws_appautoscaling_target", target, "scalable_dimension"
    )
    assert (night["schedule"], night["timezone"]) == ("cron(0 22 * * ? *)", "Asia/Tokyo")
    assert night["scalable_target_action"] == {"min_capacity": "0", "max_capacity": "0"}
    assert actions["schedule-morning"]["scalable_target_action"] == {
        "min_capacity": "1",
        "max_capacity": "2",
    }
