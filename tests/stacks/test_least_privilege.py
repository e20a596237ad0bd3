"""Least privilege over every policy document any stack synthesizes (all environments,
variants and the bootstrap), and the task-role statement rules that guard the config."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from envs import ConfigError, merge
from envs.schema.iam import RESOURCE_STAR_ACTIONS, secret_policy_arn
from tests.example_envs import build_example
from tests.example_envs.dev import OVERRIDES as DEV
from tests.tf import by_path
from tests.variants import SM_SECRET_BY_NAME

Json = dict[str, Any]
POLICY_ATTRIBUTES = ("policy", "policy_document", "assume_role_policy")
# In a key policy "Resource": "*" means "this key" and is the only form KMS accepts:
# https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html
KEY_POLICY_TYPES = ("aws_kms_key",)
NOT_IAM_DOCUMENTS = ("aws_ecr_lifecycle_policy",)  # image expiry rules, not permissions


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def every_statement(synthesized: dict[str, Json]) -> Iterator[tuple[str, str, Json]]:
    """(where, resource type, statement) for every policy document of every stack."""
    for stack_name, stack in synthesized.items():
        for type_, by_name in stack.get("resource", {}).items():
            for name, body in by_name.items():
                for attribute in POLICY_ATTRIBUTES:
                    if isinstance(body.get(attribute), str) and body[attribute].startswith("{"):
                        document = json.loads(body[attribute])
                        if type_ in NOT_IAM_DOCUMENTS:
                            continue
                        for statement in _as_list(document["Statement"]):
                            yield f"{stack_name}:{type_}.{name}.{attribute}", type_, statement


@pytest.mark.invariant
def test_every_policy_is_scanned(synthesized: dict[str, Json]) -> None:
    kinds = {type_ for _, type_, _ in every_statement(synthesized)}
    assert {
        "aws_iam_role",
        "aws_iam_role_policy",
        "aws_kms_key",
        "aws_s3_bucket_policy",
        "aws_sqs_queue_policy",
        "aws_vpc_endpoint",
        "aws_cloudwatch_log_resource_policy",
    } <= kinds


@pytest.mark.invariant
def test_no_allow_statement_has_a_wildcard_action_or_negation(
    synthesized: dict[str, Json],
) -> None:
    for where, _, statement in every_statement(synthesized):
        assert not {"NotAction", "NotResource", "NotPrincipal"} & set(statement), where
        if statement["Effect"] != "Allow":
            continue  # a Deny over s3:* / sqs:* is the guard, not a grant
        for action in _as_list(statement["Action"]):
            assert "*" not in action and "?" not in action, (where, action)


@pytest.mark.invariant
def test_resource_star_only_for_actions_aws_cannot_scope(synthesized: dict[str, Json]) -> None:
    seen_star = False
    for where, type_, statement in every_statement(synthesized):
        if statement["Effect"] != "Allow" or "*" not in _as_list(statement.get("Resource")):
            continue
        if type_ in KEY_POLICY_TYPES:
            continue
        seen_star = True
        unscoped = set(_as_list(statement["Action"])) - set(RESOURCE_STAR_ACTIONS)
        assert not unscoped, (where, sorted(unscoped))
    assert seen_star, "dev's ECS Exec grants use Resource '*' (ssmmessages)"


def test_resource_star_table_cites_its_source() -> None:
    for action, source in RESOURCE_STAR_ACTIONS.items():
        assert source.startswith("https://docs.aws.amazon.com/"), action


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ({"actions": ["s3:**"], "resources": ["arn:aws:s3:::b/*"]}, "action 's3:**'"),
        ({"actions": ["iam:Pass*"], "resources": ["arn:aws:iam::1:role/r"]}, "'iam:Pass*'"),
        ({"actions": ["kms:*crypt*"], "resources": ["arn:aws:kms:x"]}, "'kms:*crypt*'"),
        ({"actions": ["sts:Assume*"], "resources": ["arn:aws:iam::1:role/r"]}, "'sts:Assume*'"),
        ({"actions": ["s3:Get?bject"], "resources": ["arn:aws:s3:::b/*"]}, "'s3:Get?bject'"),
        ({"actions": ["*"], "resources": ["arn:aws:s3:::b/*"]}, "action '*'"),
        ({"actions": ["s3:GetObject"], "resources": ["*"]}, "name the ARNs for ['s3:GetObject']"),
        (
            {"actions": ["s3:GetObject"], "resources": ["*"], "NotAction": ["iam:CreateUser"]},
            "['NotAction'] are not supported",
        ),
        (
            {"actions": ["s3:GetObject"], "NotResource": ["arn:aws:s3:::b/*"], "resources": []},
            "['NotResource'] are not supported",
        ),
    ],
)
def test_task_role_statements_refuse_bypasses(statement: Json, message: str) -> None:
    overrides = {"services": {"backend": {"task_role_statements": [statement]}}}
    with pytest.raises(ConfigError) as error:
        build_example(merge(DEV, overrides), source="envs/dev.py")
    (line,) = error.value.problems
    assert line.startswith("envs/dev.py: services.backend.task_role_statements.0"), line
    assert message in line, line


def test_task_role_statements_accept_resource_star_for_unscopable_actions() -> None:
    statement = {
        "actions": ["cloudwatch:PutMetricData", "xray:PutTraceSegments"],
        "resources": ["*"],
    }
    env = build_example(
        merge(DEV, {"services": {"backend": {"task_role_statements": [statement]}}})
    )
    backend = next(s for s in env.services if s.name == "backend")
    assert backend.task_role_statements[0].resources == ("*",)


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (
            "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:shop/db",
            "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:shop/db-??????",
        ),
        (
            "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:shop/api-key-AbC123",
            "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:shop/api-key-AbC123",
        ),
        (
            "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:shop/db:password::",
            "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:shop/db-??????",
        ),
    ],
)
def test_secret_policy_arn_matches_the_random_suffix(arn: str, expected: str) -> None:
    assert secret_policy_arn(arn) == expected


def test_execution_role_grants_name_only_secrets_with_the_suffix(
    synthesized: dict[str, Json],
) -> None:
    stack = synthesized["https-shop"]
    _, policy = by_path(stack, "aws_iam_role_policy", "service-worker/workload/execution-secrets")
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    assert statements["SecretsManagerSecrets"]["Resource"] == [
        "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:shop/worker-token-??????"
    ]
    (_, task), *_ = [
        (n, b)
        for n, b in stack["resource"]["aws_ecs_task_definition"].items()
        if b["family"] == "fargate-https-shop-worker"
    ]
    (container,) = json.loads(task["container_definitions"])
    assert container["secrets"] == [
        {
            "name": "WORKER_TOKEN",
            "valueFrom": SM_SECRET_BY_NAME,
        }
    ]
