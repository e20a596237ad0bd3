"""The release contract between the synthesizer (modules/release.py) and `ops`: parameter
names, the task template and the release record. One definition for both sides.

Ownership (one writer per field):

- Terraform owns the infrastructure and each service's *task template*: the
  RegisterTaskDefinition input with the image left as `IMAGE_PLACEHOLDER`, kept in the SSM
  parameter `template_parameter_name()` (a plain String, so `terraform plan` shows its diff).
- The release process (`python -m ops deploy|promote|rollback`) owns *which image runs*: the
  SSM parameter `release_parameter_name()` holds a `ReleaseRecord`. Terraform creates it with
  the configured image and then ignores its value; the ECS service ignores `task_definition`.

Standard library only: every `ops` command imports it at start-up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

IMAGE_PLACEHOLDER = "{{image}}"
"""Stands for the released image in the template's container definition."""

# Image references, as the Docker/OCI reference grammar ECR follows: a tag is a word
# character then up to 127 of [A-Za-z0-9_.-]; a digest is sha256:<64 lowercase hex>.
# https://github.com/distribution/reference/blob/main/reference.go
IMAGE_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")

# SSM parameter values: 4 KB on the Standard tier, 8 KB on Advanced; "Intelligent-Tiering"
# picks Advanced only for values over 4 KB.
# https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html
SSM_PARAMETER_TIER = "Intelligent-Tiering"


def parameter_path(resource_prefix: str, service: str) -> str:
    """`/<project>-<env>/release/<service>`: where a service's release parameters live."""
    return f"/{resource_prefix}/release/{service}"


def template_parameter_name(resource_prefix: str, service: str) -> str:
    """The Terraform-owned task template of a service."""
    return f"{parameter_path(resource_prefix, service)}/template"


def release_parameter_name(resource_prefix: str, service: str) -> str:
    """The release-owned record of the image a service runs."""
    return f"{parameter_path(resource_prefix, service)}/image"


def log_group_name(resource_prefix: str, workload: str) -> str:
    """The CloudWatch log group of a service's or job's containers."""
    return f"/ecs/{resource_prefix}/{workload}"


@dataclass(frozen=True)
class ReleaseTemplate:
    """What Terraform writes to the template parameter (JSON) and `ops deploy` renders."""

    cluster: str
    """Cluster name."""
    service: str
    """ECS service name."""
    container_name: str
    repository_url: str | None
    """The project ECR repository (None for an external image)."""
    log_group: str
    log_stream_prefix: str
    task_definition: Mapping[str, Any]
    """RegisterTaskDefinition input (ECS API field names), image = IMAGE_PLACEHOLDER."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> ReleaseTemplate:
        data = json.loads(text)
        return cls(**{**data, "task_definition": dict(data["task_definition"])})

    def render(self, image: str) -> dict[str, Any]:
        """The RegisterTaskDefinition input with the container running `image`."""
        rendered: dict[str, Any] = json.loads(json.dumps(self.task_definition))
        for container in rendered["containerDefinitions"]:
            if container.get("image") == IMAGE_PLACEHOLDER:
                container["image"] = image
        return rendered


@dataclass(frozen=True)
class ReleaseRecord:
    """What the release parameter holds: the image that should run, and how it got there."""

    image: str
    """Full image reference; `<repository>@sha256:...` once released by `ops`."""
    previous_image: str | None = None
    released_by: str | None = None
    """The caller's ARN (None: the initial value Terraform wrote)."""
    released_at: str | None = None
    """ISO 8601 UTC."""
    action: str = "terraform"
    """`terraform` (initial), `deploy`, `promote`, `rollback`, or `restore` (written back after
    a failed rollout: the record before it never became steady)."""
    source: str | None = None
    """For a promotion: the environment the digest came from."""

    @property
    def digest(self) -> str | None:
        _, separator, digest = self.image.rpartition("@")
        return digest if separator and DIGEST.match(digest) else None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> ReleaseRecord:
        data = json.loads(text)
        known = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        return cls(**known)
