"""A one-off job: a task definition with no service, runnable on demand or on a schedule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from constructs import Construct

from envs.schema.job import JobConfig
from modules.alarms import JobAlarms
from modules.efs import EfsVolume
from modules.notifications import AlarmTopic
from modules.schedule import JobSchedule
from modules.workload import TaskWorkload, WorkloadContext
from ops.run_task_contract import RunTaskSpec


class Job(Construct):
    """Task definition, log group, roles and an egress-only security group for a job.

    `run_task_spec` is everything `python -m ops run-task` needs to start it; with a
    schedule, EventBridge Scheduler starts it instead (see `JobSchedule`). Failed runs,
    missed scheduled runs and dead letters notify the alarm topic (see `JobAlarms`).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: JobConfig,
        *,
        context: WorkloadContext,
        image: str,
        alarm_topic: AlarmTopic,
        extra_environment: dict[str, str] | None = None,
        sidecar_images: Mapping[str, str] | None = None,
        efs_volumes: Sequence[EfsVolume] = (),
    ) -> None:
        super().__init__(scope, id_)
        self.config = config
        self.workload = TaskWorkload(
            self,
            "workload",
            config,
            context=context,
            image=image,
            extra_environment=extra_environment,
            command=config.command or None,
            sidecar_images=sidecar_images,
            efs_volumes=efs_volumes,
        )
        self.schedule = (
            JobSchedule(self, "schedule", config.schedule, workload=self.workload)
            if config.schedule is not None
            else None
        )
        self.alarms = JobAlarms(
            self,
            "alarms",
            config.alarms,
            family=self.workload.family,
            task_family_arn_prefix=(
                f"arn:aws:ecs:{context.region}:{context.account_id}:task-definition/"
                f"{self.workload.family}:"
            ),
            cluster_arn=context.cluster.arn,
            log_group_name=self.workload.log_group_name,
            missed_run_window_hours=config.missed_run_window_hours,
            dead_letter_queue_name=(
                self.schedule.dead_letter_queue.name
                if self.schedule is not None and self.schedule.dead_letter_queue is not None
                else None
            ),
            topic_arn=alarm_topic.arn,
        )
        self.run_task_spec: RunTaskSpec = {
            "cluster_arn": context.cluster.arn,
            "task_definition_arn": self.workload.task_definition_arn,
            "task_definition_family": self.workload.family,
            "container_name": self.workload.container_name,
            "subnets": context.network.private_subnet_ids,
            "security_groups": self.workload.security_group_ids,
            "assign_public_ip": "DISABLED",
            "capacity_provider_strategy": list(context.cluster.capacity_provider_strategy),
            "log_group": self.workload.log_group_name,
            "log_stream_prefix": self.workload.log_stream_prefix,
            "region": context.region,
        }
