"""Issue 12 hardening that shows in the synthesized JSON: default network ACL (EC2.21),
scheduler trust (aws:SourceArn), TLS-only dead-letter queues, WAF IP lists and rule
exclusions, and the container `user`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from envs import ConfigError, load_environments, merge
from envs.schema.alb import ManagedRuleGroup
from tests.example_envs import build_example
from tests.example_envs.dev import OVERRIDES as DEV
from tests.tf import by_path, only, ref, resources
from tests.variants import VARIANTS

Json = dict[str, Any]


def _covers(rule: Json, protocol: str, port: int) -> bool:
    if rule["protocol"] in ("-1", -1, "all"):
        return True
    return rule["protocol"] == protocol and rule["from_port"] <= port <= rule["to_port"]


def _first_match(rules: list[Json], protocol: str, port: int) -> Json:
    """What a network ACL does: the lowest-numbered rule that matches decides."""
    return min((r for r in rules if _covers(r, protocol, port)), key=lambda r: r["rule_no"])


def test_ports_except_covers_every_other_port() -> None:
    # Imported here, not at collection: the module loads the provider (modules/aws.py).
    from modules.network import ports_except

    ranges = ports_except((22, 3389))
    assert ranges == [(0, 21), (23, 3388), (3390, 65535)]
    assert ports_except((0, 65535)) == [(1, 65534)]


def test_default_network_acl_denies_ssh_and_rdp_from_anywhere_on_every_subnet(
    synthesized: dict[str, Json],
) -> None:
    # Imported here, not at collection: the module loads the provider (modules/aws.py).
    from modules.network import ADMIN_PORTS

    for env in load_environments():
        stack = synthesized[env.name]
        vpc, _ = only(stack, "aws_vpc")
        _, acl = only(stack, "aws_default_network_acl")
        assert acl["default_network_acl_id"] == ref("aws_vpc", vpc, "default_network_acl_id")
        subnets = {ref("aws_subnet", name) for name in resources(stack, "aws_subnet")}
        assert set(acl["subnet_ids"]) == subnets
        ingress = acl["ingress"]
        for protocol in ("tcp", "udp"):
            for port in ADMIN_PORTS:
                assert _first_match(ingress, protocol, port)["action"] == "deny"
                # FSBP EC2.21 reads allow entries: none may include an admin port.
                assert not any(
                    r["action"] == "allow" and _covers(r, protocol, port) for r in ingress
                )
            for port in (80, 443, 1024, 3000, 8080, 65535):  # listeners and return traffic
                assert _first_match(ingress, protocol, port)["action"] == "allow"
        assert all(r["cidr_block"] == "0.0.0.0/0" for r in ingress)
        assert acl["egress"] == [
            {
                "rule_no": 100,
                "action": "allow",
                "protocol": "-1",
                "cidr_block": "0.0.0.0/0",
                "from_port": 0,
                "to_port": 0,
            }
        ]


def test_scheduler_trust_names_the_schedule_group(synthesized: dict[str, Json]) -> None:
    checked = 0
    # The user's environments and the fixtures (which schedule jobs, so the check runs).
    for env in (*load_environments(), *VARIANTS.values()):
        stack = synthesized[env.name]
        caller = next(iter(stack["data"]["aws_caller_identity"]))
        account = f"${{data.aws_caller_identity.{caller}.account_id}}"
        schedules = resources(stack, "aws_scheduler_schedule")
        for job in (j for j in env.jobs if j.schedule is not None):
            _, schedule = by_path(
                stack, "aws_scheduler_schedule", f"job-{job.name}/schedule/schedule"
            )
            _, role = by_path(stack, "aws_iam_role", f"job-{job.name}/schedule/role")
            (trust,) = json.loads(role["assume_role_policy"])["Statement"]
            assert trust["Condition"] == {
                "StringEquals": {
                    "aws:SourceAccount": account,
                    "aws:SourceArn": f"arn:aws:scheduler:{env.region}:{account}:"
                    "schedule-group/default",
                }
            }
            assert schedule.get("group_name") in (None, "default")
            checked += 1
        assert len(schedules) == sum(1 for j in env.jobs if j.schedule is not None)
    assert checked, "no environment or fixture schedules a job: the trust went unchecked"


def test_dead_letter_queues_deny_requests_without_tls(synthesized: dict[str, Json]) -> None:
    found = 0
    for env in load_environments():
        stack = synthesized[env.name]
        policies = {p["queue_url"]: p for p in resources(stack, "aws_sqs_queue_policy").values()}
        for name in resources(stack, "aws_sqs_queue"):
            policy = policies.pop(ref("aws_sqs_queue", name, "url"))
            (statement,) = json.loads(policy["policy"])["Statement"]
            assert statement == {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": ref("aws_sqs_queue", name, "arn"),
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
            found += 1
        assert not policies  # no policy for a queue that does not exist
    assert found, "the default environments schedule a job with a dead-letter queue"


def test_waf_runs_the_ip_reputation_and_anonymous_ip_lists_first(
    synthesized: dict[str, Json],
) -> None:
    checked = 0
    for env in (*load_environments(), *VARIANTS.values()):
        if not env.waf.enabled:
            assert not resources(synthesized[env.name], "aws_wafv2_web_acl"), env.name
            continue
        _, acl = by_path(synthesized[env.name], "aws_wafv2_web_acl", "waf/acl")
        by_priority = [r["name"] for r in sorted(acl["rule"], key=lambda r: r["priority"])]
        assert by_priority[:2] == [
            "AWSManagedRulesAmazonIpReputationList",
            "AWSManagedRulesAnonymousIpList",
        ]
        checked += 1
    assert checked, "no environment or fixture enables WAF: the rule order went unchecked"


def test_waf_count_only_rules_override_exactly_the_named_rules(
    synthesized: dict[str, Json],
) -> None:
    _, acl = by_path(synthesized["https-shop"], "aws_wafv2_web_acl", "waf/acl")
    rules = {rule["name"]: rule for rule in acl["rule"]}
    common = rules["AWSManagedRulesCommonRuleSet"]["statement"]["managed_rule_group_statement"]
    assert common["rule_action_override"] == [
        {"name": "SizeRestrictions_BODY", "action_to_use": {"count": {}}}
    ]
    for name, rule in rules.items():
        if (
            name != "AWSManagedRulesCommonRuleSet"
            and "managed_rule_group_statement" in (rule["statement"])
        ):
            assert "rule_action_override" not in rule["statement"]["managed_rule_group_statement"]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"AWSManagedRulesCommonRuleSet": ["Size Restrictions"]}, "are not WAF rule names"),
        ({"AWSManagedRulesCommonRuleSet": ["A", "A"]}, "list each rule once"),
        ({"AWSManagedRulesBogus": ["A"]}, "AWSManagedRulesBogus"),
    ],
)
def test_waf_count_only_rules_are_validated(rules: Json, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        build_example(merge(DEV, {"waf": {"count_only_rules": rules}}), source="envs/dev.py")
    (line,) = error.value.problems
    assert line.startswith("envs/dev.py: waf.count_only_rules"), line
    assert message in line


def test_managed_rule_groups_include_the_ip_lists() -> None:
    assert {ManagedRuleGroup.AMAZON_IP_REPUTATION, ManagedRuleGroup.ANONYMOUS_IP} <= set(
        ManagedRuleGroup
    )


def test_container_user_reaches_the_task_definition(synthesized: dict[str, Json]) -> None:
    stack = synthesized["https-shop"]
    _, task = by_path(stack, "aws_ecs_task_definition", "service-backend/workload/task-definition")
    (container,) = json.loads(task["container_definitions"])
    assert container["user"] == "1000:1000"
    _, other = by_path(
        stack, "aws_ecs_task_definition", "service-frontend/workload/task-definition"
    )
    assert "user" not in json.loads(other["container_definitions"])[0]


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ("root", "runs the container as root"),
        ("0:0", "runs the container as root"),
        ("app user", "is not a container user"),
        ("1000:", "is not a container user"),
    ],
)
def test_container_user_refuses_root_and_malformed_users(user: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        build_example(merge(DEV, {"services": {"backend": {"user": user}}}), source="envs/dev.py")
    (line,) = error.value.problems
    assert line.startswith("envs/dev.py: services.backend.user: "), line
    assert message in line and repr(user) in line


@pytest.mark.parametrize("user", ["1000", "app", "app:app", "1000:1000", "_svc:100"])
def test_container_user_accepts_names_and_ids(user: str) -> None:
    env = build_example(merge(DEV, {"services": {"backend": {"user": user}}}))
    assert next(s for s in env.services if s.name == "backend").user == user


def test_run_task_specs_name_their_environment(synthesized: dict[str, Json]) -> None:
    """What `ops run-task` checks --env against, for every job of every environment."""
    for env in load_environments():
        specs = synthesized[env.name]["output"]["run_task_specs"]["value"]
        assert set(specs) == {job.name for job in env.jobs}
        for spec in specs.values():
            assert spec["environment"] == env.name
            assert spec["assign_public_ip"] == "DISABLED"
