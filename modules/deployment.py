"""What ECS's native traffic-shifting deployments need beyond the load balancer's rules: the
strategy block and the IAM role ECS assumes to move listener-rule weights."""

from __future__ import annotations

from constructs import Construct

from envs.schema.deployment import DeploymentConfig, DeploymentStrategy
from modules.aws import ecs_service, iam_role, iam_role_policy_attachment
from modules.iam import service_trust

# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AmazonECSInfrastructureRolePolicyForLoadBalancers.html
LOAD_BALANCER_POLICY_ARN = (
    "arn:aws:iam::aws:policy/service-role/AmazonECSInfrastructureRolePolicyForLoadBalancers"
)


def deployment_configuration(
    config: DeploymentConfig,
) -> ecs_service.EcsServiceDeploymentConfiguration | None:
    """The service's `deployment_configuration`; None for rolling (ECS's default)."""
    strategy = config.strategy
    if not strategy.shifts_traffic:
        return None
    block = ecs_service
    return block.EcsServiceDeploymentConfiguration(
        strategy=strategy.ecs_name,
        # The provider types bake times as nullable-int strings (service.go).
        bake_time_in_minutes=str(config.bake_time_minutes),
        linear_configuration=(
            block.EcsServiceDeploymentConfigurationLinearConfiguration(
                step_percent=config.step_percent,
                step_bake_time_in_minutes=str(config.step_bake_time_minutes),
            )
            if strategy is DeploymentStrategy.LINEAR
            else None
        ),
        canary_configuration=(
            block.EcsServiceDeploymentConfigurationCanaryConfiguration(
                canary_percent=config.canary_percent,
                canary_bake_time_in_minutes=str(config.canary_bake_time_minutes),
            )
            if strategy is DeploymentStrategy.CANARY
            else None
        ),
    )


class LoadBalancerDeploymentRole(Construct):
    """The infrastructure role ECS assumes to shift traffic between a service's target groups
    (AWS managed policy AmazonECSInfrastructureRolePolicyForLoadBalancers), trusted only by
    ECS for this account."""

    def __init__(self, scope: Construct, id_: str, *, name: str, account_id: str) -> None:
        super().__init__(scope, id_)
        trust = service_trust(
            "ecs.amazonaws.com",
            sid="EcsShiftsTraffic",
            conditions={"StringEquals": {"aws:SourceAccount": account_id}},
        )
        self.role = iam_role.IamRole(self, "role", name=name, assume_role_policy=trust)
        iam_role_policy_attachment.IamRolePolicyAttachment(
            self, "policy", role=self.role.name, policy_arn=LOAD_BALANCER_POLICY_ARN
        )
        self.arn: str = self.role.arn
