"""Protection layers: the environment's KMS key for logs and AWS WAF on the public ALB."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest

from envs import DEFAULT_ENVIRONMENTS, load_environments
from tests.tf import by_path, only, ref, resources
from tests.variants import EXAMPLE, VARIANTS

WAF_OFF = "no-endpoints"

Json = dict[str, Any]


@pytest.mark.invariant
@pytest.mark.parametrize("env", DEFAULT_ENVIRONMENTS)
def test_every_log_group_is_encrypted_with_the_env_key(
    synthesized: dict[str, Json], env: str
) -> None:
    stack = synthesized[env]
    key, body = by_path(stack, "aws_kms_key", "logs-key/key")
    assert body["enable_key_rotation"] is True
    groups = resources(stack, "aws_cloudwatch_log_group")
    assert groups and all(
        g["kms_key_id"] == ref("aws_kms_key", key, "arn") for g in groups.values()
    )


def test_logs_key_policy_limits_cloudwatch_to_this_environments_log_groups(
    synthesized: dict[str, Json],
) -> None:
    """Every log group of the stack is covered by the key policy's log-group patterns, and the
    patterns name nothing outside `/ecs/<p>/`, `/vpc/<p>/`, `aws-waf-logs-<p>-`."""
    for env in load_environments():
        stack = synthesized[env.name]
        _, key = by_path(stack, "aws_kms_key", "logs-key/key")
        statements = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}
        logs = statements["CloudWatchLogsForThisEnvironment"]
        assert logs["Principal"] == {"Service": f"logs.{env.region}.amazonaws.com"}
        assert not any("*" in action for action in logs["Action"])
        (patterns,) = logs["Condition"]["ArnLike"].values()
        base = f"arn:aws:logs:{env.region}:{env.account_id}:log-group:"
        prefix = env.resource_prefix
        assert sorted(patterns) == sorted(
            f"{base}{p}*" for p in (f"/ecs/{prefix}/", f"/vpc/{prefix}/", f"aws-waf-logs-{prefix}-")
        )
        for group in resources(stack, "aws_cloudwatch_log_group").values():
            arn = base + group["name"]
            assert any(fnmatch.fnmatchcase(arn, p) for p in patterns), (env.name, arn)
        other = base + "/ecs/fargate-other/app"
        assert not any(fnmatch.fnmatchcase(other, p) for p in patterns)


def test_logs_key_is_administered_by_named_roles_not_the_whole_account(
    synthesized: dict[str, Json],
) -> None:
    for env in load_environments():
        _, key = by_path(synthesized[env.name], "aws_kms_key", "logs-key/key")
        statements = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}
        admin = statements["NamedRolesAdministerTheKey"]
        assert admin["Principal"] == {"AWS": list(env.key_admins)}
        assert "kms:PutKeyPolicy" in admin["Action"]
        assert not any("*" in action for action in admin["Action"])
        # The account root appears only for ECS Exec, bound to this env's cluster sessions.
        rooted = [s for s in statements.values() if ":root" in json.dumps(s["Principal"])]
        assert [s["Sid"] for s in rooted] == ["EcsExecSessionsOnThisCluster"]
        (exec_statement,) = rooted
        assert exec_statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert exec_statement["Condition"] == {
            "StringLike": {"kms:EncryptionContext:aws:ssm:TargetId": f"ecs:{env.resource_prefix}_*"}
        }


def test_ecs_exec_decrypt_is_bound_to_the_key_and_the_clusters_sessions(dev: Json) -> None:
    key, _ = by_path(dev, "aws_kms_key", "logs-key/key")
    (cluster,) = resources(dev, "aws_ecs_cluster").values()
    grants = [
        statement
        for policy in resources(dev, "aws_iam_role_policy").values()
        for statement in json.loads(policy["policy"])["Statement"]
        if statement.get("Sid") == "EcsExecSessionKey"
    ]
    assert grants, "dev enables ECS Exec on the backend"
    for grant in grants:
        assert grant["Action"] == "kms:Decrypt"
        assert grant["Resource"] == ref("aws_kms_key", key, "arn")
        assert grant["Condition"] == {
            "StringLike": {"kms:EncryptionContext:aws:ssm:TargetId": f"ecs:{cluster['name']}_*"}
        }


def test_waf_guards_the_public_alb_with_managed_rules_and_rate_limit(dev: Json) -> None:
    acl_name, acl = by_path(dev, "aws_wafv2_web_acl", "waf/acl")
    public, _ = by_path(dev, "aws_lb", "public-alb/lb")
    _, association = only(dev, "aws_wafv2_web_acl_association")
    assert association == {
        **association,
        "resource_arn": ref("aws_lb", public, "arn"),
        "web_acl_arn": ref("aws_wafv2_web_acl", acl_name, "arn"),
    }
    assert acl["scope"] == "REGIONAL"
    assert acl["default_action"] == {"allow": {}}
    rules = {rule["name"]: rule for rule in acl["rule"]}
    assert sorted(rules) == [
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesAnonymousIpList",
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "rate-limit-per-ip",
    ]
    assert rules["rate-limit-per-ip"]["statement"] == {
        "rate_based_statement": {"limit": 2000, "aggregate_key_type": "IP"}
    }
    assert rules["rate-limit-per-ip"]["action"] == {"block": {}}


def test_waf_logs_redact_credentials(synthesized: dict[str, Json]) -> None:
    dev = synthesized[EXAMPLE]
    _, logging = only(dev, "aws_wafv2_web_acl_logging_configuration")
    group, body = by_path(dev, "aws_cloudwatch_log_group", "waf/logs")
    assert body["name"] == "aws-waf-logs-fargate-example-public"
    assert logging["log_destination_configs"] == [ref("aws_cloudwatch_log_group", group, "arn")]
    assert logging["redacted_fields"] == [
        {"single_header": {"name": "authorization"}},
        {"single_header": {"name": "cookie"}},
    ]


def test_internal_alb_has_no_waf(dev: Json) -> None:
    internal, _ = by_path(dev, "aws_lb", "internal-alb/lb")
    assert all(
        a["resource_arn"] != ref("aws_lb", internal, "arn")
        for a in resources(dev, "aws_wafv2_web_acl_association").values()
    )


def test_waf_disabled_removes_the_acl_and_the_public_alb_still_serves(
    synthesized: dict[str, Json],
) -> None:
    """`waf.enabled: false` (the no-endpoints variant): no web ACL, no association, no WAF log
    group, and the public ALB's listener still forwards to the public service."""
    stack = synthesized[WAF_OFF]
    assert VARIANTS[WAF_OFF].waf.enabled is False
    assert not [type_ for type_ in stack["resource"] if type_.startswith("aws_wafv2_")]
    assert not [
        g["name"]
        for g in resources(stack, "aws_cloudwatch_log_group").values()
        if g["name"].startswith("aws-waf-logs-")
    ]
    public, _ = by_path(stack, "aws_lb", "public-alb/lb")
    target_group, _ = by_path(stack, "aws_lb_target_group", "public-alb/tg-frontend")
    (listener,) = [
        body
        for body in resources(stack, "aws_lb_listener").values()
        if body["load_balancer_arn"] == ref("aws_lb", public, "arn")
    ]
    assert listener["port"] == 80
    forwards = json.dumps(listener["default_action"]) + json.dumps(
        [
            rule["action"]
            for rule in resources(stack, "aws_lb_listener_rule").values()
            if "public-alb" in rule["//"]["metadata"]["path"]
        ]
    )
    assert ref("aws_lb_target_group", target_group, "arn") in forwards
    # The same config with WAF on has the ACL on exactly this load balancer (dev).
    dev = synthesized["dev"]
    _, association = only(dev, "aws_wafv2_web_acl_association")
    assert association["resource_arn"] == ref(
        "aws_lb", by_path(dev, "aws_lb", "public-alb/lb")[0], "arn"
    )
