"""Following a started task: status changes, log lines, timeout, exit code."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ops.aws import error_code, error_message
from ops.common import (
    EXIT_NOT_STARTED,
    OpsError,
)
from ops.run_task.ecs import describe_task
from ops.run_task.specs import JobSpec, task_id
from ops.run_task.terminal import printable

# Statuses in which the container has not started yet, so there are no logs to follow.
BEFORE_RUNNING = frozenset({"PROVISIONING", "PENDING", "ACTIVATING"})


def say(message: str) -> None:
    """A timestamped progress line on stderr."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


class LogFollower:
    """Prints a CloudWatch log stream's events once each, following nextForwardToken."""

    def __init__(self, logs: Any, group: str, stream: str) -> None:
        self.group = group
        self.stream = stream
        self.found = False
        self._logs = logs
        self._token: str | None = None
        self._broken = False

    def fetch(self) -> None:
        """Print every event not printed yet; a missing stream is not an error."""
        from botocore.exceptions import ClientError

        while not self._broken:
            request = {"logGroupName": self.group, "logStreamName": self.stream}
            if self._token:
                request["nextToken"] = self._token
            try:
                page = self._logs.get_log_events(startFromHead=True, **request)
            except ClientError as error:
                if error_code(error) != "ResourceNotFoundException":
                    say(f"cannot read logs ({error_code(error)}: {error_message(error)})")
                    self._broken = True
                return
            self.found = True
            for event in page.get("events", []):
                print(printable(str(event.get("message", "")).rstrip("\n")), flush=True)
            token = page.get("nextForwardToken")
            if not token or token == self._token:  # the same token back: end of the stream
                return
            self._token = token


@dataclass
class Follow:
    """Everything needed to watch one started task."""

    ecs: Any
    spec: JobSpec
    task_arn: str
    deadline: float
    poll_interval: float
    logs: LogFollower | None

    def until_stopped(self, task: Mapping[str, Any]) -> Mapping[str, Any]:
        """Poll DescribeTasks until STOPPED, printing transitions and logs; raises on timeout."""
        status = str(task.get("lastStatus", "UNKNOWN"))
        say(f"task {task_id(self.task_arn)}: {status}")
        while status != "STOPPED":
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TaskTimeout(status)
            time.sleep(min(self.poll_interval, remaining))
            task = describe_task(self.ecs, self.spec.cluster_arn, self.task_arn) or task
            previous, status = status, str(task.get("lastStatus", status))
            if status != previous:
                say(f"task {task_id(self.task_arn)}: {previous} -> {status}")
            if self.logs and status not in BEFORE_RUNNING:
                self.logs.fetch()
        if self.logs:
            self.logs.fetch()
            if not self.logs.found:
                say(
                    f"note: no log stream {self.logs.stream} in {self.logs.group} "
                    "(the container may not have started, or logged nothing)"
                )
        return task


class TaskTimeout(Exception):
    """The deadline passed while the task was still in `status`."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def exit_code_of(task: Mapping[str, Any], spec: JobSpec) -> int:
    """The container's exit code; OpsError(125) if it never produced one."""
    containers: list[Mapping[str, Any]] = task.get("containers") or []
    container: Mapping[str, Any] = next(
        (c for c in containers if c.get("name") == spec.container_name), {}
    )
    stop_code = task.get("stopCode") or "no stop code"
    say(
        f"task {task_id(str(task.get('taskArn', '')))} stopped ({stop_code}): "
        f"{printable(str(task.get('stoppedReason') or 'no reason given'))}"
    )
    code = container.get("exitCode")
    if code is None:
        lines = [
            f"task stopped before container {spec.container_name} exited with a code",
            f"  stopCode: {task.get('stopCode') or '-'}",
            f"  stoppedReason: {printable(str(task.get('stoppedReason') or '-'))}",
            f"  container reason: {printable(str(container.get('reason') or '-'))}",
        ]
        raise OpsError("\n".join(lines), EXIT_NOT_STARTED)
    say(f"container {spec.container_name} exited with code {code}")
    return int(code) if 0 <= int(code) <= 255 else 1  # a shell cannot report other codes
