"""IAM rules the platform enforces on every policy it writes or accepts from config.

`RESOURCE_STAR_ACTIONS` is the one table of actions that may have `Resource: "*"`: actions
AWS's Service Authorization Reference lists with no resource type (so no ARN can scope them),
plus the ones the platform itself needs. Everything else must name its resources.
"""

from __future__ import annotations

import re

IAM_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")
"""`service:Action` with no wildcard (`*` or `?`) anywhere."""

RESOURCE_STAR_ACTIONS: dict[str, str] = {
    # action -> where AWS says it supports no resource-level permissions
    "cloudwatch:GetMetricData": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html",
    "cloudwatch:ListMetrics": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html",
    "cloudwatch:PutMetricData": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html",
    "ecs:DescribeTaskDefinition": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html",
    "ecs:ListTasks": "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security_iam_id-based-policy-examples.html",
    "ecs:RegisterTaskDefinition": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html",
    "elasticloadbalancing:DescribeTargetHealth": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html",
    "ecr:GetAuthorizationToken": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html",
    "kms:GenerateRandom": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html",
    "logs:DescribeLogGroups": "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html",
    "s3:ListAllMyBuckets": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html",
    "secretsmanager:GetRandomPassword": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html",
    "secretsmanager:ListSecrets": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html",
    "ssm:DescribeParameters": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html",
    "ssmmessages:CreateControlChannel": "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html",
    "ssmmessages:CreateDataChannel": "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html",
    "ssmmessages:OpenControlChannel": "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html",
    "ssmmessages:OpenDataChannel": "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html",
    "sts:GetCallerIdentity": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html",
    "xray:GetSamplingRules": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html",
    "xray:GetSamplingStatisticSummaries": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html",
    "xray:GetSamplingTargets": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html",
    "xray:PutTelemetryRecords": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html",
    "xray:PutTraceSegments": "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html",
}  # fmt: skip

NEGATED_KEYS = ("NotAction", "NotResource", "not_actions", "not_resources", "NotPrincipal")

# Secrets Manager appends '-' and 6 random characters to a secret's name in its ARN. A policy
# that names the secret without them must end in '-??????' to match it:
# https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-policies.html
SECRET_RANDOM_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")


def action_problems(actions: tuple[str, ...], resources: tuple[str, ...]) -> list[str]:
    """Why a statement's actions and resources break least privilege (empty: they do not)."""
    problems = []
    for action in actions:
        if not IAM_ACTION.fullmatch(action):
            problems.append(
                f"action {action!r} is not allowed; name specific actions such as "
                "'s3:GetObject' (no '*' or '?' wildcards anywhere in an action)"
            )
    if "*" in resources:
        unscoped = [a for a in actions if a not in RESOURCE_STAR_ACTIONS]
        if unscoped:
            problems.append(
                f"resources '*' is only allowed for actions AWS cannot scope to a resource "
                f"(envs/schema/iam.py RESOURCE_STAR_ACTIONS); name the ARNs for {unscoped}"
            )
    return problems


def secret_policy_arn(arn: str) -> str:
    """The ARN an IAM policy needs for a Secrets Manager secret given by full or partial ARN
    (a `valueFrom` may add `:json-key:version-stage:version-id`, which is dropped)."""
    secret = ":".join(arn.split(":")[:7])
    name = secret.split(":secret:", 1)[1]
    return secret if SECRET_RANDOM_SUFFIX.search(name) else f"{secret}-??????"
