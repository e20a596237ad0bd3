"""A queue worker's SQS queue and its backlog-per-task scaling."""

from __future__ import annotations

import json
from typing import Any

from constructs import Construct

from envs.schema.queues import DEAD_LETTER_RETENTION_SECONDS, QueueConfig, QueueEncryption
from modules.autoscaling import service_scalable_target
from modules.aws import (
    appautoscaling_policy,
    iam_role_policy,
    sqs_queue,
    sqs_queue_policy,
    sqs_queue_redrive_allow_policy,
)
from modules.iam import policy_json
from modules.service import FargateService
from modules.workload import TaskWorkload

# What a consumer calls on its queue (receive, delete, extend visibility, read attributes).
CONSUME_ACTIONS = (
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
)
SEND_ACTIONS = ("sqs:GetQueueUrl", "sqs:SendMessage")
# With a customer managed key, senders need GenerateDataKey + Decrypt and receivers Decrypt
# (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
KMS_SEND_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
KMS_CONSUME_ACTIONS = ("kms:Decrypt",)


class WorkQueue(Construct):
    """An SQS queue and its dead-letter queue, both encrypted at rest, each with a policy
    denying any request not made over TLS; the queue redrives to the dead-letter queue after
    `max_receive_count` receives, and only this queue may use that dead-letter queue.

    `grant_consume` and `grant_send` give a workload's task role exactly the actions it needs
    on this queue (and its key), nothing else.
    """

    def __init__(self, scope: Construct, id_: str, config: QueueConfig, *, name: str) -> None:
        super().__init__(scope, id_)
        self.config = config
        encryption: dict[str, Any] = (
            {"kms_master_key_id": config.kms_key_arn}
            if config.encryption is QueueEncryption.KMS
            else {"sqs_managed_sse_enabled": True}
        )
        self.dead_letter_queue = sqs_queue.SqsQueue(
            self,
            "dlq",
            name=f"{name}-dlq",
            message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
            **encryption,
        )
        self.queue = sqs_queue.SqsQueue(
            self,
            "queue",
            name=name,
            visibility_timeout_seconds=config.visibility_timeout_seconds,
            message_retention_seconds=config.message_retention_seconds,
            receive_wait_time_seconds=config.receive_wait_time_seconds,
            redrive_policy=json.dumps(
                {
                    "deadLetterTargetArn": self.dead_letter_queue.arn,
                    "maxReceiveCount": config.max_receive_count,
                }
            ),
            **encryption,
        )
        sqs_queue_redrive_allow_policy.SqsQueueRedriveAllowPolicy(
            self,
            "dlq-redrive-allow",
            queue_url=self.dead_letter_queue.url,
            redrive_allow_policy=json.dumps(
                {"redrivePermission": "byQueue", "sourceQueueArns": [self.queue.arn]}
            ),
        )
        for label, queue in (("queue", self.queue), ("dlq", self.dead_letter_queue)):
            sqs_queue_policy.SqsQueuePolicy(
                self,
                f"{label}-tls-only",
                queue_url=queue.url,
                policy=policy_json(
                    [
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "sqs:*",
                            "Resource": queue.arn,
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ]
                ),
            )
        self.name: str = self.queue.name
        self.arn: str = self.queue.arn
        self.url: str = self.queue.url

    def _grant(
        self, workload: TaskWorkload, id_: str, actions: tuple[str, ...], kms: tuple[str, ...]
    ) -> None:
        statements: list[dict[str, Any]] = [
            {"Sid": "Queue", "Effect": "Allow", "Action": list(actions), "Resource": self.arn}
        ]
        if self.config.kms_key_arn is not None:
            statements.append(
                {
                    "Sid": "QueueKey",
                    "Effect": "Allow",
                    "Action": list(kms),
                    "Resource": self.config.kms_key_arn,
                }
            )
        iam_role_policy.IamRolePolicy(
            workload,
            id_,
            role=workload.task_role.id,
            name=id_,
            policy=policy_json(statements),
        )

    def grant_consume(self, workload: TaskWorkload) -> None:
        """Receive, delete and extend messages of this queue (and decrypt them)."""
        self._grant(workload, "queue-consume", CONSUME_ACTIONS, KMS_CONSUME_ACTIONS)

    def grant_send(self, workload: TaskWorkload, *, consumer: str) -> None:
        """Send messages to this queue (and encrypt them)."""
        self._grant(workload, f"queue-send-{consumer}", SEND_ACTIONS, KMS_SEND_ACTIONS)


class QueueScaling(Construct):
    """Target tracking on backlog per task, AWS's recommended metric for queue workers:
    visible messages / running tasks (metric math; see
    https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking-metric-math.html).
    With no task running the divisor is 1, so a backlog starts the first task from zero.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: QueueConfig,
        *,
        queue: WorkQueue,
        service: FargateService,
    ) -> None:
        super().__init__(scope, id_)
        cluster_name, service_name = service.cluster.name, service.name
        scaling = config.scaling
        assert scaling is not None  # only created for a queue with scaling
        self.target = service_scalable_target(
            self,
            cluster_name=cluster_name,
            service_name=service_name,
            min_capacity=scaling.min_capacity,
            max_capacity=scaling.max_capacity,
        )
        p = appautoscaling_policy
        spec = p.AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecification  # noqa: E501
        metric = p.AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetrics  # noqa: E501
        stat = p.AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStat  # noqa: E501
        source = p.AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStatMetric  # noqa: E501
        dimension = p.AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStatMetricDimensions  # noqa: E501
        self.policy = p.AppautoscalingPolicy(
            self,
            "backlog",
            name=f"{service_name}-backlog-per-task",
            policy_type="TargetTrackingScaling",
            service_namespace=self.target.service_namespace,
            resource_id=self.target.resource_id,
            scalable_dimension=self.target.scalable_dimension,
            target_tracking_scaling_policy_configuration=p.AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                target_value=scaling.backlog_per_task,
                scale_in_cooldown=scaling.scale_in_cooldown_seconds,
                scale_out_cooldown=scaling.scale_out_cooldown_seconds,
                customized_metric_specification=spec(
                    metrics=[
                        metric(
                            id="visible",
                            label="Messages waiting",
                            return_data=False,
                            metric_stat=stat(
                                stat="Sum",
                                metric=source(
                                    namespace="AWS/SQS",
                                    metric_name="ApproximateNumberOfMessagesVisible",
                                    dimensions=[dimension(name="QueueName", value=queue.name)],
                                ),
                            ),
                        ),
                        metric(
                            id="running",
                            label="Running tasks",
                            return_data=False,
                            metric_stat=stat(
                                stat="Average",
                                metric=source(
                                    namespace="ECS/ContainerInsights",
                                    metric_name="RunningTaskCount",
                                    dimensions=[
                                        dimension(name="ClusterName", value=cluster_name),
                                        dimension(name="ServiceName", value=service_name),
                                    ],
                                ),
                            ),
                        ),
                        metric(
                            id="backlog",
                            label="Backlog per task",
                            expression="visible / IF(FILL(running, 0) > 0, FILL(running, 0), 1)",
                            return_data=True,
                        ),
                    ]
                ),
            ),
        )
