"""Release parameters of a service and the least-privilege policy of the release process.

Terraform writes the task template (reviewed in a PR, its diff visible in `terraform plan`);
`python -m ops deploy` writes the release record and registers revisions. The contract both
sides share is ops/release_contract.py; README "Releasing" has the ownership table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from envs.schema.iam import RESOURCE_STAR_ACTIONS
from modules.aws import iam_policy, ssm_parameter
from modules.ecr import EcrRepository
from modules.ecs_cluster import EcsCluster
from modules.iam import policy_document
from modules.service import FargateService
from modules.workload import TaskWorkload
from ops.release_contract import (
    IMAGE_PLACEHOLDER,
    SSM_PARAMETER_TIER,
    ReleaseRecord,
    ReleaseTemplate,
    parameter_path,
    release_parameter_name,
    template_parameter_name,
)

# Release actions AWS cannot scope to a resource: they take Resource "*" (their sources are in
# envs/schema/iam.py RESOURCE_STAR_ACTIONS, the one table of such actions). ecs:ListTasks (also in
# that table) is narrowed by the ecs:cluster condition key; ecs:DescribeTasks by task ARN.
UNSCOPED_ACTIONS = (
    "ecs:RegisterTaskDefinition",
    "ecs:DescribeTaskDefinition",
    "elasticloadbalancing:DescribeTargetHealth",
)
if not set(UNSCOPED_ACTIONS) <= RESOURCE_STAR_ACTIONS.keys():
    raise ImportError("modules/release.py: add its unscoped actions to envs/schema/iam.py first")


def task_definition_input(workload: TaskWorkload, image: str) -> dict[str, Any]:
    """The RegisterTaskDefinition input (ECS API names) equal to the workload's Terraform task
    definition, with the container running `image` (tests compare the two field by field)."""
    config = workload.config
    main, *others = workload.container_definitions
    container = {**main, "image": image}
    # Sidecars that run the service's own image (`same_image_as` the service) are released
    # with it: a release swaps every container of that image, never only the main one.
    sharing = {name for name, s in config.sidecars.items() if s.same_image_as == config.name}
    others = [{**c, "image": image} if c["name"] in sharing else c for c in others]
    request: dict[str, Any] = {
        "family": workload.family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": str(config.cpu),
        "memory": str(config.memory_mib),
        "executionRoleArn": workload.execution_role.arn,
        "taskRoleArn": workload.task_role.arn,
        "runtimePlatform": {
            "operatingSystemFamily": "LINUX",
            "cpuArchitecture": config.cpu_architecture.value,
        },
        "containerDefinitions": [container, *others],
    }
    volumes: list[dict[str, Any]] = [{"name": name} for name in workload.volume_names]
    volumes += [
        {
            "name": v.name,
            "efsVolumeConfiguration": {
                "fileSystemId": v.file_system_id,
                "transitEncryption": "ENABLED",
                "authorizationConfig": {"accessPointId": v.access_point_id, "iam": "ENABLED"},
            },
        }
        for v in workload.efs_volumes
    ]
    if volumes:
        request["volumes"] = volumes
    if config.ephemeral_storage_gib is not None:
        request["ephemeralStorage"] = {"sizeInGiB": config.ephemeral_storage_gib}
    return request


class ServiceRelease(Construct):
    """The two SSM parameters of one service: the task template and the release record.

    The template is a String parameter written from config (`insecure_value`, so a plan shows
    its diff). The release record starts as the configured image; Terraform ignores its value
    afterwards, so a release never shows up as drift.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        service: FargateService,
        prefix: str,
        cluster: EcsCluster,
        image: str,
        repository: EcrRepository | None,
    ) -> None:
        super().__init__(scope, id_)
        workload = service.workload
        self.template = ReleaseTemplate(
            cluster=cluster.name,
            service=service.name,
            container_name=workload.container_name,
            repository_url=repository.url if repository is not None else None,
            log_group=workload.log_group_name,
            log_stream_prefix=workload.log_stream_prefix,
            task_definition=task_definition_input(workload, IMAGE_PLACEHOLDER),
        )
        self.template_parameter = ssm_parameter.SsmParameter(
            self,
            "template",
            name=template_parameter_name(prefix, service.config.name),
            description=f"Task template of {service.name} (Terraform-owned; ops deploy renders it)",
            type="String",
            tier=SSM_PARAMETER_TIER,
            insecure_value=self.template.to_json(),
        )
        self.release_parameter = ssm_parameter.SsmParameter(
            self,
            "image",
            name=release_parameter_name(prefix, service.config.name),
            description=f"Released image of {service.name} (written by ops deploy)",
            type="String",
            tier=SSM_PARAMETER_TIER,
            insecure_value=ReleaseRecord(image=image).to_json(),
            lifecycle=TerraformResourceLifecycle(ignore_changes=["insecure_value"]),
        )
        self.service = service
        self.repository = repository


@dataclass(frozen=True)
class PromotionSource:
    """The environment releases are promoted from (`release.promote_from`): `ops promote` and
    the promotion rule read its release history and what its services run."""

    resource_prefix: str
    """`<project>-<source env>`: the source's parameter path and cluster name."""
    region: str
    """The source environment's region (its own config's, not necessarily this stack's)."""
    account_id: str
    """The source environment's account (`ops promote` reads it with the same credentials)."""

    def statements(self) -> list[dict[str, Any]]:
        """Its release parameters (history) and its cluster's services, in its region only;
        each action on the resource type it applies to."""
        return [
            {
                "Sid": "ReadPromotionSource",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameterHistory"],
                "Resource": (
                    f"arn:aws:ssm:{self.region}:{self.account_id}:parameter"
                    f"{parameter_path(self.resource_prefix, '*')}"
                ),
            },
            {
                "Sid": "DescribePromotionSource",
                "Effect": "Allow",
                "Action": ["ecs:DescribeServices"],
                "Resource": (
                    f"arn:aws:ecs:{self.region}:{self.account_id}:service/{self.resource_prefix}/*"
                ),
            },
        ]


class ReleasePolicy(Construct):
    """An IAM policy with exactly what `ops deploy|promote|rollback|status|logs` need.

    Attach it to the CI role an application repository assumes through OIDC (the role and its
    trust policy belong to the organisation's identity setup, not to this stack).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        cluster: EcsCluster,
        region: str,
        account_id: str,
        releases: list[ServiceRelease],
        promotion_source: PromotionSource | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.document = self._document(cluster, region, account_id, releases)
        if promotion_source is not None:
            self.document["Statement"] += promotion_source.statements()
        self.policy = iam_policy.IamPolicy(
            self,
            "policy",
            name=name,
            description="Release images to the environment's ECS services (python -m ops)",
            policy=json.dumps(self.document),
        )
        self.arn: str = self.policy.arn

    @staticmethod
    def _document(
        cluster: EcsCluster, region: str, account_id: str, releases: list[ServiceRelease]
    ) -> dict[str, Any]:
        workloads = [release.service.workload for release in releases]
        repositories = sorted(
            {release.repository.arn for release in releases if release.repository is not None}
        )
        statements: list[dict[str, Any]] = [
            {
                "Sid": "ReadTemplates",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameterHistory"],
                "Resource": [release.template_parameter.arn for release in releases],
            },
            {
                "Sid": "RecordReleases",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameterHistory", "ssm:PutParameter"],
                "Resource": [release.release_parameter.arn for release in releases],
            },
            {
                "Sid": "RegisterRevisions",
                "Effect": "Allow",
                "Action": list(UNSCOPED_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "UpdateServices",
                "Effect": "Allow",
                "Action": ["ecs:DescribeServices", "ecs:UpdateService"],
                "Resource": [release.service.service.id for release in releases],
            },
            {
                "Sid": "ListTasks",
                "Effect": "Allow",
                "Action": ["ecs:ListTasks"],
                "Resource": "*",
                "Condition": {"ArnEquals": {"ecs:cluster": cluster.arn}},
            },
            {
                "Sid": "DescribeTasks",
                "Effect": "Allow",
                "Action": ["ecs:DescribeTasks"],
                "Resource": f"arn:aws:ecs:{region}:{account_id}:task/{cluster.name}/*",
            },
            {
                "Sid": "PassWorkloadRoles",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": [
                    arn
                    for workload in workloads
                    for arn in (workload.execution_role.arn, workload.task_role.arn)
                ],
                "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            },
            {
                "Sid": "ReadLogs",
                "Effect": "Allow",
                "Action": ["logs:FilterLogEvents", "logs:GetLogEvents"],
                "Resource": [f"{workload.log_group.arn}:*" for workload in workloads],
            },
        ]
        if repositories:
            statements.insert(
                2,
                {
                    "Sid": "ResolveImages",
                    "Effect": "Allow",
                    "Action": ["ecr:DescribeImages", "ecr:DescribeImageScanFindings"],
                    "Resource": repositories,
                },
            )
        return policy_document(statements)
