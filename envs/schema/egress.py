"""Egress-completeness proof: every task in a private subnet can reach what it needs to start.

Tasks run in private subnets without public IPs. Each need below is met either by a VPC
endpoint or by a NAT gateway. Calls between services stay inside the VPC, security group to
security group, and need neither: through the internal ALB, or through Service Connect (the
caller's proxy connects to the callee's task on its container port; modules/service_connect.py).
A Service Connect proxy ships its own log with awslogs, a need of its own. A config with a gap
is refused with one message per gap that names the workload, the need and both fixes, before
anything is synthesized or deployed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

from envs.schema.common import SecretSource
from envs.schema.containers import SidecarPreset
from envs.schema.network import EndpointsConfig, InterfaceEndpoint
from envs.schema.queues import QueueEncryption
from envs.schema.service import ServiceConfig
from envs.schema.service_connect import ServiceConnectConfig
from envs.schema.service_connect import participants as service_connect_participants
from envs.schema.workload import ImageConfig, WorkloadConfig, registry_region

NAT_FIX = "set network.nat_mode to 'single' or 'per_az'"
IMAGE_FIX = "push the image to the project's ECR (remove image.external)"


class _Network(Protocol):
    @property
    def has_nat(self) -> bool: ...


class Environment(Protocol):
    """What the proof reads of an environment (`EnvironmentConfig` provides it); a protocol,
    so this module never imports the model that calls it."""

    @property
    def region(self) -> str: ...
    @property
    def network(self) -> _Network: ...
    @property
    def endpoints(self) -> EndpointsConfig: ...
    @property
    def services(self) -> Sequence[ServiceConfig]: ...
    @property
    def jobs(self) -> Sequence[WorkloadConfig]: ...
    def image_of(self, workload: WorkloadConfig) -> ImageConfig: ...
    @property
    def service_connect(self) -> ServiceConnectConfig | None: ...


class Need(NamedTuple):
    """One thing a task must reach, and how."""

    description: str
    endpoints: tuple[InterfaceEndpoint, ...] | None
    """Interface endpoints that satisfy it; None when only NAT can."""
    other_fix: str = ""
    """With `endpoints` None: the fix other than NAT."""
    s3_gateway: bool = False
    """Also needs the S3 gateway endpoint (ECR serves image layers from S3)."""


def _needs(env: Environment, workload: WorkloadConfig, *, exec_enabled: bool) -> list[Need]:
    needs: list[Need] = []
    image = env.image_of(workload)
    registry = image.registry_region()
    if registry in ("project", env.region):
        ecr = (InterfaceEndpoint.ECR_API, InterfaceEndpoint.ECR_DKR)
        needs.append(Need("pulling its image from ECR", ecr, s3_gateway=True))
    else:
        needs.append(
            Need(
                f"pulling image {image.external!r} from outside this region's ECR", None, IMAGE_FIX
            )
        )
    needs.append(Need("shipping logs with awslogs", (InterfaceEndpoint.LOGS,)))
    sources = workload.secret_sources()
    if SecretSource.SSM in sources:
        needs.append(Need("reading SSM parameter secrets", (InterfaceEndpoint.SSM,)))
    if SecretSource.SECRETS_MANAGER in sources:
        needs.append(Need("reading Secrets Manager secrets", (InterfaceEndpoint.SECRETSMANAGER,)))
    if workload.secrets_kms_key_arn:
        needs.append(Need("decrypting secrets with KMS", (InterfaceEndpoint.KMS,)))
    if exec_enabled:
        needs.append(Need("ECS Exec sessions", (InterfaceEndpoint.SSMMESSAGES,)))
        # The cluster encrypts exec sessions with the logs KMS key (modules/ecs_cluster.py):
        # the agent in the task then calls KMS itself. "If you use a customer managed KMS key
        # ... the task needs access to KMS" and, without internet access, the kms interface
        # endpoint: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
        needs.append(Need("ECS Exec session encryption", (InterfaceEndpoint.KMS,)))
    if workload.name in service_connect_participants(env):
        needs.append(Need("shipping its Service Connect proxy's log", (InterfaceEndpoint.LOGS,)))
    return needs + _container_needs(env, workload) + _queue_needs(env, workload)


def _queue_needs(env: Environment, workload: WorkloadConfig) -> list[Need]:
    """Consumers and producers of the platform's SQS queues."""
    queues = [
        s.queue
        for s in env.services
        if s.queue is not None and (s.name == workload.name or workload.name in s.queue.producers)
    ]
    needs: list[Need] = []
    if queues:
        needs.append(Need("using its SQS queues", (InterfaceEndpoint.SQS,)))
    if any(q.encryption is QueueEncryption.KMS for q in queues):
        needs.append(Need("encrypting queue messages with KMS", (InterfaceEndpoint.KMS,)))
    return needs


def _container_needs(env: Environment, workload: WorkloadConfig) -> list[Need]:
    """Sidecars and presets: their images (presets come from public ECR) and X-Ray."""
    needs: list[Need] = []
    for name, sidecar in sorted(workload.sidecars.items()):
        if sidecar.image is not None and registry_region(sidecar.image) != env.region:
            fix = f"copy the image into this region's ECR and set sidecars.{name}.image to it"
            needs.append(Need(f"pulling sidecar {name}'s image {sidecar.image!r}", None, fix))
    for preset in workload.sidecar_presets:
        fix = f"remove {preset.value!r} from sidecar_presets"
        needs.append(Need(f"pulling the {preset} preset's image from public ECR", None, fix))
    if SidecarPreset.OTEL_COLLECTOR in workload.sidecar_presets:
        needs.append(Need("sending traces to X-Ray", (InterfaceEndpoint.XRAY,)))
    return needs


def _internet_gap(env: Environment, kind: str, workload: WorkloadConfig) -> str:
    """A workload that declares external APIs needs NAT and its own opt-in."""
    steps = [] if env.network.has_nat else [NAT_FIX]
    steps.append(f"set {kind}.{workload.name}.internet_egress to true")
    return (
        f"{kind}.{workload.name}: calling {', '.join(workload.external_apis)} (external_apis) "
        f"needs HTTPS to the internet, which is opt-in; fix: {' and '.join(steps)}, or remove "
        "external_apis"
    )


def egress_gaps(env: Environment) -> list[str]:
    """One message per unmet need; empty when every workload can start and run."""
    available = set(env.endpoints.interface_services)
    gaps = []
    workloads: list[tuple[str, WorkloadConfig, bool]] = [
        ("services", s, s.enable_execute_command) for s in env.services
    ]
    workloads += [("jobs", j, False) for j in env.jobs]
    for kind, workload, exec_enabled in workloads:
        if env.network.has_nat and workload.internet_egress:
            continue  # NAT + HTTPS egress reaches every AWS API and registry.
        if workload.external_apis:
            gaps.append(_internet_gap(env, kind, workload))
        if not env.network.has_nat:
            nat_state = "network.nat_mode is 'none'"
            nat_fix = NAT_FIX
        else:
            nat_state = "internet_egress is false"
            nat_fix = f"set {kind}.{workload.name}.internet_egress to true"
        for need, endpoints, other_fix, s3_gateway in _needs(
            env, workload, exec_enabled=exec_enabled
        ):
            prefix = f"{kind}.{workload.name}: {need} needs "
            if endpoints is None:
                gaps.append(
                    prefix + f"the internet, and {nat_state} (VPC endpoints cannot "
                    f"reach other registries); fix: {other_fix}, or {nat_fix}"
                )
                continue
            missing = [e.value for e in endpoints if e not in available]
            if s3_gateway and not env.endpoints.s3_gateway:
                missing.append("s3 gateway")
            if missing:
                fix = (
                    "set endpoints.enabled to true"
                    if not env.endpoints.enabled
                    else f"add {', '.join(repr(m) for m in missing)} to endpoints.interface"
                )
                gaps.append(
                    prefix + f"the {' + '.join(missing)} VPC endpoint(s), and {nat_state}; "
                    f"fix: {fix}, or {nat_fix}"
                )
    return gaps
