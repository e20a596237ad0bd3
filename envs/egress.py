"""Egress-completeness proof: every task in a private subnet can reach what it needs to start.

Tasks run in private subnets without public IPs. Each need below is met either by a VPC
endpoint or by a NAT gateway. A config with a gap is refused with one message per gap that
names the workload, the need and both fixes, before anything is synthesized or deployed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from envs.containers import SidecarPreset
from envs.edge import InterfaceEndpoint
from envs.queues import QueueEncryption
from envs.services import SecretSource, WorkloadConfig, registry_region

if TYPE_CHECKING:
    from envs.schema import EnvironmentConfig

NAT_FIX = "set network.nat_mode to 'single' or 'per_az'"
IMAGE_FIX = "push the image to the project's ECR (remove image.external)"


Need = tuple[str, tuple[InterfaceEndpoint, ...] | None, str]
"""(need, endpoints that satisfy it or None when only NAT can, the fix other than NAT then)."""


def _needs(env: EnvironmentConfig, workload: WorkloadConfig, *, exec_enabled: bool) -> list[Need]:
    needs: list[Need] = []
    image = env.image_of(workload)
    registry = image.registry_region()
    if registry in ("project", env.region):
        ecr = (InterfaceEndpoint.ECR_API, InterfaceEndpoint.ECR_DKR)
        needs.append(("pulling its image from ECR", ecr, ""))
    else:
        needs.append(
            (f"pulling image {image.external!r} from outside this region's ECR", None, IMAGE_FIX)
        )
    needs.append(("shipping logs with awslogs", (InterfaceEndpoint.LOGS,), ""))
    sources = workload.secret_sources()
    if SecretSource.SSM in sources:
        needs.append(("reading SSM parameter secrets", (InterfaceEndpoint.SSM,), ""))
    if SecretSource.SECRETS_MANAGER in sources:
        needs.append(("reading Secrets Manager secrets", (InterfaceEndpoint.SECRETSMANAGER,), ""))
    if workload.secrets_kms_key_arn:
        needs.append(("decrypting secrets with KMS", (InterfaceEndpoint.KMS,), ""))
    if exec_enabled:
        needs.append(("ECS Exec sessions", (InterfaceEndpoint.SSMMESSAGES,), ""))
        # The cluster encrypts exec sessions with the logs KMS key (modules/ecs_cluster.py):
        # the agent in the task then calls KMS itself. "If you use a customer managed KMS key
        # ... the task needs access to KMS" and, without internet access, the kms interface
        # endpoint: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
        needs.append(("ECS Exec session encryption", (InterfaceEndpoint.KMS,), ""))
    return needs + _container_needs(env, workload) + _queue_needs(env, workload)


def _queue_needs(env: EnvironmentConfig, workload: WorkloadConfig) -> list[Need]:
    """Consumers and producers of the platform's SQS queues."""
    queues = [
        s.queue
        for s in env.services
        if s.queue is not None and (s.name == workload.name or workload.name in s.queue.producers)
    ]
    needs: list[Need] = []
    if queues:
        needs.append(("using its SQS queues", (InterfaceEndpoint.SQS,), ""))
    if any(q.encryption is QueueEncryption.KMS for q in queues):
        needs.append(("encrypting queue messages with KMS", (InterfaceEndpoint.KMS,), ""))
    return needs


def _container_needs(env: EnvironmentConfig, workload: WorkloadConfig) -> list[Need]:
    """Sidecars and presets: their images (presets come from public ECR) and X-Ray."""
    needs: list[Need] = []
    for name, sidecar in sorted(workload.sidecars.items()):
        if sidecar.image is not None and registry_region(sidecar.image) != env.region:
            fix = f"copy the image into this region's ECR and set sidecars.{name}.image to it"
            needs.append((f"pulling sidecar {name}'s image {sidecar.image!r}", None, fix))
    for preset in workload.sidecar_presets:
        fix = f"remove {preset.value!r} from sidecar_presets"
        needs.append((f"pulling the {preset} preset's image from public ECR", None, fix))
    if SidecarPreset.OTEL_COLLECTOR in workload.sidecar_presets:
        needs.append(("sending traces to X-Ray", (InterfaceEndpoint.XRAY,), ""))
    return needs


def _internet_gap(env: EnvironmentConfig, kind: str, workload: WorkloadConfig) -> str:
    """A workload that declares external APIs needs NAT and its own opt-in."""
    steps = [] if env.network.nat_mode != "none" else [NAT_FIX]
    steps.append(f"set {kind}.{workload.name}.internet_egress to true")
    return (
        f"{kind}.{workload.name}: calling {', '.join(workload.external_apis)} (external_apis) "
        f"needs HTTPS to the internet, which is opt-in; fix: {' and '.join(steps)}, or remove "
        "external_apis"
    )


def egress_gaps(env: EnvironmentConfig) -> list[str]:
    """One message per unmet need; empty when every workload can start and run."""
    available = set(env.endpoints.interface_services)
    gaps = []
    workloads: list[tuple[str, WorkloadConfig, bool]] = [
        ("services", s, s.enable_execute_command) for s in env.services
    ]
    workloads += [("jobs", j, False) for j in env.jobs]
    for kind, workload, exec_enabled in workloads:
        if env.network.nat_mode != "none" and workload.internet_egress:
            continue  # NAT + HTTPS egress reaches every AWS API and registry.
        if workload.external_apis:
            gaps.append(_internet_gap(env, kind, workload))
        if env.network.nat_mode == "none":
            nat_state = "network.nat_mode is 'none'"
            nat_fix = NAT_FIX
        else:
            nat_state = "internet_egress is false"
            nat_fix = f"set {kind}.{workload.name}.internet_egress to true"
        for need, endpoints, other_fix in _needs(env, workload, exec_enabled=exec_enabled):
            prefix = f"{kind}.{workload.name}: {need} needs "
            if endpoints is None:
                gaps.append(
                    prefix + f"the internet, and {nat_state} (VPC endpoints cannot "
                    f"reach other registries); fix: {other_fix}, or {nat_fix}"
                )
                continue
            missing = [e.value for e in endpoints if e not in available]
            if not env.endpoints.s3_gateway and endpoints[0] is InterfaceEndpoint.ECR_API:
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
