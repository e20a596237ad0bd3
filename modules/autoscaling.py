"""Target-tracking autoscaling of an ECS service's desired count."""

from __future__ import annotations

from constructs import Construct

from envs.schema.service import AutoscalingConfig
from modules.aws import (
    appautoscaling_policy,
    appautoscaling_scheduled_action,
    appautoscaling_target,
)


def service_scalable_target(
    scope: Construct, *, cluster_name: str, service_name: str, min_capacity: int, max_capacity: int
) -> appautoscaling_target.AppautoscalingTarget:
    """The Application Auto Scaling target of an ECS service's desired count (construct id
    `target`), for every kind of scaling of that service."""
    return appautoscaling_target.AppautoscalingTarget(
        scope,
        "target",
        service_namespace="ecs",
        resource_id=f"service/{cluster_name}/{service_name}",
        scalable_dimension="ecs:service:DesiredCount",
        min_capacity=min_capacity,
        max_capacity=max_capacity,
    )


class ServiceAutoscaling(Construct):
    """Scalable target plus one target-tracking policy per configured metric: average CPU,
    average memory and (behind an ALB) requests per target; plus one scheduled action per
    configured schedule, which moves the target's min/max capacity at set times."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: AutoscalingConfig,
        *,
        cluster_name: str,
        service_name: str,
        request_count_label: str | None,
    ) -> None:
        super().__init__(scope, id_)
        self.target = service_scalable_target(
            self,
            cluster_name=cluster_name,
            service_name=service_name,
            min_capacity=config.min_capacity,
            max_capacity=config.max_capacity,
        )
        metrics: list[tuple[str, str, int | None, str | None]] = [
            ("cpu", "ECSServiceAverageCPUUtilization", config.cpu_target_percent, None),
            ("memory", "ECSServiceAverageMemoryUtilization", config.memory_target_percent, None),
        ]
        if request_count_label is not None:
            metrics.append(
                (
                    "requests",
                    "ALBRequestCountPerTarget",
                    config.requests_per_target,
                    request_count_label,
                )
            )
        policy = appautoscaling_policy
        for label, metric, target_value, resource_label in metrics:
            if target_value is None:
                continue
            policy.AppautoscalingPolicy(
                self,
                label,
                name=f"{service_name}-{label}",
                policy_type="TargetTrackingScaling",
                service_namespace=self.target.service_namespace,
                resource_id=self.target.resource_id,
                scalable_dimension=self.target.scalable_dimension,
                target_tracking_scaling_policy_configuration=policy.AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                    target_value=target_value,
                    scale_in_cooldown=config.scale_in_cooldown_seconds,
                    scale_out_cooldown=config.scale_out_cooldown_seconds,
                    predefined_metric_specification=policy.AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                        predefined_metric_type=metric,
                        resource_label=resource_label,
                    ),
                ),
            )
        scheduled = appautoscaling_scheduled_action
        for schedule in config.schedules:
            scheduled.AppautoscalingScheduledAction(
                self,
                f"schedule-{schedule.name}",
                name=f"{service_name}-{schedule.name}",
                service_namespace=self.target.service_namespace,
                resource_id=self.target.resource_id,
                scalable_dimension=self.target.scalable_dimension,
                schedule=schedule.expression,
                timezone=schedule.timezone,
                scalable_target_action=scheduled.AppautoscalingScheduledActionScalableTargetAction(
                    min_capacity=str(schedule.min_capacity),
                    max_capacity=str(schedule.max_capacity),
                ),
            )
