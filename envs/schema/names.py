"""Every AWS name the platform generates, with AWS's length and character rules for it.

`generated_names(env)` lists each named resource an environment's stack creates, by the same
formulas the constructs use (`EnvironmentConfig.resource_prefix`, `family`, ...). Config
validation checks each name's rule here, once, and checks uniqueness where AWS needs it:
within the environment, and across environments for names that are unique per account (IAM)
or per account and region (log groups, ALBs, task families, ...). The config does not say which
AWS account an environment deploys to, so names are checked as if every environment shared one.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from envs.schema.service import Exposure, ServiceConfig
from envs.schema.service_connect import participants as service_connect_participants
from envs.schema.view import EnvironmentView

BOOTSTRAP_STACK_NAME = "state-bootstrap"
"""The stack that creates the state buckets; no environment may take its name."""


class Scope(enum.StrEnum):
    """Where AWS requires a name to be unique."""

    ACCOUNT = "account"
    """One per AWS account (IAM is global to the account)."""
    REGION = "region"
    """One per account and region."""
    ENVIRONMENT = "environment"
    """One per VPC or cluster: environments never share it."""


@dataclass(frozen=True)
class NameRule:
    """AWS's rule for one kind of name."""

    kind: str
    scope: Scope
    max_length: int
    pattern: re.Pattern[str]
    charset: str
    """The allowed characters, as a message says them."""
    source: str
    """Where the rule comes from (AWS API reference or the provider's validator)."""


IAM_ROLE = NameRule(
    "IAM role",
    Scope.ACCOUNT,
    64,
    re.compile(r"[\w+=,.@-]+"),
    "letters, digits and +=,.@_-",
    # roleNameMaxLen = 64 in internal/service/iam/role.go (terraform-provider-aws)
    "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
)
LOAD_BALANCER = NameRule(
    "load balancer",
    Scope.REGION,
    32,
    re.compile(r"(?!internal-)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"),
    "letters, digits and '-', not starting with 'internal-' nor ending with '-'",
    # validName in internal/service/elbv2/validate.go (terraform-provider-aws)
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
)
TARGET_GROUP = NameRule(
    "target group",
    Scope.REGION,
    32,
    re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"),
    "letters, digits and '-', not starting or ending with '-'",
    # validTargetGroupName in internal/service/elbv2/validate.go (terraform-provider-aws)
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html",
)
LOG_GROUP = NameRule(
    "log group",
    Scope.REGION,
    512,
    re.compile(r"[.\-_/#A-Za-z0-9]+"),
    "letters, digits and ._-/#",
    "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html",
)
TASK_FAMILY = NameRule(
    "task definition family",
    Scope.REGION,
    255,
    re.compile(r"[A-Za-z0-9_-]+"),
    "letters, digits, '-' and '_'",
    "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html",
)
ECS_CLUSTER = NameRule(
    "ECS cluster",
    Scope.REGION,
    255,
    re.compile(r"[A-Za-z0-9_-]+"),
    "letters, digits, '-' and '_'",
    "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html",
)
ECS_SERVICE = NameRule(
    "ECS service",
    Scope.ENVIRONMENT,
    255,
    re.compile(r"[A-Za-z0-9_-]+"),
    "letters, digits, '-' and '_'",
    "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html",
)
SCHEDULE = NameRule(
    "EventBridge schedule",
    Scope.REGION,
    64,
    re.compile(r"[0-9a-zA-Z_.-]+"),
    "letters, digits, '-', '_' and '.'",
    "https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html",
)
CLOUD_MAP_NAMESPACE = NameRule(
    "Cloud Map namespace",
    Scope.REGION,
    1024,
    re.compile(r"[0-9A-Za-z._-]+"),
    "letters, digits, '.', '_' and '-'",
    # validNamespaceName in internal/service/servicediscovery/validate.go (terraform-provider-aws);
    # the namespace's own config check is envs/schema/service_connect.py NAMESPACE_NAME.
    "https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateHttpNamespace.html",
)
QUEUE = NameRule(
    "SQS queue",
    Scope.REGION,
    80,
    re.compile(r"[A-Za-z0-9_-]+"),
    "letters, digits, '-' and '_'",
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html",
)
KMS_ALIAS = NameRule(
    "KMS alias",
    Scope.REGION,
    256,
    re.compile(r"alias/(?!aws/)[A-Za-z0-9/_-]+"),
    "letters, digits, '/', '_' and '-' after 'alias/' (not 'alias/aws/')",
    "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html",
)
ECR_REPOSITORY = NameRule(
    "ECR repository",
    Scope.REGION,
    256,
    re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*"),
    "lowercase letters, digits and ._-/ between them",
    "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html",
)
WEB_ACL = NameRule(
    "WAF web ACL",
    Scope.REGION,
    128,
    re.compile(r"[\w-]+"),
    "letters, digits, '_' and '-'",
    "https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html",
)
LOG_RESOURCE_POLICY = NameRule(
    "CloudWatch Logs resource policy",
    Scope.REGION,
    255,
    re.compile(r"[^\s]+"),
    "no white space",
    "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html",
)
SECURITY_GROUP = NameRule(
    "security group",
    Scope.ENVIRONMENT,
    255,
    re.compile(r"(?!sg-)[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]+"),
    "letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*, not starting with 'sg-'",
    "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html",
)
BUCKET_PREFIX = NameRule(
    "S3 bucket prefix",
    Scope.ENVIRONMENT,
    # 63 minus the 26-character unique suffix: internal/service/s3/bucket.go (bucket_prefix)
    37,
    re.compile(r"[a-z0-9][a-z0-9.-]*"),
    "lowercase letters, digits, '.' and '-'",
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
)
SNS_TOPIC = NameRule(
    "SNS topic",
    Scope.REGION,
    256,
    re.compile(r"[A-Za-z0-9_-]+"),
    "letters, digits, '_' and '-'",
    "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html",
)
EVENT_RULE = NameRule(
    "EventBridge rule",
    Scope.REGION,
    64,
    re.compile(r"[.\-_A-Za-z0-9]+"),
    "letters, digits, '.', '-' and '_'",
    "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html",
)
DASHBOARD = NameRule(
    "CloudWatch dashboard",
    Scope.REGION,
    255,
    re.compile(r"[A-Za-z0-9_-]+"),
    "letters, digits, '-' and '_'",
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
)


@dataclass(frozen=True)
class GeneratedName:
    """One name the stack will give an AWS resource, and who to blame for it."""

    rule: NameRule
    name: str
    what: str
    """The resource, as a message says it: "the log group of job 'migrate'"."""
    field: str
    """The config field that decides the name."""
    fix: str


def generated_names(env: EnvironmentView) -> list[GeneratedName]:
    """Every AWS name `stacks/platform.py` and `modules/*` derive from this config."""
    prefix = env.resource_prefix
    env_fix = "shorten the project or environment name"
    top = "project/name"
    names = [
        GeneratedName(ECS_CLUSTER, prefix, "the ECS cluster", top, env_fix),
        GeneratedName(LOG_GROUP, f"/ecs/{prefix}/exec", "the ECS Exec log group", top, env_fix),
        GeneratedName(KMS_ALIAS, f"alias/{prefix}-logs", "the logs KMS key alias", top, env_fix),
        GeneratedName(SNS_TOPIC, f"{prefix}-alarms", "the alarm topic", top, env_fix),
        GeneratedName(
            KMS_ALIAS, f"alias/{prefix}-alarms", "the alarm topic KMS key alias", top, env_fix
        ),
    ]
    if env.alarms.dashboard:
        names.append(GeneratedName(DASHBOARD, prefix, "the dashboard", top, env_fix))
    if env.network.flow_logs.enabled:
        names += [
            GeneratedName(
                LOG_GROUP, f"/vpc/{prefix}/flow-logs", "the flow logs log group", top, env_fix
            ),
            GeneratedName(
                IAM_ROLE, f"{prefix}-vpc-flow-logs", "the flow logs IAM role", top, env_fix
            ),
        ]
    if env.endpoints.enabled:
        names += [
            GeneratedName(
                SECURITY_GROUP,
                f"{prefix}-vpc-endpoints",
                "the VPC endpoints security group",
                top,
                env_fix,
            ),
            GeneratedName(
                SECURITY_GROUP,
                f"{prefix}-workloads",
                "the shared workloads security group (the endpoints' only source)",
                top,
                env_fix,
            ),
        ]
    for exposure in (Exposure.PUBLIC, Exposure.INTERNAL):
        if not env.services_behind(exposure):
            continue
        alb = env.alb_name(exposure)
        alb_config = env.public_alb if exposure is Exposure.PUBLIC else env.internal_alb
        names += [
            GeneratedName(LOAD_BALANCER, alb, f"the {exposure} ALB", top, env_fix),
            GeneratedName(
                SECURITY_GROUP, f"{alb}-alb", f"the {exposure} ALB security group", top, env_fix
            ),
        ]
        if alb_config.access_logs.enabled:
            names.append(
                GeneratedName(
                    BUCKET_PREFIX, f"{alb}-logs", f"the {exposure} ALB log bucket", top, env_fix
                )
            )
    if env.services_behind(Exposure.PUBLIC) and env.waf.enabled:
        acl = f"{prefix}-public"
        names += [
            GeneratedName(WEB_ACL, acl, "the WAF web ACL", top, env_fix),
            GeneratedName(LOG_GROUP, f"aws-waf-logs-{acl}", "the WAF log group", top, env_fix),
            GeneratedName(
                LOG_RESOURCE_POLICY,
                f"{acl}-waf-log-delivery",
                "the WAF log delivery policy",
                top,
                env_fix,
            ),
        ]
    repositories: dict[str, str] = {}
    for kind, workloads in (("service", env.services), ("job", env.jobs)):
        for workload in workloads:
            where = f"{kind}s.{workload.name}"
            field = f"{where}.name"
            fix = f"rename the {kind} (or shorten the project or environment name)"
            label = f"{kind} {workload.name!r}"
            family = f"{prefix}-{workload.name}"
            names += [
                GeneratedName(TASK_FAMILY, family, f"the task family of {label}", field, fix),
                GeneratedName(
                    LOG_GROUP,
                    f"/ecs/{prefix}/{workload.name}",
                    f"the log group of {label}",
                    field,
                    fix,
                ),
                GeneratedName(
                    IAM_ROLE, f"{family}-execution", f"the execution role of {label}", field, fix
                ),
                GeneratedName(IAM_ROLE, f"{family}-task", f"the task role of {label}", field, fix),
                GeneratedName(
                    SECURITY_GROUP, f"{family}-tasks", f"the security group of {label}", field, fix
                ),
            ]
            if env.image_of(workload).external is None:
                owner = getattr(workload, "same_image_as", None) or workload.name
                repositories.setdefault(owner, field)
            if isinstance(workload, ServiceConfig):
                names.append(
                    GeneratedName(ECS_SERVICE, family, f"the ECS service {label}", field, fix)
                )
                if workload.exposure.behind_alb:
                    names.append(
                        GeneratedName(
                            TARGET_GROUP,
                            env.target_group_name(workload.name),
                            f"the target group of {label}",
                            field,
                            "shorten the service name",
                        )
                    )
                    if workload.deployment.strategy.shifts_traffic:
                        names += [
                            GeneratedName(
                                TARGET_GROUP,
                                env.alternate_target_group_name(workload.name),
                                f"the alternate target group of {label}",
                                field,
                                "shorten the service name",
                            ),
                            GeneratedName(
                                IAM_ROLE,
                                f"{family}-deploy",
                                f"the deployment role of {label}",
                                field,
                                fix,
                            ),
                        ]
            alarms = getattr(workload, "alarms", None)
            if alarms is not None and getattr(alarms, "failed_runs", False):
                names.append(
                    GeneratedName(
                        EVENT_RULE,
                        f"{family}-failed",
                        f"the failed-run rule of {label}",
                        field,
                        fix,
                    )
                )
            schedule = getattr(workload, "schedule", None)
            if schedule is not None:
                names += [
                    GeneratedName(SCHEDULE, family, f"the schedule of {label}", field, fix),
                    GeneratedName(
                        IAM_ROLE,
                        f"{family}-scheduler",
                        f"the scheduler role of {label}",
                        field,
                        fix,
                    ),
                ]
                if schedule.dead_letter_queue:
                    names.append(
                        GeneratedName(
                            QUEUE,
                            f"{family}-schedule-dlq",
                            f"the dead-letter queue of {label}",
                            field,
                            fix,
                        )
                    )
    names += _workload_model_names(env)
    for owner, field in repositories.items():
        names.append(
            GeneratedName(
                ECR_REPOSITORY,
                f"{prefix}/{owner}",
                f"the ECR repository of {owner!r}",
                field,
                "rename it (or shorten the project or environment name)",
            )
        )
    return names


def name_problems(env: EnvironmentView) -> list[str]:
    """Names that break their AWS rule, and names the environment generates twice."""
    problems = []
    seen: dict[tuple[str, str], GeneratedName] = {}
    for generated in generated_names(env):
        rule, name = generated.rule, generated.name
        if len(name) > rule.max_length:
            problems.append(
                f"{generated.field}: {generated.what} would be named {name!r} ({len(name)} "
                f"characters) but AWS allows {rule.max_length}; {generated.fix}"
            )
        elif not rule.pattern.fullmatch(name):
            problems.append(
                f"{generated.field}: {generated.what} would be named {name!r} but AWS allows "
                f"only {rule.charset}; {generated.fix}"
            )
        other = seen.setdefault((rule.kind, name), generated)
        if other is not generated:
            problems.append(
                f"{generated.field}: {generated.what} would be named {name!r}, the name of "
                f"{other.what} too ({rule.kind} names are unique per {rule.scope}); "
                f"{generated.fix}"
            )
    return problems


def share_an_account(first: EnvironmentView, second: EnvironmentView) -> bool:
    """Whether two environments deploy into one AWS account (`account_id` is required)."""
    return first.account_id == second.account_id


def collisions(environments: Sequence[EnvironmentView], origins: Sequence[str]) -> list[str]:
    """Account- and region-wide names two environments of one account would both
    create: one problem per field and pair of environments, reported against the later one."""
    problems = []
    owners: dict[tuple[str, str, str], list[EnvironmentView]] = {}
    clashes: dict[tuple[str, str, str], list[GeneratedName]] = {}
    for env, origin in zip(environments, origins, strict=True):
        if env.name == BOOTSTRAP_STACK_NAME:
            problems.append(
                f"{origin}: name: {env.name!r} is the name of the stack that creates the state "
                "buckets; choose another environment name"
            )
        for generated in generated_names(env):
            scope = generated.rule.scope
            if scope is Scope.ENVIRONMENT:
                continue
            where = env.region if scope is Scope.REGION else ""
            earlier = owners.setdefault((generated.rule.kind, where, generated.name), [])
            first = next((e for e in earlier if share_an_account(e, env)), None)
            if first is not None and first.name != env.name:
                clashes.setdefault((origin, generated.field, first.name), []).append(generated)
            earlier.append(env)
    for (origin, field, first_name), names in clashes.items():
        listed = ", ".join(f"{g.rule.kind} {g.name!r}" for g in names)
        problems.append(
            f"{origin}: {field}: environment {first_name!r} already uses the name of its "
            f"{listed}; AWS needs these unique per account (IAM) or per account and region, "
            f"and the two environments share an account; {names[0].fix}"
        )
    return problems


def _workload_model_names(env: EnvironmentView) -> list[GeneratedName]:
    """Queues, application buckets, the collector's metrics log group and EFS groups."""
    prefix = env.resource_prefix
    names = []
    for service in env.services:
        field = f"services.{service.name}.name"
        fix = "rename the service (or shorten the project or environment name)"
        if service.queue is not None:
            for suffix, what in (("", "queue"), ("-dlq", "dead-letter queue")):
                names.append(
                    GeneratedName(
                        QUEUE,
                        f"{prefix}-{service.name}{suffix}",
                        f"the {what} of service {service.name!r}",
                        field,
                        fix,
                    )
                )
    if env.service_connect is not None:
        names.append(
            GeneratedName(
                CLOUD_MAP_NAMESPACE,
                env.service_connect.namespace_name or prefix,
                "the Service Connect namespace",
                "service_connect.namespace_name",
                "set service_connect.namespace_name to a free name",
            )
        )
    for service in env.services:
        if service.name in service_connect_participants(env):
            names.append(
                GeneratedName(
                    LOG_GROUP,
                    f"/ecs/{prefix}/{service.name}/service-connect",
                    f"the Service Connect proxy log group of service {service.name!r}",
                    f"services.{service.name}.name",
                    "rename it (or shorten the project or environment name)",
                )
            )
    for kind, workload in env.workloads():
        if "otel-collector" in workload.sidecar_presets:
            names.append(
                GeneratedName(
                    LOG_GROUP,
                    f"/ecs/{prefix}/{workload.name}/metrics",
                    f"the metrics log group of {kind[:-1]} {workload.name!r}",
                    f"{kind}.{workload.name}.name",
                    "rename it (or shorten the project or environment name)",
                )
            )
    for bucket in env.buckets:
        names.append(
            GeneratedName(
                BUCKET_PREFIX,
                env.bucket_prefix(bucket),
                f"the application bucket {bucket!r}",
                f"buckets.{bucket}",
                "shorten the bucket name (or the project or environment name)",
            )
        )
    for file_system in env.file_systems:
        names.append(
            GeneratedName(
                SECURITY_GROUP,
                f"{prefix}-{file_system}-efs",
                f"the security group of file system {file_system!r}",
                f"file_systems.{file_system}",
                "rename the file system",
            )
        )
    return names
