"""Protection layers: the environment's KMS key for logs and AWS WAF on the public ALB."""

from __future__ import annotations

import json
from typing import Any

from tests.tf import by_path, only, ref, resources

Json = dict[str, Any]


def test_every_log_group_is_encrypted_with_the_env_key(synthesized: dict[str, Json]) -> None:
    for env in ("dev", "stg", "prod"):
        stack = synthesized[env]
        key, body = by_path(stack, "aws_kms_key", "logs-key/key")
        assert body["enable_key_rotation"] is True
        groups = resources(stack, "aws_cloudwatch_log_group")
        assert groups and all(
            g["kms_key_id"] == ref("aws_kms_key", key, "arn") for g in groups.values()
        )


def test_logs_key_policy_limits_cloudwatch_to_this_account(dev: Json) -> None:
    _, key = by_path(dev, "aws_kms_key", "logs-key/key")
    statements = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}
    logs = statements["CloudWatchLogsForThisAccount"]
    assert logs["Principal"] == {"Service": "logs.ap-northeast-1.amazonaws.com"}
    assert "kms:*" not in logs["Action"]
    (condition,) = logs["Condition"]["ArnLike"].values()
    assert condition.startswith("arn:aws:logs:ap-northeast-1:${data.aws_caller_identity.")


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
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "rate-limit-per-ip",
    ]
    assert rules["rate-limit-per-ip"]["statement"] == {
        "rate_based_statement": {"limit": 2000, "aggregate_key_type": "IP"}
    }
    assert rules["rate-limit-per-ip"]["action"] == {"block": {}}


def test_waf_logs_redact_credentials(dev: Json) -> None:
    _, logging = only(dev, "aws_wafv2_web_acl_logging_configuration")
    group, body = by_path(dev, "aws_cloudwatch_log_group", "waf/logs")
    assert body["name"] == "aws-waf-logs-fargate-dev-public"
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
