"""The ECS side: the service, its task definitions and the image it runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ops.aws import Aws
from ops.common import (
    EXIT_AWS_ERROR,
    OpsError,
)
from ops.release.parameters import aws_failure
from ops.release_contract import (
    ReleaseTemplate,
)


def describe_service(aws: Aws, template: ReleaseTemplate) -> dict[str, Any]:
    try:
        response = aws.client("ecs").describe_services(
            cluster=template.cluster, services=[template.service]
        )
    except Exception as error:
        raise aws_failure(error, f"describing service {template.service}") from None
    services = [s for s in response.get("services", []) if s.get("status") != "INACTIVE"]
    if not services:
        raise OpsError(
            f"service {template.service} is not in cluster {template.cluster} ({aws.region}); "
            "apply the stack first",
            EXIT_AWS_ERROR,
        )
    return dict(services[0])


def task_definition(aws: Aws, arn: str) -> dict[str, Any]:
    try:
        return dict(
            aws.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]
        )
    except Exception as error:
        raise aws_failure(error, f"describing task definition {arn}") from None


def matches(wanted: Any, actual: Any) -> bool:
    """Does `actual` (as ECS describes it) hold everything `wanted` (as registered) says?"""
    if isinstance(wanted, Mapping):
        return isinstance(actual, Mapping) and all(
            matches(value, actual.get(key)) for key, value in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(actual, list)
            and len(wanted) == len(actual)
            and all(matches(w, a) for w, a in zip(wanted, actual, strict=True))
        )
    return bool(wanted == actual)


def running_image(aws: Aws, service: Mapping[str, Any], container: str) -> str | None:
    """The image of the PRIMARY deployment's container."""
    primary = next((d for d in service.get("deployments", []) if d["status"] == "PRIMARY"), None)
    arn = (primary or {}).get("taskDefinition") or service.get("taskDefinition")
    if not arn:
        return None
    for definition in task_definition(aws, arn).get("containerDefinitions", []):
        if definition.get("name") == container:
            return str(definition.get("image"))
    return None
