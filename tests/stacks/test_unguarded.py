"""Behaviours the mutation run showed unguarded: each test fails when its behaviour changes.

Invariants run over every synthesized platform stack (the default environments and the
variants, so each property is exercised by at least one stack and checked against that
stack's own config); none is a hard-coded environment list.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from envs import DEFAULT_ENVIRONMENTS, load_environments
from envs.schema.environment import EnvironmentConfig
from tests.tf import policy, ref, resources
from tests.variants import VARIANTS

pytestmark = pytest.mark.invariant

Json = dict[str, Any]
CONFIGS: dict[str, EnvironmentConfig] = {
    **{env.name: env for env in load_environments(DEFAULT_ENVIRONMENTS)},
    **VARIANTS,
}


def _service_key(stack: Json, service: str) -> str:
    (key,) = [k for k in resources(stack, "aws_ecs_service") if k.startswith(f"service-{service}_")]
    return key


def test_waf_managed_rule_groups_block_unless_the_config_counts_a_rule(
    synthesized: dict[str, Json],
) -> None:
    """Every managed rule group enforces its actions (`override_action: none`): a group in
    `count` would log attacks and let them through."""
    seen = 0
    for name in CONFIGS:
        for acl in resources(synthesized[name], "aws_wafv2_web_acl").values():
            for rule in acl["rule"]:
                statement = rule["statement"]
                if "managed_rule_group_statement" in statement:
                    seen += 1
                    assert rule["override_action"] == {"none": {}}, (name, rule["name"])
                    assert "action" not in rule, (name, rule["name"])
                else:  # the rate limit blocks
                    assert rule["action"] == {"block": {}}, (name, rule["name"])
    assert seen, "no stack has a WAF managed rule group"


def test_ecs_exec_task_role_grants_exactly_the_channels_and_its_log_group(
    synthesized: dict[str, Json],
) -> None:
    """The ssmmessages channel actions take only `Resource: "*"` (no resource-level
    permissions); the session-log writes are scoped to the cluster's exec log group."""
    # Imported here, not at collection: the module loads the provider (modules/aws.py).
    from modules.workload import ECS_EXEC_ACTIONS

    seen = 0
    for name in CONFIGS:
        stack = synthesized[name]
        (exec_group,) = [
            k for k in resources(stack, "aws_cloudwatch_log_group") if "exec-logs" in k
        ] or [None]
        for key, body in resources(stack, "aws_iam_role_policy").items():
            statements = {s.get("Sid"): s for s in policy(body["policy"])["Statement"]}
            if "EcsExecChannels" not in statements:
                continue
            seen += 1
            channels = statements["EcsExecChannels"]
            assert set(channels) == {"Sid", "Effect", "Action", "Resource"}, key
            assert (channels["Effect"], channels["Resource"]) == ("Allow", "*"), key
            assert sorted(channels["Action"]) == sorted(ECS_EXEC_ACTIONS), key
            logs = statements["EcsExecSessionLogs"]
            assert exec_group is not None
            assert logs["Resource"] == f"{ref('aws_cloudwatch_log_group', exec_group, 'arn')}:*", (
                key
            )
    assert seen, "no stack enables ECS Exec"


def test_every_identity_policy_statement_names_its_resources(synthesized: dict[str, Json]) -> None:
    """An identity policy statement without `Resource` (or with a misspelt key) is rejected by
    IAM; a wildcard in an ARN's account field would reach other accounts."""
    checked = 0
    for stack_name, stack in synthesized.items():
        for type_ in ("aws_iam_policy", "aws_iam_role_policy"):
            for key, body in resources(stack, type_).items():
                for statement in policy(body["policy"])["Statement"]:
                    checked += 1
                    assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}
                    assert statement.get("Resource"), (stack_name, key, statement)
                    targets = statement["Resource"]
                    for target in targets if isinstance(targets, list) else [targets]:
                        fields = target.split(":")
                        if target != "*" and target.startswith("arn:"):
                            assert "*" not in fields[4], (stack_name, key, target)
    assert checked, "no identity policy statement in any stack: nothing was checked"


def test_each_service_waits_for_the_listener_that_attaches_its_target_group(
    synthesized: dict[str, Json],
) -> None:
    """ECS refuses a target group that no listener or rule uses yet: the service depends on
    the listener (or the listener rule) that forwards to its target group."""
    seen = 0
    for name in CONFIGS:
        stack = synthesized[name]
        attaching: dict[str, set[str]] = {}
        for type_ in ("aws_lb_listener", "aws_lb_listener_rule"):
            for key, body in resources(stack, type_).items():
                for target_group in re.findall(
                    r"aws_lb_target_group\.([\w-]+)\.arn", json.dumps(body)
                ):
                    attaching.setdefault(target_group, set()).add(f"{type_}.{key}")
        for key, service in resources(stack, "aws_ecs_service").items():
            for balancer in service.get("load_balancer", []):
                (target_group,) = re.findall(
                    r"aws_lb_target_group\.([\w-]+)\.arn", balancer["target_group_arn"]
                )
                seen += 1
                assert attaching.get(target_group), (name, key, target_group)
                assert attaching[target_group] & set(service.get("depends_on", [])), (name, key)
    assert seen


def test_scheduled_jobs_run_one_task_per_invocation(synthesized: dict[str, Json]) -> None:
    seen = 0
    for name in CONFIGS:
        for key, schedule in resources(synthesized[name], "aws_scheduler_schedule").items():
            seen += 1
            assert schedule["target"]["ecs_parameters"]["task_count"] == 1, (name, key)
    assert seen


def test_ecr_lifecycle_expires_any_image_beyond_the_count(synthesized: dict[str, Json]) -> None:
    """`tagStatus: any`: untagged and tagged images alike count towards the kept images
    (`tagged` without a prefix list is rejected by ECR; `untagged` would keep every release)."""
    seen = 0
    for name in CONFIGS:
        for key, body in resources(synthesized[name], "aws_ecr_lifecycle_policy").items():
            (rule,) = json.loads(body["policy"])["rules"]
            seen += 1
            assert rule["selection"]["tagStatus"] == "any", (name, key)
            assert rule["selection"]["countType"] == "imageCountMoreThan", (name, key)
            assert rule["action"] == {"type": "expire"}, (name, key)
    assert seen


def test_access_log_buckets_survive_destroy_when_the_balancer_is_protected(
    synthesized: dict[str, Json],
) -> None:
    """A deletion-protected load balancer keeps its access logs (`force_destroy` false);
    an unprotected one lets `terraform destroy` empty its bucket."""
    seen = set()
    for name in CONFIGS:
        stack = synthesized[name]
        buckets = resources(stack, "aws_s3_bucket")
        for key, balancer in resources(stack, "aws_lb").items():
            logs = balancer.get("access_logs")
            if logs:
                (bucket,) = re.findall(r"aws_s3_bucket\.([\w-]+)\.", logs["bucket"])
                protected = balancer["enable_deletion_protection"]
                seen.add(protected)
                assert buckets[bucket]["force_destroy"] is (not protected), (name, key)
    assert seen == {True, False}, "both kinds must be synthesized"


def test_autoscaling_policies_follow_the_config(synthesized: dict[str, Json]) -> None:
    """One target-tracking policy per configured target (a `None` target has none), with the
    configured target value and scale-in/scale-out cooldowns."""
    metrics = {
        "cpu": ("ECSServiceAverageCPUUtilization", "cpu_target_percent"),
        "memory": ("ECSServiceAverageMemoryUtilization", "memory_target_percent"),
        "requests": ("ALBRequestCountPerTarget", "requests_per_target"),
    }
    opted_out = 0
    for name, config in CONFIGS.items():
        stack = synthesized[name]
        policies = resources(stack, "aws_appautoscaling_policy")
        for service in config.services:
            service_name = service.name
            scaling = service.autoscaling
            if scaling is None or not getattr(service, "enabled", True):
                continue
            prefix = "${" + f"aws_ecs_service.{_service_key(stack, service_name)}.name" + "}-"
            mine = {
                p["name"].removeprefix(prefix): p["target_tracking_scaling_policy_configuration"]
                for p in policies.values()
                if p["name"].startswith(prefix)
            }
            wanted = {
                label: getattr(scaling, field)
                for label, (_, field) in metrics.items()
                if getattr(scaling, field) is not None
            }
            opted_out += scaling.memory_target_percent is None
            assert set(mine) == set(wanted), (name, service_name)
            for label, tracking in mine.items():
                assert tracking["target_value"] == wanted[label], (name, service_name, label)
                assert tracking["scale_in_cooldown"] == scaling.scale_in_cooldown_seconds
                assert tracking["scale_out_cooldown"] == scaling.scale_out_cooldown_seconds
                spec = tracking["predefined_metric_specification"]
                assert spec["predefined_metric_type"] == metrics[label][0]
    assert opted_out, "a variant opts out of the memory target"


@pytest.mark.parametrize("env", DEFAULT_ENVIRONMENTS)
def test_every_default_environment_is_checked_here(env: str, synthesized: dict[str, Json]) -> None:
    assert env in synthesized and env in CONFIGS
