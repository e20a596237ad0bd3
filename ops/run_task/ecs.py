"""The ECS calls: build and send RunTask, describe and stop a task."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from ops.aws import error_code, error_message
from ops.common import (
    EXIT_AWS_ERROR,
    EXIT_INTERRUPTED,
    OpsError,
)
from ops.run_task.specs import JobSpec
from ops.run_task.terminal import printable

STARTED_BY = "ops-run-task"


def build_run_task_request(
    spec: JobSpec, command: Sequence[str], environment: Mapping[str, str], token: str
) -> dict[str, Any]:
    """RunTask parameters: one task, awsvpc networking, the container's overrides."""
    override: dict[str, Any] = {"name": spec.container_name}
    if command:
        override["command"] = list(command)
    if environment:
        override["environment"] = [{"name": k, "value": v} for k, v in environment.items()]
    request: dict[str, Any] = {
        "cluster": spec.cluster_arn,
        "taskDefinition": spec.task_definition_arn,
        "count": 1,
        "startedBy": STARTED_BY,
        "clientToken": token,
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": list(spec.subnets),
                "securityGroups": list(spec.security_groups),
                "assignPublicIp": spec.assign_public_ip,
            }
        },
        "overrides": {"containerOverrides": [override]},
    }
    if spec.capacity_provider_strategy:
        request["capacityProviderStrategy"] = [dict(i) for i in spec.capacity_provider_strategy]
    else:
        request["launchType"] = spec.launch_type
    return request


def aws_clients(region: str | None) -> tuple[Any, Any]:
    """ECS and CloudWatch Logs clients from the standard AWS configuration."""
    import boto3
    from botocore.exceptions import BotoCoreError, NoRegionError

    try:
        session = boto3.session.Session(region_name=region)
        return session.client("ecs"), session.client("logs")
    except NoRegionError:
        raise OpsError(
            "no AWS region: add `region` to the job spec, pass --region, or set AWS_REGION",
            EXIT_AWS_ERROR,
        ) from None
    except BotoCoreError as error:
        raise OpsError(f"cannot set up AWS clients: {error}", EXIT_AWS_ERROR) from None


def start_task(ecs: Any, request: Mapping[str, Any]) -> dict[str, Any]:
    """Call RunTask (botocore retries it with the same client token); the started task."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    token = request["clientToken"]
    maybe_started = (
        f"\nif the request reached ECS a task may have started: rerun with --client-token "
        f"{token} to re-attach to it rather than start a second one"
    )
    try:
        response = ecs.run_task(**request)
    except ClientError as error:
        code, message = error_code(error), error_message(error)
        hint = ""
        if code == "ConflictException":
            hint = (
                f"\nclient token {token} was already used with other arguments; "
                "rerun the identical command, or drop --client-token"
            )
        elif error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
            hint = maybe_started
        raise OpsError(f"ECS RunTask refused: {code}: {message}{hint}", EXIT_AWS_ERROR) from None
    except NoCredentialsError as error:
        raise OpsError(f"ECS RunTask not sent: {error}", EXIT_AWS_ERROR) from None
    except BotoCoreError as error:
        raise OpsError(f"ECS RunTask failed: {error}{maybe_started}", EXIT_AWS_ERROR) from None
    except KeyboardInterrupt:
        raise OpsError(
            f"interrupted while starting the task{maybe_started}", EXIT_INTERRUPTED
        ) from None
    tasks = response.get("tasks") or []
    failures = response.get("failures") or []
    if failures or not tasks:
        details = "\n".join(
            f"  - {printable(str(f.get('arn', '?')))}: {printable(str(f.get('reason', '?')))}"
            + (f" ({f['detail']})" if f.get("detail") else "")
            for f in failures
        )
        raise OpsError(
            f"ECS did not start the task:\n{details or '  (no task and no failure reported)'}",
            EXIT_AWS_ERROR,
        )
    return dict(tasks[0])


def describe_task(ecs: Any, cluster: str, task_arn: str) -> dict[str, Any] | None:
    """The task's description, or None while ECS reports it MISSING (eventual consistency)."""
    response = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])
    tasks = response.get("tasks") or []
    return dict(tasks[0]) if tasks else None


def stop_command(ecs: Any, spec: JobSpec, task_arn: str) -> str:
    """The AWS CLI command that stops the task."""
    return shlex.join(
        [
            "aws",
            "ecs",
            "stop-task",
            "--region",
            ecs.meta.region_name,
            "--cluster",
            spec.cluster_arn,
            "--task",
            task_arn,
        ]
    )
