"""Typed, immutable environment configuration: one `EnvironmentConfig` per stack.

Every field has its default here, once. Environment files (`envs/dev.py`, ...) hold plain
data that states only how an environment differs from `envs/base.py`; `envs.load` merges
and validates them. Nothing in this package imports the AWS provider.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import (
    BaseModel,
    Field,
    field_validator,
    model_validator,
)

from envs.schema.alarms import AlarmsConfig
from envs.schema.alb import AlbConfig, WafConfig, certificate_region
from envs.schema.common import (
    Strict,
    check_account_id,
    check_name,
    check_region,
    check_role_arn,
    region_zones,
    role_account,
)
from envs.schema.containers import SidecarPreset
from envs.schema.crosschecks import domain_problems, quota_problems
from envs.schema.deployment import TEST_TRAFFIC_HEADER
from envs.schema.domain import DomainConfig
from envs.schema.ecs import ContainerInsights, EcsConfig
from envs.schema.egress import egress_gaps
from envs.schema.job import JobConfig
from envs.schema.names import name_problems
from envs.schema.network import EndpointsConfig, NetworkConfig
from envs.schema.quotas import QuotasConfig
from envs.schema.release import ReleaseConfig
from envs.schema.resources import BucketConfig
from envs.schema.service import RULE_PRIORITY_STEP, RULE_VALUES_PER_RULE, Exposure, ServiceConfig
from envs.schema.service_connect import ServiceConnectConfig, service_connect_problems
from envs.schema.state import StateBackendConfig, state_key_alias
from envs.schema.storage import FileSystemConfig
from envs.schema.workload import CpuArchitecture, ImageConfig, WorkloadConfig

# Tags: at most 50 per resource; keys 1-128 and values 0-256 characters of letters, digits,
# spaces and _ . : / = + - @; keys starting with 'aws:' are reserved.
# https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html (tag naming limits)
TAGS_PER_RESOURCE = 50
TAG_KEY_MAX_CHARS = 128
TAG_VALUE_MAX_CHARS = 256
TAG_TEXT = re.compile(r"[\w\s.:/=+\-@]*")
PLATFORM_TAGS = ("Project", "Environment", "ManagedBy")
"""Default tags the stack sets on every resource."""
RESOURCE_TAGS_MAX = 2
"""Most tags a construct adds on top of the default tags (Name plus Tier or Service)."""


def tag_problems(tags: dict[str, str]) -> list[str]:
    """AWS's tag limits, counting the tags the platform adds to every resource."""
    problems = []
    room = TAGS_PER_RESOURCE - len(PLATFORM_TAGS) - RESOURCE_TAGS_MAX
    if len(tags) > room:
        problems.append(
            f"tags: {len(tags)} tags, but AWS allows {TAGS_PER_RESOURCE} per resource and the "
            f"platform adds up to {TAGS_PER_RESOURCE - room}; keep at most {room}"
        )
    for key, value in tags.items():
        if not 1 <= len(key) <= TAG_KEY_MAX_CHARS or not TAG_TEXT.fullmatch(key):
            problems.append(
                f"tags: key {key!r} must be 1-{TAG_KEY_MAX_CHARS} characters of letters, digits, "
                "spaces and _.:/=+-@"
            )
        elif key.lower().startswith("aws:"):
            problems.append(
                f"tags: key {key!r} uses the prefix 'aws:', reserved for AWS; rename it"
            )
        if len(value) > TAG_VALUE_MAX_CHARS or not TAG_TEXT.fullmatch(value):
            problems.append(
                f"tags: value of {key!r} ({value[:40]!r}) must be at most {TAG_VALUE_MAX_CHARS} "
                "characters of letters, digits, spaces and _.:/=+-@"
            )
    return problems


class EnvironmentConfig(Strict):
    """One deployable environment: one Terraform stack with its own state."""

    name: str
    """Environment name: 2-16 characters, lowercase letters, digits and '-'. Also the stack name."""
    project: str
    """Project name, prefixed to resource names and part of the state key."""
    region: str
    """AWS region code."""
    account_id: str
    """The 12-digit AWS account this environment deploys to. The provider refuses any other
    (`allowed_account_ids`), so a plan or apply with another account's credentials fails before
    it reads or changes anything."""
    role_arn: str | None = None
    """IAM role (in `account_id`) the provider and the state backend assume; unset: the caller's
    credentials are used as they are. It administers this environment's KMS keys."""
    key_admin_role_arns: tuple[str, ...] = ()
    """Further IAM roles (in `account_id`) that administer the environment's KMS keys; with
    `role_arn` at least one role is needed. No other principal of the account can change or
    delete the keys."""
    network: NetworkConfig
    """The VPC, its subnets, NAT and flow logs."""
    state: StateBackendConfig
    """The S3 backend holding this environment's Terraform state."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Extra default tags; Project, Environment and ManagedBy are always set."""
    endpoints: EndpointsConfig = EndpointsConfig()
    """VPC endpoints for private tasks."""
    public_alb: AlbConfig = AlbConfig()
    """The internet-facing ALB (created when a service has exposure `public`)."""
    internal_alb: AlbConfig = AlbConfig()
    """The internal ALB (created when a service has exposure `internal`)."""
    service_connect: ServiceConnectConfig | None = None
    """The Cloud Map namespace for ECS Service Connect (services with exposure
    `service_connect`); unset: none."""
    waf: WafConfig = WafConfig()
    """Web application firewall for the public ALB."""
    domain: DomainConfig | None = None
    """HTTPS names: public hosted zone, host names per public service, internal TLS. Unset: both
    ALBs answer on their own DNS names (HTTPS only with a `certificate_arn`)."""
    ecs: EcsConfig = EcsConfig()
    """Cluster, capacity providers, logs and ECR settings."""
    quotas: QuotasConfig = QuotasConfig()
    """The account's service quotas that more services or environments can exceed."""
    release: ReleaseConfig = ReleaseConfig()
    """Release rules for `python -m ops deploy|promote|rollback` (see README "Releasing")."""
    services: tuple[ServiceConfig, ...] = ()
    """Long-running services, given as {name: settings} in env files; `{name: None}` removes
    a service the base defines (an empty `{}` changes nothing: overrides merge)."""
    jobs: tuple[JobConfig, ...] = ()
    """One-off and scheduled tasks, given as {name: settings} in env files; `{name: None}`
    removes a job the base defines."""
    buckets: dict[str, BucketConfig] = Field(default_factory=dict)
    """Application S3 buckets by name, each with its workloads' grants."""
    file_systems: dict[str, FileSystemConfig] = Field(default_factory=dict)
    """Shared EFS file systems by name, mounted by workloads' `efs_mounts`."""
    alarms: AlarmsConfig = AlarmsConfig()
    """The alarm topic (SNS), its subscriptions, load balancer alarms and the dashboard."""

    @field_validator("name", "project")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value)

    @field_validator("services", "jobs", mode="before")
    @classmethod
    def _services_by_name(cls, value: object) -> object:
        """Env files give services as {name: settings} so overrides merge per service; a
        `None` setting removes the entry the base file defines."""
        if isinstance(value, dict):
            value = {name: settings for name, settings in value.items() if settings is not None}
            for name, settings in value.items():
                if isinstance(settings, dict) and settings.get("name", name) != name:
                    raise ValueError(
                        f"{name}: do not set 'name' ({settings['name']!r}) inside the settings; "
                        "the key is the name"
                    )
            return tuple(
                {**settings, "name": name} if isinstance(settings, dict) else settings
                for name, settings in value.items()
            )
        if isinstance(value, list | tuple) and all(isinstance(v, dict | BaseModel) for v in value):
            return value  # already one entry per item, each naming itself
        raise ValueError(
            "expected a dict of {name: settings}, e.g. {'api': {'cpu': 256}}; "
            f"got {value!r:.60}"
        )

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return check_region(value)

    @field_validator("account_id")
    @classmethod
    def _account(cls, value: str) -> str:
        return check_account_id(value)

    @field_validator("role_arn")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        return None if value is None else check_role_arn(value)

    @field_validator("key_admin_role_arns")
    @classmethod
    def _admins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for arn in value:
            check_role_arn(arn)
        return value

    @model_validator(mode="after")
    def _roles_in_account(self) -> EnvironmentConfig:
        problems = []
        for field, arns in (
            ("role_arn", (self.role_arn,) if self.role_arn else ()),
            ("key_admin_role_arns", self.key_admin_role_arns),
        ):
            for arn in arns:
                if role_account(arn) != self.account_id:
                    problems.append(
                        f"{field}: {arn!r} is in account {role_account(arn)}, not this "
                        f"environment's account_id {self.account_id}; use a role of "
                        f"{self.account_id}"
                    )
        if not self.key_admins:
            problems.append(
                "key_admin_role_arns: no role administers the environment's KMS keys; set "
                "role_arn (the deploy role) or list the role you deploy with here (KMS refuses a "
                "key policy that would lock out its creator)"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def key_admins(self) -> tuple[str, ...]:
        """Roles that administer the environment's KMS keys: the deploy role first."""
        return tuple(
            dict.fromkeys((*((self.role_arn,) if self.role_arn else ()), *self.key_admin_role_arns))
        )

    @model_validator(mode="before")
    @classmethod
    def _jobs_inherit_architecture(cls, data: object) -> object:
        """A job or service that runs a service's image (`same_image_as`) runs on the CPU
        architecture of the service that owns the image: an ARM64 image cannot start on
        X86_64. One that sets a different `cpu_architecture` itself is rejected later
        (`_job_problems`, `_same_image_problems`)."""
        if not isinstance(data, dict):
            return data
        services, jobs = data.get("services"), data.get("jobs")
        if not isinstance(services, dict):
            return data

        def owner(name: object, seen: frozenset[str] = frozenset()) -> dict[str, Any] | None:
            """The service whose image `name` runs (a loop is reported later, not followed)."""
            service = services.get(name) if isinstance(name, str) else None
            if not isinstance(service, dict) or not isinstance(name, str):
                return None
            borrowed = service.get("same_image_as")
            if (
                isinstance(borrowed, str)
                and isinstance(services.get(borrowed), dict)
                and "cpu_architecture" not in service
                and borrowed not in seen | {name}
            ):
                return owner(borrowed, seen | {name})
            return service

        def inherit(workloads: dict[str, Any]) -> dict[str, Any]:
            inherited = {}
            for name, workload in workloads.items():
                if not isinstance(workload, dict) or "cpu_architecture" in workload:
                    continue
                borrowed = workload.get("same_image_as")
                source = owner(borrowed) if borrowed != name else None
                if source is not None:
                    architecture = source.get("cpu_architecture", CpuArchitecture.X86_64)
                    inherited[name] = {**workload, "cpu_architecture": architecture}
            return {**workloads, **inherited}

        data = {**data, "services": inherit(services)}
        if isinstance(jobs, dict):
            data["jobs"] = inherit(jobs)
        return data

    @model_validator(mode="after")
    def _azs_in_region(self) -> EnvironmentConfig:
        zones = region_zones()[self.region]
        strangers = [az for az in self.network.availability_zones if az not in zones]
        if strangers:
            raise ValueError(
                f"network.availability_zones: {strangers} not in region {self.region}; "
                f"use zones of {self.region}: {', '.join(zones)}"
            )
        reserved = set(PLATFORM_TAGS) & set(self.tags)
        if reserved:
            raise ValueError(
                f"tags: {sorted(reserved)} are set by the platform; remove them from tags"
            )
        problems = tag_problems(self.tags)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @model_validator(mode="after")
    def _edge_and_services(self) -> EnvironmentConfig:
        problems = [
            *self._alb_problems(),
            *self._service_problems(),
            *self._job_problems(),
            *domain_problems(self),
        ]
        problems += self._container_problems() + self._queue_problems()
        problems += self._bucket_problems() + self._storage_problems()
        problems += service_connect_problems(self)
        if not problems:
            problems = [*name_problems(self), *quota_problems(self)]
        if not problems:
            problems = egress_gaps(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _alb_problems(self) -> list[str]:
        problems = []
        if self.internal_alb.cognito is not None:
            problems.append(
                "internal_alb.cognito: Cognito authentication is only supported on the public "
                "ALB (browsers cannot reach the internal one); remove it"
            )
        if self.public_alb.cognito is not None and not self.https(Exposure.PUBLIC):
            problems.append(
                "public_alb.cognito: Cognito authentication requires HTTPS; set "
                "public_alb.certificate_arn or domain.hosts, or remove cognito"
            )
        for field, alb in (("public_alb", self.public_alb), ("internal_alb", self.internal_alb)):
            if alb.certificate_arn and certificate_region(alb.certificate_arn) != self.region:
                problems.append(
                    f"{field}.certificate_arn: the certificate is in "
                    f"{certificate_region(alb.certificate_arn)} but an ALB can only use ACM "
                    f"certificates from its own region {self.region}"
                )
        return problems

    def _service_problems(self) -> list[str]:
        problems = []
        names = [service.name for service in self.services]
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"services: service name {name!r} is used more than once")
        workloads = [*names, *(job.name for job in self.jobs)]
        for service in self.services:
            where = f"services.{service.name}"
            problems.extend(self._deployment_problems(service))
            for caller in service.allowed_callers:
                if caller not in workloads:
                    problems.append(
                        f"{where}.allowed_callers: {caller!r} is not another service or job of "
                        f"this environment; known: {', '.join(workloads)}"
                    )
        problems += self._same_image_problems()
        for exposure in (Exposure.PUBLIC, Exposure.INTERNAL):
            attached = [s for s in self.services if s.exposure is exposure]
            ports = [s.container_port for s in attached]
            for port in sorted({p for p in ports if ports.count(p) > 1}):
                sharing = [s.name for s in attached if s.container_port == port]
                problems.append(
                    f"services: {sharing} all use container_port {port} behind the {exposure} "
                    "ALB; give each service on one ALB its own port"
                )
            defaults = [s.name for s in attached if not (s.path_patterns or self.host_rule(s))]
            ruled = [s for s in attached if s.name not in defaults]
            priorities = [s.rule_priority for s in ruled]
            for priority in sorted({p for p in priorities if priorities.count(p) > 1}):
                sharing = [s.name for s in ruled if s.rule_priority == priority]
                problems.append(
                    f"services: {sharing} all get listener rule priority {priority} on the "
                    f"{exposure} ALB; set listener_priority on all but one to a free multiple "
                    f"of {RULE_PRIORITY_STEP}"
                )
            if len(defaults) > 1:
                problems.append(
                    f"services: {defaults} are all the default route of the {exposure} ALB; give "
                    "all but one path_patterns or host_headers"
                )
        return problems

    def _same_image_problems(self) -> list[str]:
        """A service borrowing another's image: the owner exists, owns it, same architecture."""
        problems = []
        services = {s.name: s for s in self.services}
        for service in self.services:
            owner_name = service.same_image_as
            if owner_name is None:
                continue
            where = f"services.{service.name}.same_image_as"
            owner = services.get(owner_name)
            if owner is None or owner_name == service.name:
                others = [name for name in services if name != service.name]
                problems.append(
                    f"{where}: {owner_name!r} is not another service of this environment; "
                    f"known: {', '.join(others) or 'none'}"
                )
            elif owner.same_image_as is not None:
                problems.append(
                    f"{where}: {owner_name!r} itself runs {owner.same_image_as!r}'s image; "
                    f"name the owner directly: same_image_as {owner.same_image_as!r}"
                )
            elif owner.cpu_architecture is not service.cpu_architecture:
                problems.append(
                    f"services.{service.name}.cpu_architecture: {service.cpu_architecture} "
                    f"cannot run the image of {owner_name!r}, which is built for "
                    f"{owner.cpu_architecture}; remove cpu_architecture from the service (it "
                    "inherits the image owner's)"
                )
        return problems

    def _deployment_problems(self, service: ServiceConfig) -> list[str]:
        """What ECS's traffic-shifting strategies need from the ALB (see envs/schema/deployment.py);
        the alternate target group's name is checked with every name (envs/schema/names.py)."""
        if not service.deployment.strategy.shifts_traffic or service.exposure is Exposure.NONE:
            return []
        where = f"services.{service.name}.deployment.strategy"
        problems = []
        alb = self.public_alb if service.exposure is Exposure.PUBLIC else self.internal_alb
        if alb.cognito is not None:
            problems.append(
                f"{where}: '{service.deployment.strategy}' is not supported behind a listener "
                "with Cognito authentication (ECS refuses rules that mix forward and non-forward "
                "actions); use 'rolling' or remove public_alb.cognito"
            )
        values = len(service.path_patterns) + len(service.host_headers) + 1
        if values > RULE_VALUES_PER_RULE:
            problems.append(
                f"{where}: the deployment's test rule would need {values} condition values "
                f"(path_patterns + host_headers + the {TEST_TRAFFIC_HEADER} header) but an ALB "
                f"rule allows {RULE_VALUES_PER_RULE}; use fewer paths or hosts"
            )
        return problems

    def _job_problems(self) -> list[str]:
        problems = []
        services = {s.name: s for s in self.services}
        names = [job.name for job in self.jobs]
        for name in sorted({n for n in names if names.count(n) > 1 or n in services}):
            problems.append(
                f"jobs: name {name!r} is used more than once (jobs and services share task "
                "definition families); rename one"
            )
        for job in self.jobs:
            if job.same_image_as is not None and job.same_image_as not in services:
                problems.append(
                    f"jobs.{job.name}.same_image_as: {job.same_image_as!r} is not a service of "
                    f"this environment; known: {', '.join(services) or 'none'}"
                )
            elif (
                job.same_image_as is not None
                and job.cpu_architecture is not services[job.same_image_as].cpu_architecture
            ):
                service = services[job.same_image_as]
                problems.append(
                    f"jobs.{job.name}.cpu_architecture: {job.cpu_architecture} cannot run the "
                    f"image of {service.name!r}, which is built for {service.cpu_architecture}; "
                    "remove cpu_architecture from the job (it inherits the service's)"
                )
        return problems

    def _bucket_problems(self) -> list[str]:
        """Bucket names fit S3's and the provider's limits; grants name real workloads."""
        problems = []
        workloads = [w.name for w in (*self.services, *self.jobs)]
        for name, bucket in self.buckets.items():
            where = f"buckets.{name}"
            try:
                check_name(name)
            except ValueError as error:
                problems.append(f"{where}: {error}")
                continue
            for workload in bucket.grants:
                if workload not in workloads:
                    problems.append(
                        f"{where}.grants: {workload!r} is not a service or job of this "
                        f"environment; known: {', '.join(workloads)}"
                    )
        return problems

    def _storage_problems(self) -> list[str]:
        """Mounts name a file system of this environment."""
        problems = []
        for kind, workload in self.workloads():
            for index, mount in enumerate(workload.efs_mounts):
                if mount.file_system not in self.file_systems:
                    problems.append(
                        f"{kind}.{workload.name}.efs_mounts.{index}.file_system: "
                        f"{mount.file_system!r} is not in file_systems; known: "
                        f"{', '.join(self.file_systems) or 'none (add one under file_systems)'}"
                    )
        return problems

    def workloads(self) -> list[tuple[str, WorkloadConfig]]:
        """(`services` or `jobs`, workload) for every workload."""
        return [("services", s) for s in self.services] + [("jobs", j) for j in self.jobs]

    def bucket_prefix(self, bucket: str) -> str:
        """`<project>-<env>-<bucket>-`: S3 appends a unique suffix."""
        return f"{self.resource_prefix}-{bucket}-"

    def _queue_problems(self) -> list[str]:
        """Producers name other workloads; backlog scaling needs Container Insights' task count."""
        problems = []
        workloads = [w.name for w in (*self.services, *self.jobs)]
        for service in self.services:
            if service.queue is None:
                continue
            where = f"services.{service.name}.queue"
            for producer in service.queue.producers:
                if producer not in workloads or producer == service.name:
                    others = [w for w in workloads if w != service.name]
                    problems.append(
                        f"{where}.producers: {producer!r} is not another service or job of this "
                        f"environment; known: {', '.join(others)}"
                    )
            if (
                service.queue.scaling is not None
                and self.ecs.container_insights is ContainerInsights.DISABLED
            ):
                problems.append(
                    f"{where}.scaling: backlog per task divides by ECS/ContainerInsights "
                    "RunningTaskCount, and ecs.container_insights is 'disabled'; set it to "
                    "'enabled', or set queue.scaling to null"
                )
        return problems

    def _container_problems(self) -> list[str]:
        """Sidecars borrowing an image name a service or their own workload; FireLens is for
        services (`ops run-task` follows a job's awslogs streams)."""
        problems = []
        services = [s.name for s in self.services]
        workloads: list[tuple[str, WorkloadConfig]] = [("services", s) for s in self.services]
        workloads += [("jobs", j) for j in self.jobs]
        for kind, workload in workloads:
            for name, sidecar in workload.sidecars.items():
                owner = sidecar.same_image_as
                if owner is not None and owner != workload.name and owner not in services:
                    problems.append(
                        f"{kind}.{workload.name}.sidecars.{name}.same_image_as: {owner!r} is "
                        f"neither this workload nor a service; known: "
                        f"{', '.join([workload.name, *services])}"
                    )
            if kind == "jobs" and SidecarPreset.FIRELENS in workload.sidecar_presets:
                problems.append(
                    f"jobs.{workload.name}.sidecar_presets: 'firelens' is for services; "
                    "`ops run-task` follows a job's awslogs stream; remove it"
                )
        return problems

    def image_owner(self, workload: WorkloadConfig) -> WorkloadConfig:
        """The workload whose image `workload` runs (itself, or the service it borrows from)."""
        borrowed = getattr(workload, "same_image_as", None)
        if borrowed is None:
            return workload
        return self.image_owner(next(s for s in self.services if s.name == borrowed))

    def image_of(self, workload: WorkloadConfig) -> ImageConfig:
        """The image a workload runs (jobs and services may borrow a service's)."""
        return self.image_owner(workload).image

    def https(self, exposure: Exposure) -> bool:
        """Whether the ALB of this exposure serves HTTPS: a certificate ARN, or a domain that
        names it (public hosts; internal TLS)."""
        alb = self.public_alb if exposure is Exposure.PUBLIC else self.internal_alb
        if alb.certificate_arn is not None:
            return True
        if self.domain is None:
            return False
        if exposure is Exposure.PUBLIC:
            return bool(self.domain.public_hosts)
        return self.domain.internal_tls

    def host_rule(self, service: ServiceConfig) -> tuple[str, ...]:
        """Host names the service's listener rule matches: its `host_headers`, or, when it
        shares its ALB with other services, its domain hosts (public) or its internal name
        (internal TLS). Alone on an ALB a service is the default route."""
        if service.host_headers or self.domain is None:
            return service.host_headers
        if len(self.services_behind(service.exposure)) < 2:
            return ()
        if service.exposure is Exposure.INTERNAL and self.domain.internal_tls:
            return (self.domain.internal_host(service.name),)
        return self.domain.hosts.get(service.name, ())

    def alb_name(self, exposure: Exposure) -> str:
        return f"{self.resource_prefix}-{exposure}"

    def target_group_name(self, service: str) -> str:
        return f"{self.resource_prefix}-{service}"

    def alternate_target_group_name(self, service: str) -> str:
        """The second target group of a blue/green, linear or canary service."""
        return f"{self.resource_prefix}-{service}-g"

    def services_behind(self, exposure: Exposure) -> tuple[ServiceConfig, ...]:
        return tuple(s for s in self.services if s.exposure is exposure)

    @property
    def state_key(self) -> str:
        return f"{self.state.key_prefix}{self.project}/{self.name}/terraform.tfstate"

    @property
    def state_kms_key_arn(self) -> str:
        """The state key, by its alias ARN (created by the `state-bootstrap` stack)."""
        return (
            f"arn:aws:kms:{self.state.region}:{self.account_id}:"
            f"{state_key_alias(self.state.bucket)}"
        )

    @property
    def resource_prefix(self) -> str:
        """`<project>-<env>`: prefix of every AWS resource name in this environment."""
        return f"{self.project}-{self.name}"
