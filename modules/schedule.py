"""EventBridge Scheduler schedule that runs a job's task on the cluster."""

from __future__ import annotations

from constructs import Construct

from envs.schema.job import ScheduleConfig
from modules.aws import iam_role, iam_role_policy, scheduler_schedule, sqs_queue, sqs_queue_policy
from modules.iam import deny_insecure_transport, policy_json, service_trust
from modules.workload import TaskWorkload

sched = scheduler_schedule


class JobSchedule(Construct):
    """A schedule whose target is ECS RunTask with the job's network configuration.

    Its role may only `ecs:RunTask` task definitions of the job's family on this cluster and
    `iam:PassRole` the job's execution and task roles (plus `sqs:SendMessage` to its own
    dead-letter queue when one is configured).
    """

    def __init__(
        self, scope: Construct, id_: str, config: ScheduleConfig, *, workload: TaskWorkload
    ) -> None:
        super().__init__(scope, id_)
        context = workload.context
        name = workload.family
        self.dead_letter_queue = (
            sqs_queue.SqsQueue(
                self,
                "dlq",
                name=f"{name}-schedule-dlq",
                sqs_managed_sse_enabled=True,
                message_retention_seconds=14 * 24 * 3600,
            )
            if config.dead_letter_queue
            else None
        )
        if self.dead_letter_queue is not None:
            sqs_queue_policy.SqsQueuePolicy(
                self,
                "dlq-policy",
                queue_url=self.dead_letter_queue.url,
                policy=policy_json([deny_insecure_transport("sqs:*", self.dead_letter_queue.arn)]),
            )
        # Scheduler assumes the role as the schedule's group (schedules without a group live in
        # `default`); that group's ARN is the aws:SourceArn it presents:
        # https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html
        schedule_group_arn = (
            f"arn:aws:scheduler:{context.region}:{context.account_id}:schedule-group/default"
        )
        task_family_arn = (
            f"arn:aws:ecs:{context.region}:{context.account_id}:task-definition/{name}:*"
        )
        statements = [
            {
                "Sid": "RunJobTask",
                "Effect": "Allow",
                "Action": "ecs:RunTask",
                "Resource": task_family_arn,
                "Condition": {"ArnEquals": {"ecs:cluster": context.cluster.arn}},
            },
            {
                "Sid": "PassJobRoles",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": [workload.execution_role.arn, workload.task_role.arn],
                "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            },
        ]
        if self.dead_letter_queue is not None:
            statements.append(
                {
                    "Sid": "DeadLetters",
                    "Effect": "Allow",
                    "Action": "sqs:SendMessage",
                    "Resource": self.dead_letter_queue.arn,
                }
            )
        self.role = iam_role.IamRole(
            self,
            "role",
            name=f"{name}-scheduler",
            assume_role_policy=service_trust(
                "scheduler.amazonaws.com",
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": context.account_id,
                        "aws:SourceArn": schedule_group_arn,
                    }
                },
            ),
        )
        iam_role_policy.IamRolePolicy(
            self,
            "policy",
            role=self.role.id,
            name="run-job",
            policy=policy_json(statements),
        )
        self.schedule = sched.SchedulerSchedule(
            self,
            "schedule",
            name=name,
            schedule_expression=config.expression,
            schedule_expression_timezone=config.timezone,
            state="ENABLED" if config.enabled else "DISABLED",
            flexible_time_window=sched.SchedulerScheduleFlexibleTimeWindow(mode="OFF"),
            target=sched.SchedulerScheduleTarget(
                arn=context.cluster.arn,
                role_arn=self.role.arn,
                ecs_parameters=sched.SchedulerScheduleTargetEcsParameters(
                    task_definition_arn=workload.task_definition_arn,
                    task_count=1,
                    capacity_provider_strategy=[
                        sched.SchedulerScheduleTargetEcsParametersCapacityProviderStrategy(**share)
                        for share in context.cluster.capacity_provider_strategy
                    ],
                    network_configuration=sched.SchedulerScheduleTargetEcsParametersNetworkConfiguration(
                        subnets=context.network.private_subnet_ids,
                        security_groups=workload.security_group_ids,
                        assign_public_ip=False,
                    ),
                ),
                retry_policy=sched.SchedulerScheduleTargetRetryPolicy(
                    maximum_retry_attempts=config.retry_attempts,
                    maximum_event_age_in_seconds=config.maximum_event_age_seconds,
                ),
                dead_letter_config=(
                    sched.SchedulerScheduleTargetDeadLetterConfig(arn=self.dead_letter_queue.arn)
                    if self.dead_letter_queue is not None
                    else None
                ),
            ),
        )
