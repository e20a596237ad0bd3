"""Config for ECS Service Connect: the environment's Cloud Map namespace and, per service reached
through it, its Service Connect name and timeouts.

A service with exposure `service_connect` is reached by the services in its `allowed_callers`
through the Service Connect proxy ECS adds to each task, task to task inside the VPC: no internal
ALB in between. Callers become Service Connect clients (client-only configuration) and get
`<NAME>_URL` = `http://<discovery_name>:<container_port>`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from pydantic import StrictInt, field_validator, model_validator

from envs.schema.common import Strict

# Cloud Map namespace names: 1-1024 characters of letters, digits, '.', '_' and '-' (provider:
# internal/service/servicediscovery/validate.go, validNamespaceName; AWS:
# https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateHttpNamespace.html).
NAMESPACE_NAME = re.compile(r"[0-9A-Za-z._-]{1,1024}")
# discoveryName: "up to 64 characters ... lowercase letters, numbers, underscores (_), and
# hyphens (-). The name can't start with a hyphen", unique in the namespace.
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectService.html
DISCOVERY_NAME = re.compile(r"[a-z0-9_][a-z0-9_-]{0,63}")
# TimeoutConfiguration: idle and per-request timeouts 0-2147483647 seconds (provider:
# internal/service/ecs/service.go, service_connect_configuration.service.timeout,
# validation.IntBetween(0, 2147483647)); unset, Service Connect uses 300 s idle (HTTP) and 15 s
# per request: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TimeoutConfiguration.html
TIMEOUT_SECONDS_MAX = 2_147_483_647
# Service Connect is configured on services only: "Only the tasks that Amazon ECS services create
# are supported with Service Connect" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectClientAlias.html;
# RunTask has no serviceConnectConfiguration:
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html).
STANDALONE_TASKS_DOC = (
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect.html"
)
# Cloud Map quotas (https://docs.aws.amazon.com/cloud-map/latest/dg/cloud-map-limits.html):
# "Instances per service" 1,000, not adjustable (each task of a published service is an instance);
# "Instances per namespace" 2,000 and "Namespaces per Region" 50 are adjustable (envs/quotas.py).
INSTANCES_PER_SERVICE_MAX = 1000
SERVICE_CONNECT_EXPOSURE = "service_connect"
"""The exposure value (envs.schema.service.Exposure.SERVICE_CONNECT)."""


class ServiceConnectConfig(Strict):
    """The environment's Cloud Map HTTP namespace for ECS Service Connect.

    It is also the cluster's default namespace; needed once a service has exposure
    `service_connect`."""

    namespace_name: str | None = None
    """Cloud Map namespace name (1-1024 letters, digits, '.', '_', '-'); unset:
    `<project>-<env>`."""

    @field_validator("namespace_name")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        if value is not None and not NAMESPACE_NAME.fullmatch(value):
            raise ValueError(
                f"namespace_name {value!r} is not a Cloud Map namespace name: use 1-1024 "
                "letters, digits, '.', '_' and '-'"
            )
        return value


class ServiceConnectServiceConfig(Strict):
    """How a service with exposure `service_connect` is published in the namespace."""

    discovery_name: str | None = None
    """Name callers use (`http://<discovery_name>:<container_port>`) and the Cloud Map service
    name: up to 64 lowercase letters, digits, '_' and '-', not starting with '-'; unset: the
    service name."""
    idle_timeout_seconds: StrictInt | None = None
    """Seconds a connection may stay idle (0 disables); unset: Service Connect's default (300
    for HTTP)."""
    per_request_timeout_seconds: StrictInt | None = None
    """Seconds the proxy waits for the whole response (0 disables); unset: Service Connect's
    default (15)."""

    @field_validator("discovery_name")
    @classmethod
    def _discovery(cls, value: str | None) -> str | None:
        if value is not None and not DISCOVERY_NAME.fullmatch(value):
            raise ValueError(
                f"discovery_name {value!r} is not a Service Connect discovery name: use 1-64 "
                "lowercase letters, digits, '_' and '-', not starting with '-'"
            )
        return value

    @model_validator(mode="after")
    def _timeouts(self) -> ServiceConnectServiceConfig:
        for field in ("idle_timeout_seconds", "per_request_timeout_seconds"):
            value = getattr(self, field)
            if value is not None and not 0 <= value <= TIMEOUT_SECONDS_MAX:
                raise ValueError(f"{field} must be 0-{TIMEOUT_SECONDS_MAX}; got {value}")
        return self


class _Service(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def exposure(self) -> str: ...
    @property
    def allowed_callers(self) -> tuple[str, ...]: ...
    @property
    def container_port(self) -> int: ...
    @property
    def service_connect(self) -> ServiceConnectServiceConfig: ...
    @property
    def model_fields_set(self) -> set[str]: ...


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class Environment(Protocol):
    """What the checks read of an environment (envs/schema.EnvironmentConfig provides it)."""

    @property
    def service_connect(self) -> ServiceConnectConfig | None: ...
    @property
    def services(self) -> Sequence[_Service]: ...
    @property
    def jobs(self) -> Sequence[_Named]: ...


def discovery_name(service: _Service) -> str:
    """The Service Connect name of a service: its `discovery_name`, else its own name."""
    return service.service_connect.discovery_name or service.name


def service_connect_url(service: _Service) -> str:
    """What a caller's `<NAME>_URL` holds for a service reached through Service Connect."""
    return f"http://{discovery_name(service)}:{service.container_port}"


def servers(env: Environment) -> list[_Service]:
    """Services reached through Service Connect."""
    return [s for s in env.services if s.exposure == SERVICE_CONNECT_EXPOSURE]


def clients(env: Environment) -> set[str]:
    """Names of the services that call a Service Connect service (its client-only side)."""
    return {caller for server in servers(env) for caller in server.allowed_callers}


def participants(env: Environment) -> set[str]:
    """Services with a Service Connect configuration: the published ones and their callers."""
    return clients(env) | {s.name for s in servers(env)}


def service_connect_problems(env: Environment) -> list[str]:
    """Namespace present, callers are services (never jobs), settings only where they apply,
    discovery names unique in the namespace."""
    problems = []
    jobs = {job.name for job in env.jobs}
    published = servers(env)
    for service in env.services:
        where = f"services.{service.name}"
        if service.exposure == SERVICE_CONNECT_EXPOSURE:
            if env.service_connect is None:
                problems.append(
                    f"{where}.exposure: 'service_connect' needs the environment's Cloud Map "
                    "namespace; add `service_connect: {}` to the environment, or use exposure "
                    "'internal'"
                )
            for caller in service.allowed_callers:
                if caller in jobs:
                    problems.append(
                        f"{where}.allowed_callers: {caller!r} is a job, and jobs and scheduled "
                        "tasks cannot be Service Connect clients (RunTask has no Service Connect; "
                        f"{STANDALONE_TASKS_DOC}); keep exposure 'internal' for a service jobs "
                        "call"
                    )
        elif "service_connect" in service.model_fields_set:
            problems.append(
                f"{where}.service_connect: applies to exposure 'service_connect' only, and the "
                f"service has exposure '{service.exposure}'; remove service_connect or set "
                "exposure to 'service_connect'"
            )
    names = [discovery_name(s) for s in published]
    for name in sorted({n for n in names if names.count(n) > 1}):
        sharing = [s.name for s in published if discovery_name(s) == name]
        problems.append(
            f"services: {sharing} all use Service Connect discovery_name {name!r}; names must be "
            "unique in the namespace: set service_connect.discovery_name on all but one"
        )
    return problems
