"""Following a rollout until it is steady or rolled back; what to show when it fails."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ops.aws import Aws, aws_error, say
from ops.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_TIMEOUT,
    OpsError,
)
from ops.release.ecs import describe_service
from ops.release.parameters import ServiceRelease, aws_failure
from ops.release_contract import (
    ReleaseTemplate,
)

STOPPED_TASKS_SHOWN = 5
LOG_LINES_SHOWN = 5


@dataclass
class Rollout:
    """Follows one deployment (the one running `task_definition_arn`) to its end."""

    release: ServiceRelease
    task_definition_arn: str
    deadline: float
    poll_interval: float
    seen_events: set[str] = field(default_factory=set)
    last_line: str = ""

    def follow(self, since: Any) -> int:
        aws, template = self.release.aws, self.release.template
        while True:
            service = describe_service(aws, template)
            self._print_events(service, since)
            deployment = next(
                (
                    d
                    for d in service.get("deployments", [])
                    if d.get("taskDefinition") == self.task_definition_arn
                ),
                None,
            )
            if deployment is None:
                return self._gone(service)
            state = deployment.get("rolloutState", "IN_PROGRESS")
            line = (
                f"{template.service}: {deployment.get('status')} {state}, running "
                f"{deployment.get('runningCount', 0)}/{deployment.get('desiredCount', 0)}, "
                f"pending {deployment.get('pendingCount', 0)}, failed tasks "
                f"{deployment.get('failedTasks', 0)}"
            )
            if line != self.last_line:
                say(line)
                self.last_line = line
            if state == "COMPLETED" and deployment.get("status") == "PRIMARY":
                say(f"{template.service} is steady on {revision_of(self.task_definition_arn)}")
                return EXIT_OK
            if state == "FAILED":
                return self._failed(deployment)
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise OpsError(
                    f"timed out following the rollout of {revision_of(self.task_definition_arn)} "
                    f"(last: {state}); the deployment goes on. Inspect it with:\n  "
                    f"{self.release.status_command()}",
                    EXIT_TIMEOUT,
                )
            time.sleep(min(self.poll_interval, remaining))

    def _print_events(self, service: Mapping[str, Any], since: Any) -> None:
        fresh = [
            event
            for event in service.get("events", [])
            if event.get("id") not in self.seen_events
            and (event.get("createdAt") is None or event["createdAt"] >= since)
        ]
        for event in sorted(fresh, key=lambda e: e.get("createdAt") or since):
            self.seen_events.add(str(event.get("id")))
            say(f"event: {event.get('message')}")

    def _gone(self, service: Mapping[str, Any]) -> int:
        primary: Mapping[str, Any] = next(
            (d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {}
        )
        raise OpsError(
            f"the deployment of {revision_of(self.task_definition_arn)} was replaced by "
            f"{revision_of(str(primary.get('taskDefinition', '?')))} (another deploy?); inspect "
            f"with: {self.release.status_command()}",
            EXIT_FAILED,
        )

    def _failed(self, deployment: Mapping[str, Any]) -> int:
        reason = deployment.get("rolloutStateReason") or "no reason given"
        print(
            f"error: rollout of {revision_of(self.task_definition_arn)} failed and was rolled "
            f"back: {reason}",
            file=sys.stderr,
        )
        for task in stopped_tasks(self.release, self.task_definition_arn):
            print(f"  task {task['id']}: {task['reason']}", file=sys.stderr)
            for line in task["log"]:
                print(f"    | {line}", file=sys.stderr)
        return EXIT_FAILED


def revision_of(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def stopped_tasks(release: ServiceRelease, task_definition_arn: str | None) -> list[dict[str, Any]]:
    """Recently stopped tasks (of one revision, if given): id, reason, last log lines."""
    aws, template = release.aws, release.template
    ecs = aws.client("ecs")
    try:
        arns = ecs.list_tasks(
            cluster=template.cluster, serviceName=template.service, desiredStatus="STOPPED"
        ).get("taskArns", [])[:STOPPED_TASKS_SHOWN]
        tasks = ecs.describe_tasks(cluster=template.cluster, tasks=arns)["tasks"] if arns else []
    except Exception as error:
        raise aws_failure(error, "listing stopped tasks") from None
    found = []
    family = str(template.task_definition["family"])
    for task in tasks:
        revision = revision_of(str(task.get("taskDefinitionArn", "")))
        if revision.rpartition(":")[0] != family:
            continue  # not this service's (ListTasks filters by service; this is a safeguard)
        if task_definition_arn and task.get("taskDefinitionArn") != task_definition_arn:
            continue
        task_id = str(task["taskArn"]).rsplit("/", 1)[-1]
        reasons = [str(task.get("stoppedReason") or "no reason given")]
        reasons += [
            f"{c['name']}: {c['reason']}" for c in task.get("containers", []) if c.get("reason")
        ]
        found.append(
            {
                "id": task_id,
                "reason": "; ".join(reasons),
                "stop_code": task.get("stopCode"),
                "log": last_log_lines(aws, template, task_id),
            }
        )
    return found


def last_log_lines(aws: Aws, template: ReleaseTemplate, task_id: str) -> list[str]:
    stream = f"{template.log_stream_prefix}/{template.container_name}/{task_id}"
    try:
        events = aws.client("logs").get_log_events(
            logGroupName=template.log_group,
            logStreamName=stream,
            limit=LOG_LINES_SHOWN,
            startFromHead=False,
        )["events"]
    except Exception as error:
        if aws_error(error) is None:
            raise
        return []
    return [str(event["message"]).rstrip("\n") for event in events]
