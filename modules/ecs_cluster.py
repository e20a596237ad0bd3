"""The ECS cluster: Fargate capacity providers, Container Insights, ECS Exec logging."""

from __future__ import annotations

from constructs import Construct

from envs.schema.ecs import ContainerInsights, EcsConfig
from modules.aws import cloudwatch_log_group, ecs_cluster, ecs_cluster_capacity_providers
from modules.kms import LogsKey
from ops.run_task_contract import CapacityShare


class EcsCluster(Construct):
    """A Fargate-only cluster with the environment's default capacity provider strategy.

    ECS Exec sessions are encrypted with the environment's KMS key and logged to their own
    KMS-encrypted log group (`exec_log_group_name`).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: EcsConfig,
        *,
        name: str,
        logs_key: LogsKey,
        service_connect_namespace_arn: str | None = None,
    ) -> None:
        """`service_connect_namespace_arn`: the cluster's default Service Connect namespace."""
        super().__init__(scope, id_)
        self.config = config
        self.exec_log_group = cloudwatch_log_group.CloudwatchLogGroup(
            self,
            "exec-logs",
            name=f"/ecs/{name}/exec",
            retention_in_days=config.log_retention_days,
            kms_key_id=logs_key.arn,
        )
        self.cluster = ecs_cluster.EcsCluster(
            self,
            "cluster",
            name=name,
            setting=[
                ecs_cluster.EcsClusterSetting(
                    name="containerInsights", value=config.container_insights.value
                )
            ],
            configuration=ecs_cluster.EcsClusterConfiguration(
                execute_command_configuration=ecs_cluster.EcsClusterConfigurationExecuteCommandConfiguration(
                    logging="OVERRIDE",
                    # Encrypts the session data channel; exec-enabled task roles may decrypt.
                    kms_key_id=logs_key.arn,
                    log_configuration=ecs_cluster.EcsClusterConfigurationExecuteCommandConfigurationLogConfiguration(
                        cloud_watch_log_group_name=self.exec_log_group.name,
                        cloud_watch_encryption_enabled=True,
                    ),
                )
            ),
            service_connect_defaults=(
                ecs_cluster.EcsClusterServiceConnectDefaults(
                    namespace=service_connect_namespace_arn
                )
                if service_connect_namespace_arn is not None
                else None
            ),
        )
        self.name: str = self.cluster.name
        self.arn: str = self.cluster.arn
        self.exec_log_group_name: str = self.exec_log_group.name
        self.exec_log_group_arn: str = self.exec_log_group.arn
        self.capacity_provider_strategy: list[CapacityShare] = [
            {
                "capacity_provider": share.capacity_provider.value,
                "weight": share.weight,
                "base": share.base,
            }
            for share in config.capacity_provider_strategy
        ]
        """The strategy as keyword arguments, in the one shape every consumer takes: each
        provider block (`Cls(**share)`) and the job run-task contract."""
        self.container_insights: bool = config.container_insights is not ContainerInsights.DISABLED
        """Whether ECS/ContainerInsights metrics (running and desired task counts) exist."""
        self.capacity_providers = ecs_cluster_capacity_providers.EcsClusterCapacityProviders(
            self,
            "capacity-providers",
            cluster_name=self.cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategy=[
                ecs_cluster_capacity_providers.EcsClusterCapacityProvidersDefaultCapacityProviderStrategy(
                    **share
                )
                for share in self.capacity_provider_strategy
            ],
        )
