"""A long-running Fargate service: workload + ECS service + load balancer + autoscaling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from envs.schema.service import DEPLOYMENT_MAXIMUM_PERCENT, Exposure, ServiceConfig
from modules.alarms import ServiceAlarms
from modules.alb import LoadBalancer
from modules.autoscaling import ServiceAutoscaling
from modules.aws import ecs_service
from modules.deployment import LoadBalancerDeploymentRole, deployment_configuration
from modules.efs import EfsVolume
from modules.notifications import AlarmTopic
from modules.service_connect import APP_PROTOCOL, PORT_NAME, ServiceConnectNamespace
from modules.workload import TaskWorkload, WorkloadContext
from ops.release_contract import log_group_name


class FargateService(Construct):
    """An ECS service in the private subnets, no public IP, behind `load_balancer` if given.

    Its security group admits only the load balancer, on the container port (with Service
    Connect: only its callers' task groups, on that port; stacks/platform.py). Deployments
    roll back automatically when tasks fail to become healthy (circuit breaker), keep 100%
    of capacity during a deploy (max 200%), and with autoscaling Terraform stops managing
    `desired_count` after creation so it never fights the autoscaler.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: ServiceConfig,
        *,
        context: WorkloadContext,
        image: str,
        load_balancer: LoadBalancer | None,
        target_group_name: str,
        alarm_topic: AlarmTopic,
        alternate_target_group_name: str | None = None,
        extra_environment: dict[str, str] | None = None,
        sidecar_images: Mapping[str, str] | None = None,
        efs_volumes: Sequence[EfsVolume] = (),
        service_connect: ServiceConnectNamespace | None = None,
    ) -> None:
        """`service_connect`: the namespace when the service takes part in Service Connect,
        published (exposure `service_connect`) or as a client of the services it calls."""
        super().__init__(scope, id_)
        self.config = config
        publishes = config.exposure is Exposure.SERVICE_CONNECT
        self.workload = TaskWorkload(
            self,
            "workload",
            config,
            context=context,
            image=image,
            extra_environment=extra_environment,
            command=config.command or None,
            container_port=None if config.exposure is Exposure.NONE else config.container_port,
            container_health_check=config.container_health_check,
            enable_execute_command=config.enable_execute_command,
            sidecar_images=sidecar_images,
            efs_volumes=efs_volumes,
            port_mapping=({"name": PORT_NAME, "appProtocol": APP_PROTOCOL} if publishes else None),
        )
        self.security_group = self.workload.security_group
        self.name = f"{context.prefix}-{config.name}"
        self.cluster = context.cluster

        load_balancers: list[ecs_service.EcsServiceLoadBalancer] = []
        depends_on: list[Any] = [context.cluster.capacity_providers]
        self.target_group = None
        self.alternate_target_group = None
        self.deployment_role = None
        shifting = config.deployment.strategy.shifts_traffic and load_balancer is not None
        if load_balancer is not None:
            self.target_group = load_balancer.add_service(
                config,
                target_group_name=target_group_name,
                targets=self.security_group,
                alternate_target_group_name=alternate_target_group_name if shifting else None,
            )
            advanced = None
            if shifting:
                self.alternate_target_group = load_balancer.alternate_target_groups[config.name]
                self.deployment_role = LoadBalancerDeploymentRole(
                    self,
                    "deployment-role",
                    name=f"{self.name}-deploy",
                    account_id=context.account_id,
                )
                advanced = ecs_service.EcsServiceLoadBalancerAdvancedConfiguration(
                    alternate_target_group_arn=self.alternate_target_group.arn,
                    production_listener_rule=load_balancer.production_rules[config.name].arn,
                    test_listener_rule=load_balancer.test_rules[config.name].arn,
                    role_arn=self.deployment_role.arn,
                )
            load_balancers.append(
                ecs_service.EcsServiceLoadBalancer(
                    target_group_arn=self.target_group.arn,
                    container_name=self.workload.container_name,
                    container_port=config.container_port,
                    advanced_configuration=advanced,
                )
            )
            # After the listener or rule that forwards to the target group (CreateService
            # fails on a target group no load balancer uses yet).
            depends_on.append(load_balancer.routes[config.name])
        groups = [g for g in (self.target_group, self.alternate_target_group) if g is not None]
        self.alarms = ServiceAlarms(
            self,
            "alarms",
            config.alarms,
            name=self.name,
            cluster_name=context.cluster.name,
            service_name=self.name,
            load_balancer_arn_suffix=(
                load_balancer.alb.arn_suffix if load_balancer is not None else None
            ),
            target_group_arn_suffixes=[g.arn_suffix for g in groups],
            container_insights=context.cluster.container_insights,
            topic_arn=alarm_topic.arn,
        )

        self.service_connect = (
            service_connect.configuration(
                self,
                config,
                log_group_name=f"{log_group_name(context.prefix, config.name)}/service-connect",
                server=publishes,
            )
            if service_connect is not None
            else None
        )
        self.service = ecs_service.EcsService(
            self,
            "service",
            name=self.name,
            cluster=context.cluster.arn,
            task_definition=self.workload.task_definition_arn,
            desired_count=config.desired_count,
            capacity_provider_strategy=[
                ecs_service.EcsServiceCapacityProviderStrategy(**share)
                for share in context.cluster.capacity_provider_strategy
            ],
            network_configuration=ecs_service.EcsServiceNetworkConfiguration(
                subnets=context.network.private_subnet_ids,
                security_groups=self.workload.security_group_ids,
                assign_public_ip=False,
            ),
            load_balancer=load_balancers or None,
            service_connect_configuration=self.service_connect,
            health_check_grace_period_seconds=(
                config.health_check_grace_period_seconds if load_balancers else None
            ),
            deployment_circuit_breaker=ecs_service.EcsServiceDeploymentCircuitBreaker(
                enable=True, rollback=True
            ),
            alarms=(
                ecs_service.EcsServiceAlarms(
                    alarm_names=self.alarms.rollback_names, enable=True, rollback=True
                )
                if self.alarms.rollback_names
                else None
            ),
            deployment_configuration=deployment_configuration(config.deployment),
            # `terraform apply` returns only once the service is steady (one deployment, all
            # desired tasks running), so the deploy workflow's next environment waits for it.
            wait_for_steady_state=True,
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=DEPLOYMENT_MAXIMUM_PERCENT,
            enable_execute_command=config.enable_execute_command,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            # task_definition belongs to the release process (`ops deploy`, README "Releasing").
            lifecycle=TerraformResourceLifecycle(
                ignore_changes=[
                    "task_definition",
                    *(["desired_count"] if config.ignores_desired_count else []),
                ]
            ),
            depends_on=depends_on,
        )
        if config.autoscaling is not None:
            label = None
            if load_balancer is not None and self.target_group is not None:
                label = f"{load_balancer.alb.arn_suffix}/{self.target_group.arn_suffix}"
            ServiceAutoscaling(
                self,
                "autoscaling",
                config.autoscaling,
                cluster_name=context.cluster.name,
                service_name=self.service.name,
                request_count_label=label if config.autoscaling.requests_per_target else None,
            )
        self.strategy = config.deployment.strategy
