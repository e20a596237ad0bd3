"""A service's release parameters in SSM: the template, the released image and its history."""

from __future__ import annotations

from dataclasses import dataclass

from ops.aws import Aws, aws_error, error_code
from ops.common import (
    EXIT_AWS_ERROR,
    OpsError,
)
from ops.release_contract import (
    ReleaseRecord,
    ReleaseTemplate,
    release_parameter_name,
    template_parameter_name,
)

RESTORED = "restore"
"""The action of a record written back after a failed rollout (the failed one never ran)."""


@dataclass
class ServiceRelease:
    """One service's template, current record and the way to reach it."""

    aws: Aws
    name: str
    template: ReleaseTemplate
    record: ReleaseRecord

    @property
    def record_parameter(self) -> str:
        return release_parameter_name(self.aws.env.resource_prefix, self.name)

    def status_command(self) -> str:
        return f"python -m ops status --env {self.aws.env.name} --service {self.name}"


def load_release(aws: Aws, service: str) -> ServiceRelease:
    prefix = aws.env.resource_prefix
    template = ReleaseTemplate.from_json(_parameter(aws, template_parameter_name(prefix, service)))
    record = ReleaseRecord.from_json(_parameter(aws, release_parameter_name(prefix, service)))
    return ServiceRelease(aws=aws, name=service, template=template, record=record)


def _parameter(aws: Aws, name: str) -> str:
    try:
        return str(aws.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
    except Exception as error:
        if error_code(error) == "ParameterNotFound":
            raise OpsError(
                f"SSM parameter {name} does not exist in {aws.region}: apply the {aws.env.name} "
                "stack first (terraform apply), it creates the release parameters",
                EXIT_AWS_ERROR,
            ) from None
        raise aws_failure(error, f"reading {name}") from None


def release_history(aws: Aws, service: str) -> list[tuple[int, ReleaseRecord]]:
    """(version, record) of every release of `service`, oldest first."""
    name = release_parameter_name(aws.env.resource_prefix, service)
    history: list[tuple[int, ReleaseRecord]] = []
    try:
        for page in aws.client("ssm").get_paginator("get_parameter_history").paginate(Name=name):
            for item in page.get("Parameters", []):
                try:
                    history.append((int(item["Version"]), ReleaseRecord.from_json(item["Value"])))
                except (ValueError, TypeError, KeyError):
                    continue  # a value not written by ops or Terraform: not a release
    except Exception as error:
        if error_code(error) == "ParameterNotFound":
            return []
        raise aws_failure(error, f"reading the history of {name}") from None
    return sorted(history, key=lambda entry: entry[0])


def ran(history: list[tuple[int, ReleaseRecord]]) -> list[tuple[int, ReleaseRecord]]:
    """The releases that became steady: drop each one a `restore` record undid."""
    followers = [*history[1:], None]
    return [
        entry
        for entry, successor in zip(history, followers, strict=True)
        if successor is None or successor[1].action != RESTORED
    ]


def aws_failure(error: Exception, doing: str) -> Exception:
    described = aws_error(error)
    if described is None:
        return error
    return OpsError(f"{doing} failed: {described}", EXIT_AWS_ERROR)
