"""What every ECS workload (service or job) needs: log group, roles, task definition, and a
security group that starts closed."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from constructs import Construct

from envs.schema.common import SecretSource, check_secret_arn
from envs.schema.containers import ContainerHealthCheckConfig
from envs.schema.iam import secret_policy_arn
from envs.schema.workload import WorkloadConfig
from modules.aws import (
    cloudwatch_log_group,
    ecs_task_definition,
    iam_role,
    iam_role_policy,
    iam_role_policy_attachment,
)
from modules.container import TMP_VOLUME, TaskContainers, health_check_definition
from modules.ecs_cluster import EcsCluster
from modules.efs import EfsVolume
from modules.endpoints import Endpoints
from modules.iam import policy_json, service_trust
from modules.kms import LogsKey
from modules.network import Network
from modules.ports import HTTPS
from modules.security_group import SecurityGroup
from ops.release_contract import log_group_name

TASK_EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
ECS_EXEC_ACTIONS = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
# ECS Exec's SSM agent writes its state and logs inside the container; AWS: "The SSM agent
# requires that the container file system is able to be written to ... making the root file
# system read-only ... isn't supported" (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html,
# Considerations). With a read-only root, exec-enabled containers get these paths as writable
# task volumes instead (the workaround AWS's ECS Exec team documents in
# github.com/aws/containers-roadmap/issues/1359 and aws-containers/amazon-ecs-exec-checker#21).
EXEC_WRITABLE_PATHS = {"ssm-agent-state": "/var/lib/amazon", "ssm-agent-logs": "/var/log/amazon"}


@dataclass(frozen=True)
class WorkloadContext:
    """Environment facts every workload needs."""

    prefix: str
    """`<project>-<env>`."""
    region: str
    account_id: str
    network: Network
    cluster: EcsCluster
    endpoints: Endpoints | None
    internet_egress: bool
    """True when the private subnets have a NAT route."""
    log_retention_days: int
    logs_key: LogsKey
    """Customer managed key for log groups and ECS Exec sessions (its ARN and ECS Exec grant)."""


class TaskWorkload(Construct):
    """Log group, execution role, task role, Fargate task definition and security group.

    - The execution role (used by ECS to start the task) has the AWS-managed task execution
      policy plus read access to exactly this workload's secrets (and kms:Decrypt on their
      key when one is configured).
    - The task role (used by the application) has only the configured statements, plus the
      ssmmessages channel actions when ECS Exec is on.
    - The security group has no ingress and, when the environment has NAT and the workload
      allows it, egress HTTPS to the internet. Tasks also carry the endpoints' shared
      `workloads` group (443 to the VPC endpoints and S3's prefix list): `security_group_ids`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: WorkloadConfig,
        *,
        context: WorkloadContext,
        image: str,
        extra_environment: dict[str, str] | None = None,
        command: tuple[str, ...] | None = None,
        container_port: int | None = None,
        container_health_check: ContainerHealthCheckConfig | None = None,
        enable_execute_command: bool = False,
        sidecar_images: Mapping[str, str] | None = None,
        efs_volumes: Sequence[EfsVolume] = (),
        port_mapping: Mapping[str, str] | None = None,
    ) -> None:
        """`port_mapping`: extra keys of the container port's mapping (Service Connect's
        `name` and `appProtocol`)."""
        super().__init__(scope, id_)
        self.config = config
        self.context = context
        self.container_name = config.name
        self.family = f"{context.prefix}-{config.name}"
        self.container_port = container_port
        self.port_mapping = dict(port_mapping or {})
        self.container_health_check = container_health_check

        self.log_group = cloudwatch_log_group.CloudwatchLogGroup(
            self,
            "logs",
            name=log_group_name(context.prefix, config.name),
            retention_in_days=context.log_retention_days,
            kms_key_id=context.logs_key.arn,
        )
        self.log_group_name: str = self.log_group.name
        self.log_stream_prefix = config.name
        self.containers = TaskContainers(
            self,
            "containers",
            config,
            region=context.region,
            prefix=context.prefix,
            log_group=self.log_group,
            log_retention_days=context.log_retention_days,
            logs_key=context.logs_key,
            images=sidecar_images or {},
        )

        self.execution_role = self._role("execution-role", f"{self.family}-execution")
        iam_role_policy_attachment.IamRolePolicyAttachment(
            self,
            "execution-managed-policy",
            role=self.execution_role.name,
            policy_arn=TASK_EXECUTION_POLICY_ARN,
        )
        secret_statements = self._secret_statements()
        if secret_statements:
            iam_role_policy.IamRolePolicy(
                self,
                "execution-secrets",
                role=self.execution_role.id,
                name="read-own-secrets",
                policy=policy_json(secret_statements),
            )

        self.task_role = self._role("task-role", f"{self.family}-task")
        task_statements = [
            {
                "Effect": statement.effect.value,
                "Action": list(statement.actions),
                "Resource": list(statement.resources),
            }
            for statement in config.task_role_statements
        ]
        for index, grant in enumerate(config.resource_grants):
            task_statements += grant.statements(index)
        if enable_execute_command:
            task_statements.append(
                {
                    "Sid": "EcsExecChannels",
                    "Effect": "Allow",
                    "Action": list(ECS_EXEC_ACTIONS),
                    "Resource": "*",
                }
            )
            task_statements.append(
                {
                    "Sid": "EcsExecSessionLogs",
                    "Effect": "Allow",
                    "Action": [
                        "logs:CreateLogStream",
                        "logs:PutLogEvents",
                        "logs:DescribeLogStreams",
                    ],
                    "Resource": f"{context.cluster.exec_log_group_arn}:*",
                }
            )
            task_statements.append(context.logs_key.exec_decrypt_statement())
            task_statements.append(
                {
                    "Sid": "EcsExecDescribeLogGroups",
                    "Effect": "Allow",
                    "Action": "logs:DescribeLogGroups",
                    "Resource": "*",
                }
            )
        task_statements += self.containers.task_statements
        if task_statements:
            iam_role_policy.IamRolePolicy(
                self,
                "task-policy",
                role=self.task_role.id,
                name="application",
                policy=policy_json(task_statements),
            )

        self.security_group = SecurityGroup(
            self,
            "tasks",
            name=f"{self.family}-tasks",
            description=f"{config.name} tasks",
            vpc_id=context.network.vpc_id,
        )
        # Every task also carries the shared group that alone may reach the VPC endpoints.
        self.security_group_ids: list[str] = [self.security_group.id]
        if context.endpoints is not None:
            self.security_group_ids.append(context.endpoints.workloads_security_group.id)
        if context.internet_egress and config.internet_egress:
            self.security_group.allow_to_anywhere(
                HTTPS, description="HTTPS to the internet through NAT"
            )

        environment = {**self.containers.main_environment(), **(extra_environment or {})}
        container = self._container(image, environment, command, enable_execute_command)
        container.setdefault("mountPoints", []).extend(
            {"sourceVolume": v.name, "containerPath": v.container_path, "readOnly": v.read_only}
            for v in efs_volumes
        )
        if not container["mountPoints"]:
            del container["mountPoints"]
        volumes = [
            ecs_task_definition.EcsTaskDefinitionVolume(name=volume)
            for volume in self._writable_paths(enable_execute_command)
        ]
        efs = ecs_task_definition
        volumes += [
            efs.EcsTaskDefinitionVolume(
                name=v.name,
                efs_volume_configuration=efs.EcsTaskDefinitionVolumeEfsVolumeConfiguration(
                    file_system_id=v.file_system_id,
                    transit_encryption="ENABLED",
                    authorization_config=efs.EcsTaskDefinitionVolumeEfsVolumeConfigurationAuthorizationConfig(
                        access_point_id=v.access_point_id, iam="ENABLED"
                    ),
                ),
            )
            for v in efs_volumes
        ]
        self.container_definitions: list[dict[str, Any]] = self.containers.definitions(
            container, writable_paths=self._writable_paths(enable_execute_command)
        )
        """Every container of the task, the main one first (what releases re-register)."""
        self.container_definition: dict[str, Any] = self.container_definitions[0]
        self.volume_names = tuple(self._writable_paths(enable_execute_command))
        self.efs_volumes = tuple(efs_volumes)
        self.task_definition = ecs_task_definition.EcsTaskDefinition(
            self,
            "task-definition",
            family=self.family,
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            cpu=str(config.cpu),
            memory=str(config.memory_mib),
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.task_role.arn,
            runtime_platform=ecs_task_definition.EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX",
                cpu_architecture=config.cpu_architecture.value,
            ),
            volume=volumes or None,
            container_definitions=json.dumps(self.container_definitions),
            ephemeral_storage=(
                ecs_task_definition.EcsTaskDefinitionEphemeralStorage(
                    size_in_gib=config.ephemeral_storage_gib
                )
                if config.ephemeral_storage_gib is not None
                else None
            ),
        )
        self.task_definition_arn: str = self.task_definition.arn

    def _writable_paths(self, exec_enabled: bool) -> dict[str, str]:
        """Task volume name -> writable path in the container (none with a writable root)."""
        if not self.config.readonly_root_filesystem:
            return {}
        return {TMP_VOLUME: "/tmp", **(EXEC_WRITABLE_PATHS if exec_enabled else {})}

    def _role(self, id_: str, name: str) -> iam_role.IamRole:
        """A role only ECS tasks of this account can assume (confused-deputy guarded)."""
        trust = service_trust(
            "ecs-tasks.amazonaws.com",
            conditions={
                "StringEquals": {"aws:SourceAccount": self.context.account_id},
                "ArnLike": {
                    "aws:SourceArn": f"arn:aws:ecs:{self.context.region}:"
                    f"{self.context.account_id}:*"
                },
            },
        )
        return iam_role.IamRole(self, id_, name=name, assume_role_policy=trust)

    def _secret_statements(self) -> list[dict[str, Any]]:
        by_source: dict[SecretSource, list[str]] = {}
        for arn in self.config.all_secrets().values():
            by_source.setdefault(check_secret_arn(arn), []).append(arn)
        statements: list[dict[str, Any]] = []
        if SecretSource.SSM in by_source:
            statements.append(
                {
                    "Sid": "SsmParameters",
                    "Effect": "Allow",
                    "Action": ["ssm:GetParameters"],
                    "Resource": sorted(set(by_source[SecretSource.SSM])),
                }
            )
        if SecretSource.SECRETS_MANAGER in by_source:
            # A valueFrom may select a JSON key (arn:...:secret:name:key::); grant the secret,
            # with '-??????' when it is named without its random suffix.
            secrets = sorted(
                {secret_policy_arn(a) for a in by_source[SecretSource.SECRETS_MANAGER]}
            )
            statements.append(
                {
                    "Sid": "SecretsManagerSecrets",
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue"],
                    "Resource": secrets,
                }
            )
        if self.config.secrets_kms_key_arn:
            statements.append(
                {
                    "Sid": "DecryptSecrets",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt"],
                    "Resource": [self.config.secrets_kms_key_arn],
                }
            )
        return statements

    def _container(
        self,
        image: str,
        extra_environment: dict[str, str],
        command: tuple[str, ...] | None,
        exec_enabled: bool,
    ) -> dict[str, Any]:
        config = self.config
        environment = {**config.environment, **extra_environment}
        container: dict[str, Any] = {
            "name": self.container_name,
            "image": image,
            "essential": True,
            "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
            "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(config.secrets.items())],
            "readonlyRootFilesystem": config.readonly_root_filesystem,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": self.log_group.name,
                    "awslogs-region": self.context.region,
                    "awslogs-stream-prefix": self.log_stream_prefix,
                },
            },
        }
        writable = self._writable_paths(exec_enabled)
        if writable:
            container["mountPoints"] = [
                {"sourceVolume": volume, "containerPath": path, "readOnly": False}
                for volume, path in writable.items()
            ]
        if self.container_port is not None:
            container["portMappings"] = [
                {"containerPort": self.container_port, "protocol": "tcp", **self.port_mapping}
            ]
        if self.container_health_check is not None:
            container["healthCheck"] = health_check_definition(self.container_health_check)
        if config.entrypoint:
            container["entryPoint"] = list(config.entrypoint)
        if config.user is not None:
            container["user"] = config.user
        if command:
            container["command"] = list(command)
        if exec_enabled:
            container["linuxParameters"] = {"initProcessEnabled": True}
        return container
