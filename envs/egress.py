"""Egress-completeness proof: every task in a private subnet can reach what it needs to start.

Tasks run in private subnets without public IPs. Each need below is met either by a VPC
endpoint or by a NAT gateway. A config with a gap is refused with one message per gap that
names the workload, the need and both fixes, before anything is synthesized or deployed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from envs.edge import InterfaceEndpoint
from envs.services import SecretSource, WorkloadConfig

if TYPE_CHECKING:
    from envs.schema import EnvironmentConfig

NAT_FIX = "set network.nat_mode to 'single' or 'per_az'"


def _needs(
    env: EnvironmentConfig, workload: WorkloadConfig, *, exec_enabled: bool
) -> list[tuple[str, tuple[InterfaceEndpoint, ...] | None]]:
    """(need, endpoints that satisfy it; None when only NAT can)."""
    needs: list[tuple[str, tuple[InterfaceEndpoint, ...] | None]] = []
    image = env.image_of(workload)
    registry = image.registry_region()
    if registry in ("project", env.region):
        needs.append(
            ("pulling its image from ECR", (InterfaceEndpoint.ECR_API, InterfaceEndpoint.ECR_DKR))
        )
    else:
        needs.append((f"pulling image {image.external!r} from outside this region's ECR", None))
    needs.append(("shipping logs with awslogs", (InterfaceEndpoint.LOGS,)))
    sources = workload.secret_sources()
    if SecretSource.SSM in sources:
        needs.append(("reading SSM parameter secrets", (InterfaceEndpoint.SSM,)))
    if SecretSource.SECRETS_MANAGER in sources:
        needs.append(("reading Secrets Manager secrets", (InterfaceEndpoint.SECRETSMANAGER,)))
    if workload.secrets_kms_key_arn:
        needs.append(("decrypting secrets with KMS", (InterfaceEndpoint.KMS,)))
    if exec_enabled:
        needs.append(("ECS Exec sessions", (InterfaceEndpoint.SSMMESSAGES,)))
        # The cluster encrypts exec sessions with the logs KMS key (modules/ecs_cluster.py):
        # the agent in the task then calls KMS itself. "If you use a customer managed KMS key
        # ... the task needs access to KMS" and, without internet access, the kms interface
        # endpoint: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
        needs.append(("ECS Exec session encryption", (InterfaceEndpoint.KMS,)))
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
        for need, endpoints in _needs(env, workload, exec_enabled=exec_enabled):
            prefix = f"{kind}.{workload.name}: {need} needs "
            if endpoints is None:
                gaps.append(
                    prefix + f"the internet, and {nat_state} (VPC endpoints cannot "
                    f"reach other registries); fix: push the image to the project's ECR "
                    f"(remove image.external), or {nat_fix}"
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
