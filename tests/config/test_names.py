"""Every AWS name the stacks create is one `envs.schema.names` knows, follows AWS's rule for its
kind and is unique where AWS needs it; jobs that borrow an image run on its architecture."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from envs import (
    DEFAULT_ENVIRONMENTS,
    EnvironmentConfig,
    load_environments,
    merge,
)
from envs.schema.crosschecks import shared_quota_problems
from envs.schema.names import (
    BUCKET_PREFIX,
    CLOUD_MAP_NAMESPACE,
    DASHBOARD,
    ECR_REPOSITORY,
    ECS_CLUSTER,
    ECS_SERVICE,
    EVENT_RULE,
    IAM_ROLE,
    KMS_ALIAS,
    LOAD_BALANCER,
    LOG_GROUP,
    LOG_RESOURCE_POLICY,
    QUEUE,
    SCHEDULE,
    SECURITY_GROUP,
    SNS_TOPIC,
    TARGET_GROUP,
    TASK_FAMILY,
    WEB_ACL,
    NameRule,
    Scope,
    collisions,
    generated_names,
    name_problems,
)
from envs.schema.workload import CpuArchitecture
from tests.example_envs import build_example
from tests.example_envs.dev import OVERRIDES as DEV
from tests.tf import Json, ref, resources
from tests.variants import VARIANTS

# Resource type -> (the argument that holds its name, the rule envs.schema.names applies to it).
NAMED: dict[str, tuple[str, NameRule]] = {
    "aws_iam_role": ("name", IAM_ROLE),
    "aws_lb": ("name", LOAD_BALANCER),
    "aws_lb_target_group": ("name", TARGET_GROUP),
    "aws_cloudwatch_log_group": ("name", LOG_GROUP),
    "aws_ecs_task_definition": ("family", TASK_FAMILY),
    "aws_ecs_cluster": ("name", ECS_CLUSTER),
    "aws_ecs_service": ("name", ECS_SERVICE),
    "aws_scheduler_schedule": ("name", SCHEDULE),
    "aws_sqs_queue": ("name", QUEUE),
    "aws_service_discovery_http_namespace": ("name", CLOUD_MAP_NAMESPACE),
    "aws_kms_alias": ("name", KMS_ALIAS),
    "aws_ecr_repository": ("name", ECR_REPOSITORY),
    "aws_wafv2_web_acl": ("name", WEB_ACL),
    "aws_cloudwatch_log_resource_policy": ("policy_name", LOG_RESOURCE_POLICY),
    "aws_security_group": ("name", SECURITY_GROUP),
    "aws_s3_bucket": ("bucket_prefix", BUCKET_PREFIX),
    "aws_sns_topic": ("name", SNS_TOPIC),
    "aws_cloudwatch_event_rule": ("name", EVENT_RULE),
    "aws_cloudwatch_dashboard": ("dashboard_name", DASHBOARD),
}
# Default quota of security groups per network interface (VPC quotas, adjustable to 16):
# https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html
SECURITY_GROUPS_PER_ENI = 5


def environments() -> dict[str, EnvironmentConfig]:
    return {**{env.name: env for env in load_environments()}, **VARIANTS}


def synthesized_names(stack: Json) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for type_, (argument, rule) in NAMED.items():
        for body in resources(stack, type_).values():
            if body.get(argument) is not None:
                found[(rule.kind, body[argument])] += 1
    return found


@pytest.mark.invariant
@pytest.mark.parametrize("name", [*DEFAULT_ENVIRONMENTS, *VARIANTS])
def test_generated_names_are_exactly_the_names_the_stack_creates(
    synthesized: dict[str, Json], name: str
) -> None:
    env = environments()[name]
    expected = Counter((g.rule.kind, g.name) for g in generated_names(env))
    assert synthesized_names(synthesized[name]) == expected


@pytest.mark.invariant
def test_every_generated_name_follows_its_rule_and_is_unique_across_envs() -> None:
    envs = list(load_environments(DEFAULT_ENVIRONMENTS))
    for env in envs:
        assert name_problems(env) == []
        for generated in generated_names(env):
            assert len(generated.name) <= generated.rule.max_length
            assert generated.rule.pattern.fullmatch(generated.name)
    assert collisions(envs, [f"envs/{env.name}.py" for env in envs]) == []
    wide = Counter(
        (g.rule.kind, env.region if g.rule.scope is Scope.REGION else "", g.name)
        for env in envs
        for g in generated_names(env)
        if g.rule.scope is not Scope.ENVIRONMENT
    )
    assert [key for key, count in wide.items() if count > 1] == []


def test_a_name_two_envs_would_share_is_reported_once_against_the_later_env() -> None:
    dev = build_example(DEV, source="envs/dev.py")
    nightly = build_example(
        merge(
            DEV,
            {
                "name": "dev-nightly",
                "network": {"vpc_cidr": "10.9.0.0/24"},
                "jobs": {
                    "report": {"command": ["report"], "schedule": {"expression": "rate(1 day)"}}
                },
            },
        ),
        source="envs/dev-nightly.py",
    )
    problems = collisions([dev, nightly], ["envs/dev.py", "envs/dev-nightly.py"])
    assert len(problems) == 1
    assert problems[0].startswith("envs/dev-nightly.py: jobs.report.name: environment 'dev'")
    for kind, name in (
        ("IAM role", "fargate-dev-nightly-report-execution"),
        ("IAM role", "fargate-dev-nightly-report-scheduler"),
        ("EventBridge schedule", "fargate-dev-nightly-report"),
    ):
        assert f"{kind} {name!r}" in problems[0]


def _security_group_lists(stack: Json) -> list[tuple[str, list[Any]]]:
    found = [
        (f"aws_ecs_service.{name}", body["network_configuration"]["security_groups"])
        for name, body in resources(stack, "aws_ecs_service").items()
    ]
    for name, body in resources(stack, "aws_scheduler_schedule").items():
        network = body["target"]["ecs_parameters"]["network_configuration"]
        found.append((f"aws_scheduler_schedule.{name}", network["security_groups"]))
    return found


@pytest.mark.invariant
@pytest.mark.parametrize("name", [*DEFAULT_ENVIRONMENTS, *VARIANTS])
def test_every_task_interface_stays_within_the_security_groups_per_eni_quota(
    synthesized: dict[str, Json], name: str
) -> None:
    lists = _security_group_lists(synthesized[name])
    assert lists, "every environment runs at least one task"
    for address, groups in lists:
        assert 1 <= len(groups) <= SECURITY_GROUPS_PER_ENI, address


def test_job_borrowing_an_arm64_image_runs_on_arm64(synthesized: dict[str, Json]) -> None:
    env = VARIANTS["https-shop"]
    report = next(j for j in env.jobs if j.name == "admin-report")
    assert report.cpu_architecture is CpuArchitecture.ARM64
    stack = synthesized["https-shop"]
    definitions = {
        body["family"]: body for body in resources(stack, "aws_ecs_task_definition").values()
    }
    job, admin = (
        definitions["fargate-https-shop-admin-report"],
        definitions["fargate-https-shop-admin"],
    )
    assert job["runtime_platform"]["cpu_architecture"] == "ARM64"
    assert "cpu_architecture" in admin["runtime_platform"]
    assert admin["runtime_platform"]["cpu_architecture"] == "ARM64"
    repository = next(
        name
        for name, body in resources(stack, "aws_ecr_repository").items()
        if body["name"] == "fargate-https-shop/admin"
    )
    image = ref("aws_ecr_repository", repository, "repository_url")
    for definition in (job, admin):
        assert image in definition["container_definitions"]


def test_environments_in_different_accounts_may_reuse_names_and_eips() -> None:
    def nightly(account_id: str) -> EnvironmentConfig:
        return build_example(
            merge(
                DEV,
                {
                    "name": "dev-nightly",
                    "account_id": account_id,
                    "role_arn": f"arn:aws:iam::{account_id}:role/deploy",
                    "network": {"vpc_cidr": "10.9.0.0/24", "nat_mode": "per_az"},
                    "jobs": {"report": {"command": ["report"]}},
                },
            ),
            source="envs/dev-nightly.py",
        )

    def problems(first: EnvironmentConfig, second: EnvironmentConfig) -> list[str]:
        origins = ["envs/dev.py", "envs/dev-nightly.py"]
        quotas = shared_quota_problems([first, second], origins)
        return collisions([first, second], origins) + quotas

    own = build_example(
        merge(
            DEV,
            {"account_id": "111111111111", "role_arn": "arn:aws:iam::111111111111:role/deploy"},
        ),
        source="envs/dev.py",
    )
    assert problems(own, nightly("222222222222")) == []
    shared = problems(own, nightly("111111111111"))
    assert [line.split(": ")[1] for line in shared] == ["jobs.report.name"]
    busy = build_example(
        merge(DEV, {"quotas": {"elastic_ips_per_region": 2}}), source="envs/dev.py"
    )
    over = shared_quota_problems(
        [busy, nightly(busy.account_id).model_copy(update={"quotas": busy.quotas})],
        ["envs/dev.py", "envs/dev-nightly.py"],
    )
    assert len(over) == 1
    assert over[0].startswith("envs/dev-nightly.py: network.nat_mode: NAT gateways in ")
    assert "need 3 Elastic IPs (dev 1, dev-nightly 2)" in over[0]
