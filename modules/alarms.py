"""CloudWatch alarms for services, load balancers and jobs, and the job-failure rule.

Each alarm is first an `AlarmSpec` (metrics, math, threshold, window): the alarm resource and
the environment's dashboard (modules/dashboard.py) are both drawn from it, so a graph always
shows what its alarm watches. Metric names and dimensions:
- AWS/ApplicationELB: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
- AWS/ECS and ECS/ContainerInsights: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/Container-Insights-metrics.html
- AWS/SQS: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
- ECS task state change events: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html
- Metric filters: the empty pattern matches every log event (the provider allows 0-1024
  characters, hashicorp/terraform-provider-aws internal/service/logs/metric_filter.go).
Names stay within their limits by construction: an EventBridge rule name is at most 64
characters and `<project>-<env>-<job>-failed` is at most 57 (each part is <= 16,
envs/schema/common.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from constructs import Construct

from envs.schema.alarms import AlarmsConfig, JobAlarmsConfig, ServiceAlarm, ServiceAlarmsConfig
from modules.aws import (
    cloudwatch_event_rule,
    cloudwatch_event_target,
    cloudwatch_log_metric_filter,
    cloudwatch_metric_alarm,
)

if TYPE_CHECKING:  # annotations only: the alarms take the constructs they watch and notify
    from modules.alb import LoadBalancer
    from modules.notifications import AlarmTopic

ALB = "AWS/ApplicationELB"
ECS = "AWS/ECS"
INSIGHTS = "ECS/ContainerInsights"
SQS = "AWS/SQS"
JOBS_NAMESPACE = "Fargate/Jobs"
"""Namespace of the per-job log-event metric the missed-run alarm watches."""
GREATER = "GreaterThanThreshold"
GREATER_OR_EQUAL = "GreaterThanOrEqualToThreshold"
LESS = "LessThanThreshold"


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric with its statistic (Sum, Average, Maximum, p95, ...)."""

    namespace: str
    name: str
    dimensions: dict[str, str]
    stat: str


@dataclass(frozen=True)
class AlarmSpec:
    """What an alarm watches and when it fires; the dashboard draws the same thing.

    With one metric and no `expression` the alarm watches the metric directly; otherwise the
    metrics get ids m0, m1, ... and `expression` (CloudWatch metric math) is what is compared.
    """

    key: str
    """Short, stable name: part of the alarm name."""
    title: str
    description: str
    metrics: tuple[Metric, ...]
    threshold: float
    comparison: str
    period_seconds: int
    evaluation_periods: int
    datapoints_to_alarm: int
    expression: str | None = None
    treat_missing_data: str = "notBreaching"
    unit_label: str = ""


class Window(TypedDict):
    """When an alarm fires: M (`datapoints_to_alarm`) of N (`evaluation_periods`) periods."""

    period_seconds: int
    evaluation_periods: int
    datapoints_to_alarm: int


def put_alarm(
    scope: Construct, spec: AlarmSpec, *, name: str, topic_arn: str
) -> cloudwatch_metric_alarm.CloudwatchMetricAlarm:
    """The alarm resource for `spec`, notifying the topic on ALARM and on OK."""
    alarm = cloudwatch_metric_alarm
    common: dict[str, Any] = {
        "alarm_name": name,
        "alarm_description": spec.description,
        "comparison_operator": spec.comparison,
        "threshold": spec.threshold,
        "evaluation_periods": spec.evaluation_periods,
        "datapoints_to_alarm": spec.datapoints_to_alarm,
        "treat_missing_data": spec.treat_missing_data,
        "alarm_actions": [topic_arn],
        "ok_actions": [topic_arn],
    }
    if spec.expression is None and len(spec.metrics) == 1:
        metric = spec.metrics[0]
        percentile = metric.stat.startswith("p")
        return alarm.CloudwatchMetricAlarm(
            scope,
            spec.key,
            namespace=metric.namespace,
            metric_name=metric.name,
            dimensions=metric.dimensions,
            statistic=None if percentile else metric.stat,
            extended_statistic=metric.stat if percentile else None,
            period=spec.period_seconds,
            **common,
        )
    queries = [
        alarm.CloudwatchMetricAlarmMetricQuery(
            id=f"m{index}",
            return_data=False,
            metric=alarm.CloudwatchMetricAlarmMetricQueryMetric(
                namespace=metric.namespace,
                metric_name=metric.name,
                dimensions=metric.dimensions,
                stat=metric.stat,
                period=spec.period_seconds,
            ),
        )
        for index, metric in enumerate(spec.metrics)
    ]
    queries.append(
        alarm.CloudwatchMetricAlarmMetricQuery(
            id="e0", expression=spec.expression, label=spec.title, return_data=True
        )
    )
    return alarm.CloudwatchMetricAlarm(scope, spec.key, metric_query=queries, **common)


def _sum_over(count: int) -> str:
    """Metric math adding m0..m{count-1}, a missing datapoint counting as 0."""
    return " + ".join(f"FILL(m{index}, 0)" for index in range(count))


class ServiceAlarms(Construct):
    """A service's alarms, only on metrics that exist for it.

    Target-group alarms need a load balancer; with a traffic-shifting strategy they watch both
    target groups together (either may be serving). `running_below_desired` needs Container
    Insights. `rollback_names` are the alarms the service's deployment alarms watch.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: ServiceAlarmsConfig,
        *,
        name: str,
        cluster_name: str,
        service_name: str,
        load_balancer_arn_suffix: str | None,
        target_group_arn_suffixes: list[str],
        container_insights: bool,
        topic_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        self.specs: dict[ServiceAlarm, AlarmSpec] = {}
        window: Window = {
            "period_seconds": config.period_seconds,
            "evaluation_periods": config.evaluation_periods,
            "datapoints_to_alarm": config.datapoints_to_alarm,
        }
        ecs_dimensions = {"ClusterName": cluster_name, "ServiceName": service_name}
        self.request_metrics: tuple[Metric, ...] = ()
        if load_balancer_arn_suffix is not None:

            def per_group(metric: str, stat: str) -> tuple[Metric, ...]:
                return tuple(
                    Metric(
                        ALB,
                        metric,
                        {"LoadBalancer": load_balancer_arn_suffix, "TargetGroup": group},
                        stat,
                    )
                    for group in target_group_arn_suffixes
                )

            groups = len(target_group_arn_suffixes)
            errors = per_group("HTTPCode_Target_5XX_Count", "Sum")
            self.request_metrics = per_group("RequestCount", "Sum")
            if config.target_5xx_rate_percent is not None:
                requests = tuple(f"FILL(m{index + groups}, 0)" for index in range(groups))
                total = " + ".join(requests)
                self.specs[ServiceAlarm.TARGET_5XX_RATE] = AlarmSpec(
                    key="target-5xx-rate",
                    title="Target 5xx rate (%)",
                    description=(
                        f"{service_name}: more than {config.target_5xx_rate_percent}% of "
                        f"requests answered 5xx by the tasks (minutes with at least "
                        f"{config.min_requests_for_rate} requests)"
                    ),
                    metrics=errors + self.request_metrics,
                    expression=(
                        f"IF(({total}) >= {config.min_requests_for_rate}, "
                        f"100 * ({_sum_over(groups)}) / ({total}), 0)"
                    ),
                    threshold=config.target_5xx_rate_percent,
                    comparison=GREATER,
                    unit_label="%",
                    **window,
                )
            if config.target_5xx_count_per_minute is not None:
                self.specs[ServiceAlarm.TARGET_5XX_COUNT] = AlarmSpec(
                    key="target-5xx-count",
                    title="Target 5xx per minute",
                    description=(
                        f"{service_name}: tasks answered more than "
                        f"{config.target_5xx_count_per_minute} 5xx per minute"
                    ),
                    metrics=errors,
                    expression=_sum_over(groups) if groups > 1 else None,
                    # The threshold is per minute; scale it to the period.
                    threshold=config.target_5xx_count_per_minute * config.period_seconds / 60,
                    comparison=GREATER,
                    **window,
                )
            if config.latency_threshold_seconds is not None:
                statistic = config.latency_statistic.value
                latency = per_group("TargetResponseTime", statistic)
                self.specs[ServiceAlarm.LATENCY] = AlarmSpec(
                    key=f"latency-{statistic}",
                    title=f"Target response time {statistic} (s)",
                    description=(
                        f"{service_name}: {statistic} target response time above "
                        f"{config.latency_threshold_seconds} s"
                    ),
                    metrics=latency,
                    expression=(
                        "MAX([" + ", ".join(f"FILL(m{i}, 0)" for i in range(groups)) + "])"
                        if groups > 1
                        else None
                    ),
                    threshold=config.latency_threshold_seconds,
                    comparison=GREATER,
                    unit_label="s",
                    **window,
                )
            if config.unhealthy_hosts is not None:
                self.specs[ServiceAlarm.UNHEALTHY_HOSTS] = AlarmSpec(
                    key="unhealthy-hosts",
                    title="Unhealthy targets",
                    description=(
                        f"{service_name}: at least {config.unhealthy_hosts} target(s) fail the "
                        "load balancer health check"
                    ),
                    metrics=per_group("UnHealthyHostCount", "Maximum"),
                    expression=_sum_over(groups) if groups > 1 else None,
                    threshold=config.unhealthy_hosts,
                    comparison=GREATER_OR_EQUAL,
                    **window,
                )
        if config.running_below_desired and container_insights:
            self.specs[ServiceAlarm.RUNNING_BELOW_DESIRED] = AlarmSpec(
                key="running-below-desired",
                title="Desired minus running tasks",
                description=f"{service_name}: fewer tasks running than desired",
                metrics=(
                    Metric(INSIGHTS, "DesiredTaskCount", ecs_dimensions, "Average"),
                    Metric(INSIGHTS, "RunningTaskCount", ecs_dimensions, "Average"),
                ),
                expression="m0 - m1",
                threshold=0,
                comparison=GREATER,
                **window,
            )
        for alarm, metric, percent in (
            (ServiceAlarm.CPU_HIGH, "CPUUtilization", config.cpu_high_percent),
            (ServiceAlarm.MEMORY_HIGH, "MemoryUtilization", config.memory_high_percent),
        ):
            if percent is not None:
                what = "CPU" if alarm is ServiceAlarm.CPU_HIGH else "memory"
                self.specs[alarm] = AlarmSpec(
                    key=alarm.value.replace("_", "-"),
                    title=f"Average {what} (%)",
                    description=f"{service_name}: average {what} above {percent}%",
                    metrics=(Metric(ECS, metric, ecs_dimensions, "Average"),),
                    threshold=percent,
                    comparison=GREATER,
                    unit_label="%",
                    **window,
                )
        self.alarms = {
            alarm: put_alarm(self, spec, name=f"{name}-{spec.key}", topic_arn=topic_arn)
            for alarm, spec in self.specs.items()
        }
        wanted = config.rollback_alarms(load_balanced=load_balancer_arn_suffix is not None)
        self.rollback_names: list[str] = [
            self.alarms[alarm].alarm_name for alarm in wanted if alarm in self.alarms
        ]


class LoadBalancerAlarms(Construct):
    """Errors the ALB itself produces (no healthy target, timeouts) and connections it
    rejected because it reached its connection limit."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: AlarmsConfig,
        *,
        name: str,
        load_balancer: LoadBalancer,
        topic: AlarmTopic,
    ) -> None:
        super().__init__(scope, id_)
        dimensions = {"LoadBalancer": load_balancer.alb.arn_suffix}
        self.specs: list[AlarmSpec] = []
        if config.elb_5xx_per_minute is not None:
            self.specs.append(
                AlarmSpec(
                    key="elb-5xx",
                    title="ALB 5xx per minute",
                    description=(
                        f"{name}: the load balancer answered more than "
                        f"{config.elb_5xx_per_minute} 5xx per minute itself"
                    ),
                    metrics=(Metric(ALB, "HTTPCode_ELB_5XX_Count", dimensions, "Sum"),),
                    threshold=config.elb_5xx_per_minute,
                    comparison=GREATER,
                    period_seconds=60,
                    evaluation_periods=5,
                    datapoints_to_alarm=3,
                )
            )
        if config.rejected_connections_per_minute is not None:
            self.specs.append(
                AlarmSpec(
                    key="rejected-connections",
                    title="ALB rejected connections",
                    description=f"{name}: the load balancer rejected connections",
                    metrics=(Metric(ALB, "RejectedConnectionCount", dimensions, "Sum"),),
                    threshold=config.rejected_connections_per_minute,
                    comparison=GREATER,
                    period_seconds=60,
                    evaluation_periods=5,
                    datapoints_to_alarm=2,
                )
            )
        self.alarms = [
            put_alarm(self, spec, name=f"{name}-{spec.key}", topic_arn=topic.arn)
            for spec in self.specs
        ]


def job_failure_pattern(*, cluster_arn: str, task_family_arn_prefix: str) -> dict[str, Any]:
    """EventBridge pattern: a task of this family on this cluster stopped with a non-zero
    container exit code, or never started (stopCode TaskFailedToStart)."""
    return {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {
            "clusterArn": [cluster_arn],
            "taskDefinitionArn": [{"prefix": task_family_arn_prefix}],
            "lastStatus": ["STOPPED"],
            "$or": [
                {"containers": {"exitCode": [{"anything-but": 0}]}},
                {"stopCode": ["TaskFailedToStart"]},
            ],
        },
    }


class JobAlarms(Construct):
    """A job's failed-run rule, missed-run alarm and dead-letter alarm, all to the topic."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: JobAlarmsConfig,
        *,
        family: str,
        task_family_arn_prefix: str,
        cluster_arn: str,
        log_group_name: str,
        missed_run_window_hours: int | None,
        dead_letter_queue_name: str | None,
        topic_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        self.rule: cloudwatch_event_rule.CloudwatchEventRule | None = None
        self.specs: list[AlarmSpec] = []
        if config.failed_runs:
            self.event_pattern = job_failure_pattern(
                cluster_arn=cluster_arn, task_family_arn_prefix=task_family_arn_prefix
            )
            self.rule = cloudwatch_event_rule.CloudwatchEventRule(
                self,
                "failed-runs",
                name=f"{family}-failed",
                description=f"{family}: a run exited non-zero or failed to start",
                event_pattern=json.dumps(self.event_pattern),
            )
            cloudwatch_event_target.CloudwatchEventTarget(
                self,
                "notify",
                rule=self.rule.name,
                arn=topic_arn,
                input_transformer=cloudwatch_event_target.CloudwatchEventTargetInputTransformer(
                    input_paths={
                        "task": "$.detail.taskArn",
                        "reason": "$.detail.stoppedReason",
                        "code": "$.detail.stopCode",
                    },
                    input_template=json.dumps(
                        f"Job {family} failed: task <task> stopped (<code>): <reason>"
                    ),
                ),
            )
        if missed_run_window_hours is not None:
            metric_name = f"{family}-log-events"
            cloudwatch_log_metric_filter.CloudwatchLogMetricFilter(
                self,
                "log-events",
                name=metric_name,
                log_group_name=log_group_name,
                pattern="",
                metric_transformation=cloudwatch_log_metric_filter.CloudwatchLogMetricFilterMetricTransformation(
                    name=metric_name, namespace=JOBS_NAMESPACE, value="1"
                ),
            )
            self.specs.append(
                AlarmSpec(
                    key="missed-run",
                    title="Log lines per hour",
                    description=(
                        f"{family}: no log line in {missed_run_window_hours} h; the scheduled "
                        "run was missed"
                    ),
                    metrics=(Metric(JOBS_NAMESPACE, metric_name, {}, "Sum"),),
                    threshold=1,
                    comparison=LESS,
                    period_seconds=3600,
                    evaluation_periods=missed_run_window_hours,
                    datapoints_to_alarm=missed_run_window_hours,
                    treat_missing_data="breaching",
                )
            )
        if dead_letter_queue_name is not None and config.dead_letter_messages is not None:
            self.specs.append(
                AlarmSpec(
                    key="dead-letters",
                    title="Dead-letter messages",
                    description=(
                        f"{family}: the schedule's dead-letter queue holds failed invocations"
                    ),
                    metrics=(
                        Metric(
                            SQS,
                            "ApproximateNumberOfMessagesVisible",
                            {"QueueName": dead_letter_queue_name},
                            "Maximum",
                        ),
                    ),
                    threshold=config.dead_letter_messages,
                    comparison=GREATER_OR_EQUAL,
                    period_seconds=300,
                    evaluation_periods=1,
                    datapoints_to_alarm=1,
                )
            )
        self.alarms = [
            put_alarm(self, spec, name=f"{family}-{spec.key}", topic_arn=topic_arn)
            for spec in self.specs
        ]
