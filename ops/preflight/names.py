"""Rules: resource name formats and uniqueness."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ops.preflight.finding import Finding, When
from ops.preflight.model import Model, literal
from ops.preflight.rules import per_stack, rule


@dataclass(frozen=True)
class NameRule:
    attribute: str
    pattern: str
    max_length: int
    source: str
    min_length: int = 1
    forbidden_prefix: str | None = None


NAME_RULES: dict[str, NameRule] = {
    "aws_lb": NameRule(
        "name",
        r"[0-9A-Za-z-]+",
        32,
        "internal/service/elbv2/validate.go validName",
        forbidden_prefix="internal-",
    ),
    "aws_lb_target_group": NameRule(
        "name", r"[0-9A-Za-z-]+", 32, "internal/service/elbv2/validate.go validTargetGroupName"
    ),
    "aws_iam_role": NameRule(
        "name", r"[\w+=,.@-]+", 64, "internal/service/iam/role.go (roleNameMaxLen = 64)"
    ),
    "aws_iam_role_policy": NameRule(
        "name", r"[\w+=,.@-]+", 128, "internal/service/iam/role_policy.go (rolePolicyNameMaxLen)"
    ),
    "aws_cloudwatch_log_group": NameRule(
        "name", r"[0-9A-Za-z_./#-]+", 512, "internal/service/logs/validate.go validLogGroupName"
    ),
    "aws_ecs_cluster": NameRule(
        "name",
        r"[0-9A-Za-z_-]+",
        255,
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html",
    ),
    "aws_ecs_service": NameRule(
        "name",
        r"[0-9A-Za-z_-]+",
        255,
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html",
    ),
    "aws_ecs_task_definition": NameRule(
        "family",
        r"[0-9A-Za-z_-]+",
        255,
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html",
    ),
    "aws_ecr_repository": NameRule(
        "name",
        r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
        256,
        "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html",
        min_length=2,
    ),
    "aws_scheduler_schedule": NameRule(
        "name", r"[0-9A-Za-z_.-]+", 64, "internal/service/scheduler/schedule.go (name)"
    ),
    "aws_service_discovery_http_namespace": NameRule(
        "name",
        r"[0-9A-Za-z._-]+",
        1024,
        "internal/service/servicediscovery/validate.go validNamespaceName",
    ),
    "aws_sqs_queue": NameRule(
        "name", r"[0-9A-Za-z_-]+", 80, "internal/service/sqs/queue.go (non-FIFO queue name)"
    ),
    "aws_security_group": NameRule(
        "name",
        r"[ -~]+",
        255,
        "internal/service/ec2/vpc_security_group.go (name)",
        forbidden_prefix="sg-",
    ),
    "aws_s3_bucket": NameRule(
        "bucket",
        r"[a-z0-9][a-z0-9.-]*[a-z0-9]",
        63,
        "internal/service/s3/bucket.go validBucketName",
        min_length=3,
    ),
    "aws_wafv2_web_acl": NameRule(
        "name", r"[\w-]+", 128, "internal/service/wafv2/web_acl.go (name)"
    ),
}


@rule(
    "name-format",
    "every name the app sets passes the provider's validator for it",
    "; ".join(f"{t}.{r.attribute}: {r.source}" for t, r in NAME_RULES.items()),
)
@per_stack
def _names(model: Model) -> Iterator[Finding]:
    for type_, spec in NAME_RULES.items():
        for name, body in model.items(type_):
            value = literal(body.get(spec.attribute))
            if value is None:
                continue
            problems = []
            if not spec.min_length <= len(value) <= spec.max_length:
                problems.append(
                    f"is {len(value)} characters ({spec.min_length}-{spec.max_length} allowed)"
                )
            if not re.fullmatch(spec.pattern, value):
                problems.append(f"does not match {spec.pattern}")
            if spec.forbidden_prefix and value.startswith(spec.forbidden_prefix):
                problems.append(f"starts with {spec.forbidden_prefix!r}")
            if problems:
                yield model.finding(
                    "name-format",
                    type_,
                    name,
                    When.PLAN,
                    f"{spec.attribute} {value!r} {' and '.join(problems)} ({spec.source})",
                    f"shorten or rename {spec.attribute}",
                )


# Scope of uniqueness: account-wide (IAM), global (S3), or per region.
UNIQUE_NAMES: dict[str, tuple[str, str]] = {
    "aws_iam_role": ("name", "account"),
    "aws_s3_bucket": ("bucket", "global"),
    "aws_lb": ("name", "region"),
    "aws_lb_target_group": ("name", "region"),
    "aws_cloudwatch_log_group": ("name", "region"),
    "aws_ecs_cluster": ("name", "region"),
    "aws_ecr_repository": ("name", "region"),
    "aws_scheduler_schedule": ("name", "region"),
    "aws_sqs_queue": ("name", "region"),
    "aws_wafv2_web_acl": ("name", "region"),
}


@rule(
    "unique-names",
    "names AWS needs unique are unique across every stack (assumed to share one account)",
    "IAM names are unique per account (https://docs.aws.amazon.com/IAM/latest/UserGuide/"
    "reference_iam-quotas.html#reference_iam-quotas-names), S3 bucket names globally, the "
    "others per account and region (their Create* APIs fail with ...AlreadyExists)",
)
def _unique(models: Sequence[Model]) -> Iterator[Finding]:
    seen: dict[tuple[str, str, str], tuple[Model, str]] = {}
    for model in models:
        for type_, (attribute, scope) in UNIQUE_NAMES.items():
            where = {"account": "", "global": ""}.get(scope, model.region)
            for name, body in model.items(type_):
                value = literal(body.get(attribute))
                if value is None:
                    continue
                key = (type_, where, value)
                if key in seen:
                    other, other_name = seen[key]
                    yield model.finding(
                        "unique-names",
                        type_,
                        name,
                        When.APPLY,
                        f"{attribute} {value!r} is also used by {other.name}: "
                        f"{type_}.{other_name} ({scope}-wide name: the second create fails)",
                        "give one of them another name (e.g. prefix it with the stack's name)",
                    )
                else:
                    seen[key] = (model, name)
