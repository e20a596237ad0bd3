"""Config for the containers of a task beside the main one: sidecars and built-in presets.

A workload's task has its main container (named like the workload, configured by the
workload's own fields) plus optional `sidecars` (by name) and `sidecar_presets` switched on by
name. `check_containers` holds the rules that span the task: names, start order, sizes."""

from __future__ import annotations

import enum
import graphlib
import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import Field, StrictInt, field_validator, model_validator

from envs.schema.common import (
    Port,
    Strict,
    between,
    check_secret_arns,
    check_variable_names,
    container_user_problem,
)

# Container names: up to 255 letters, digits, hyphens and underscores ("name" in
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html).
CONTAINER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")

# FireLens' Fluent Bit listens on 24224 inside the task (never opened in a security group:
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/firelens-taskdef.html).
FIRELENS_FORWARD_PORT = 24224

# The OpenTelemetry collector receives OTLP on localhost: 4317 (gRPC) and 4318 (HTTP).
OTLP_PORTS = (4317, 4318)


class DependencyCondition(enum.StrEnum):
    """When a container may start relative to another (ECS `dependsOn` conditions, see
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html)."""

    START = "START"
    """The other container has started."""
    HEALTHY = "HEALTHY"
    """The other container passes its health check (it needs one)."""
    COMPLETE = "COMPLETE"
    """The other container has exited (it must not be essential)."""
    SUCCESS = "SUCCESS"
    """The other container has exited with status 0 (it must not be essential)."""


class ContainerDependency(Strict):
    """Start this container only once another container of the task reached a condition."""

    container: str
    """Name of the other container: the workload's name (its main container), a sidecar or a
    preset's container (`log-router`, `otel-collector`)."""
    condition: DependencyCondition = DependencyCondition.START
    """START, HEALTHY, COMPLETE or SUCCESS."""


class SidecarPreset(enum.StrEnum):
    """Built-in sidecars a workload switches on by name."""

    FIRELENS = "firelens"
    """FireLens log router (AWS for Fluent Bit): the main container logs through it into the
    workload's KMS-encrypted log group; the task role may write only that group."""
    OTEL_COLLECTOR = "otel-collector"
    """AWS Distro for OpenTelemetry collector: OTLP on localhost:4317/4318, traces to X-Ray,
    metrics to CloudWatch (EMF) through a KMS-encrypted log group of its own."""


PRESET_CONTAINER: dict[SidecarPreset, str] = {
    SidecarPreset.FIRELENS: "log-router",
    SidecarPreset.OTEL_COLLECTOR: "otel-collector",
}
"""The container name each preset adds to the task."""


PRESET_MEMORY_RESERVATION_MIB: dict[SidecarPreset, int] = {
    # AWS's FireLens examples reserve 50 MiB for the log router
    # (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/firelens-example-taskdefs.html).
    SidecarPreset.FIRELENS: 50,
    # The ADOT collector's ECS sidecar examples use 256 MiB / 0.25 vCPU per task at most; 128 MiB
    # is its documented floor for light traffic (https://aws-otel.github.io/docs/setup/ecs).
    SidecarPreset.OTEL_COLLECTOR: 128,
}
"""Soft memory reservation of each preset's container (counted against the task size)."""


class ContainerHealthCheckConfig(Strict):
    """The container's own health check (Docker HEALTHCHECK semantics, run by ECS)."""

    command: tuple[str, ...]
    """e.g. ["CMD-SHELL", "wget -qO- http://localhost:8080/health || exit 1"]."""
    # Limits: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
    interval_seconds: Annotated[StrictInt, between(5, 300)] = 30
    """Seconds between checks."""
    timeout_seconds: Annotated[StrictInt, between(2, 60)] = 5
    """Seconds before a check counts as failed."""
    retries: Annotated[StrictInt, between(1, 10)] = 3
    """Failures before the container is unhealthy."""
    start_period_seconds: Annotated[StrictInt, between(0, 300)] = 30
    """Grace period before failures count."""

    @model_validator(mode="after")
    def _limits(self) -> ContainerHealthCheckConfig:
        problems = []
        if not self.command or self.command[0] not in ("CMD", "CMD-SHELL"):
            problems.append("command must start with 'CMD' or 'CMD-SHELL'")
        if problems:
            raise ValueError("container_health_check: " + "; ".join(problems))
        return self


class SidecarConfig(Strict):
    """A container beside the main one in the same task (shares its network and lifetime)."""

    image: str | None = None
    """A full image reference, e.g. `public.ecr.aws/nginx/nginx:1.27`; or use `same_image_as`."""
    same_image_as: str | None = None
    """Run this service's image (or the workload's own, by its name) instead of `image`."""
    command: tuple[str, ...] = ()
    """Replaces the image's CMD; empty: the image's."""
    entrypoint: tuple[str, ...] = ()
    """Replaces the image's ENTRYPOINT; empty: the image's."""
    ports: tuple[Port, ...] = ()
    """Container ports (TCP) the other containers reach on localhost; never opened to the VPC."""
    environment: dict[str, str] = Field(default_factory=dict)
    """Plain environment variables."""
    secrets: dict[str, str] = Field(default_factory=dict)
    """Environment variable name -> SSM parameter ARN or Secrets Manager secret ARN."""
    health_check: ContainerHealthCheckConfig | None = None
    """The container's health check; needed when another container waits for HEALTHY."""
    essential: bool = False
    """True: the task stops when this container stops."""
    depends_on: tuple[ContainerDependency, ...] = ()
    """Containers that must reach a condition before this one starts."""
    # Fargate reserves no CPU units for a container unless asked; a container may reserve
    # 0-10240 units ("cpu" in
    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html).
    cpu: Annotated[int, between(0, 10240)] = 0
    """CPU units reserved for this container; all containers must fit the task's cpu."""
    memory_reservation_mib: int | None = None
    """Soft memory reservation in MiB; counted against the task's memory_mib."""
    memory_mib: int | None = None
    """Hard memory limit in MiB (the container is killed above it); at least the reservation."""
    user: str | None = None
    """User (and group) to run as: `name`, `uid`, `name:group` or `uid:gid`; unset: the image's."""

    @field_validator("environment", "secrets")
    @classmethod
    def _variable_names(cls, value: dict[str, str]) -> dict[str, str]:
        return check_variable_names(value)

    @field_validator("secrets")
    @classmethod
    def _secret_arns(cls, value: dict[str, str]) -> dict[str, str]:
        return check_secret_arns(value)

    @model_validator(mode="after")
    def _limits(self) -> SidecarConfig:
        problems = []
        if (self.image is None) == (self.same_image_as is None):
            problems.append("image: set exactly one of image and same_image_as")
        if self.image is not None and (not self.image or any(c.isspace() for c in self.image)):
            problems.append(f"image: {self.image!r} is not an image reference")
        if len(set(self.ports)) != len(self.ports):
            problems.append(f"ports: need distinct ports; got {list(self.ports)}")
        for field in ("memory_reservation_mib", "memory_mib"):
            value = getattr(self, field)
            # ECS requires at least 6 MiB for a container's memory and reservation
            # ("memory" in the container definition reference).
            if value is not None and value < 6:
                problems.append(f"{field}: ECS needs at least 6 MiB; got {value}")
        if (
            self.memory_mib is not None
            and self.memory_reservation_mib is not None
            and self.memory_reservation_mib > self.memory_mib
        ):
            problems.append(
                f"memory_reservation_mib: {self.memory_reservation_mib} exceeds memory_mib "
                f"{self.memory_mib}; the reservation must be at most the hard limit"
            )
        user_problem = None if self.user is None else container_user_problem(self.user)
        if user_problem is not None:
            problems.append(f"user: {user_problem}")
        clash = set(self.environment) & set(self.secrets)
        if clash:
            problems.append(f"environment/secrets: {sorted(clash)} set in both; keep one")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def memory_counted_mib(self) -> int:
        """What ECS counts against the task's memory: the reservation, else the hard limit."""
        return self.memory_reservation_mib or self.memory_mib or 0


def check_containers(
    *,
    main: str,
    main_depends_on: tuple[ContainerDependency, ...],
    main_has_health_check: bool,
    sidecars: Mapping[str, SidecarConfig],
    presets: tuple[SidecarPreset, ...],
    cpu: int,
    memory_mib: int,
) -> list[str]:
    """Problems across the task's containers, each starting with the field it is about."""
    problems = []
    if len(set(presets)) != len(presets):
        problems.append(f"sidecar_presets: each preset at most once; got {list(presets)}")
    preset_names = {PRESET_CONTAINER[p]: p for p in presets}
    if main in preset_names:
        problems.append(
            f"sidecar_presets: the {preset_names[main]} preset adds a container named {main!r}, "
            "the workload's own name; rename the workload or drop the preset"
        )
    for name in sidecars:
        if not CONTAINER_NAME.fullmatch(name):
            problems.append(
                f"sidecars: {name!r} is not a container name (1-255 letters, digits, '-', '_')"
            )
        if name == main or name in PRESET_CONTAINER.values():
            problems.append(
                f"sidecars: {name!r} is taken by the main container or a preset; rename it"
            )
    # Every container's start order: who waits for whom, with which condition.
    essential = {main: True} | {PRESET_CONTAINER[p]: True for p in presets}
    essential |= {name: sidecar.essential for name, sidecar in sidecars.items()}
    healthy = {main: main_has_health_check} | {p: False for p in preset_names}
    healthy |= {name: s.health_check is not None for name, s in sidecars.items()}
    waits = {main: main_depends_on} | {name: s.depends_on for name, s in sidecars.items()}
    graph: dict[str, set[str]] = {name: set() for name in essential}
    for name, dependencies in waits.items():
        field = "depends_on" if name == main else f"sidecars.{name}.depends_on"
        for dependency in dependencies:
            other = dependency.container
            if other not in essential or other == name:
                problems.append(
                    f"{field}: {other!r} is not another container of this task; known: "
                    f"{', '.join(n for n in essential if n != name)}"
                )
                continue
            graph[name].add(other)
            condition = dependency.condition
            if condition is DependencyCondition.HEALTHY and not healthy[other]:
                problems.append(
                    f"{field}: {other!r} has no health check, so HEALTHY can never be met; give "
                    "it a health check or use START"
                )
            if (
                condition in (DependencyCondition.COMPLETE, DependencyCondition.SUCCESS)
                and (essential[other])
            ):
                problems.append(
                    f"{field}: {condition} cannot be set on the essential container {other!r} "
                    "(AWS refuses it); make it non-essential or use START"
                )
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        cycle = " -> ".join(error.args[1])
        problems.append(f"depends_on: start order has a cycle ({cycle}); break one dependency")
    sidecar_cpu = sum(s.cpu for s in sidecars.values())
    if sidecar_cpu >= cpu:
        problems.append(
            f"sidecars: their cpu adds up to {sidecar_cpu} units but the task has {cpu}; "
            "leave some for the main container (lower them or raise cpu)"
        )
    memory = {name: s.memory_counted_mib for name, s in sidecars.items()}
    memory |= {PRESET_CONTAINER[p]: PRESET_MEMORY_RESERVATION_MIB[p] for p in presets}
    for name, sidecar in sidecars.items():
        if sidecar.memory_mib is not None and sidecar.memory_mib > memory_mib:
            problems.append(
                f"sidecars.{name}.memory_mib: {sidecar.memory_mib} exceeds the task's "
                f"memory_mib {memory_mib}"
            )
    if sum(memory.values()) >= memory_mib:
        shares = ", ".join(f"{n} {m}" for n, m in sorted(memory.items()))
        problems.append(
            f"sidecars: their memory adds up to {sum(memory.values())} MiB ({shares}) but the "
            f"task has {memory_mib} MiB; leave some for the main container (lower them or "
            "raise memory_mib)"
        )
    return problems
