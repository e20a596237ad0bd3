"""What every task runs with (services and jobs alike): image, size, secrets, IAM policy
statements, sidecars, grants."""

from __future__ import annotations

import enum
import re

from pydantic import Field, StrictBool, StrictInt, field_validator, model_validator

from envs.schema.common import (
    KMS_KEY_ARN,
    SecretSource,
    Strict,
    check_name,
    check_secret_arn,
    check_secret_arns,
    check_variable_names,
    container_user_problem,
)
from envs.schema.containers import (
    ContainerDependency,
    SidecarConfig,
    SidecarPreset,
    check_containers,
)
from envs.schema.iam import NEGATED_KEYS, action_problems
from envs.schema.resources import DestinationConfig, ResourceGrant
from envs.schema.storage import EfsMountConfig
from ops.release_contract import DIGEST as IMAGE_DIGEST
from ops.release_contract import IMAGE_TAG

# Fargate task sizes: cpu units -> allowed memory (MiB), from the ECS developer guide.
FARGATE_MEMORY_MIB: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

# Fargate task ephemeral storage: 21-200 GiB when set ("EphemeralStorage" in
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_EphemeralStorage.html).
EPHEMERAL_STORAGE_GIB = (21, 200)

# RFC 1123 host name: dot-separated labels of 1-63 letters, digits and '-', at most 253 chars.
HOST_NAME = re.compile(
    r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
ECR_PRIVATE_REGISTRY = re.compile(
    r"^\d{12}\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
)


class CpuArchitecture(enum.StrEnum):
    X86_64 = "X86_64"
    ARM64 = "ARM64"


def registry_region(image: str) -> str | None:
    """The region of the private ECR registry an image reference points at (None: other)."""
    match = ECR_PRIVATE_REGISTRY.match(image)
    return match["region"] if match else None


class ImageConfig(Strict):
    """Where the container image comes from.

    Without `external`, the project creates an ECR repository for the service and runs
    `<repository>:<tag>` (or `@<digest>`). With `external`, that full reference is run as is.
    """

    external: str | None = None
    """A full image reference outside the project's ECR, e.g. `docker.io/library/nginx:1.27`."""
    tag: str = "latest"
    """Image tag in the project's repository (ignored when `digest` is set)."""
    digest: str | None = None
    """`sha256:<64 hex>`; when set it pins the image and the tag is ignored."""

    @field_validator("tag")
    @classmethod
    def _tag(cls, value: str) -> str:
        if not IMAGE_TAG.fullmatch(value):
            raise ValueError(f"{value!r} is not a valid image tag (word characters, '.', '-')")
        return value

    @field_validator("digest")
    @classmethod
    def _digest(cls, value: str | None) -> str | None:
        if value is not None and not IMAGE_DIGEST.fullmatch(value):
            raise ValueError(f"{value!r} is not an image digest; expected sha256:<64 hex digits>")
        return value

    @field_validator("external")
    @classmethod
    def _external(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c.isspace() for c in value)):
            raise ValueError(f"{value!r} is not an image reference")
        return value

    def registry_region(self) -> str | None:
        """The region of a private ECR registry the image lives in (None: not private ECR)."""
        if self.external is None:
            return "project"
        return registry_region(self.external)


class Effect(enum.StrEnum):
    """What an IAM policy statement does with the requests it matches."""

    ALLOW = "Allow"
    DENY = "Deny"


class PolicyStatement(Strict):
    """An extra IAM statement for a task role: specific actions on named resources.

    Wildcards in actions, NotAction/NotResource, and `resources: ["*"]` (except for the
    actions in envs/schema/iam.py `RESOURCE_STAR_ACTIONS`) are refused."""

    actions: tuple[str, ...]
    """Specific IAM actions, e.g. 's3:GetObject' (no '*' or '?' anywhere)."""
    resources: tuple[str, ...]
    """Resource ARNs the actions apply to; '*' only for actions AWS cannot scope."""
    effect: Effect = Effect.ALLOW
    """Whether the statement allows or denies its actions."""

    @model_validator(mode="before")
    @classmethod
    def _no_negation(cls, data: object) -> object:
        if isinstance(data, dict):
            negated = [key for key in NEGATED_KEYS if key in data]
            if negated:
                raise ValueError(
                    f"task_role_statements: {negated} are not supported: a negated statement "
                    "grants everything it does not name; list actions and resources instead"
                )
        return data

    @model_validator(mode="after")
    def _least_privilege(self) -> PolicyStatement:
        problems = []
        if not self.actions:
            problems.append("actions must not be empty")
        if not self.resources:
            problems.append("resources must not be empty (name the ARNs)")
        problems += action_problems(self.actions, self.resources)
        if problems:
            raise ValueError("task_role_statements: " + "; ".join(problems))
        return self


def check_fargate_size(cpu: int, memory_mib: int) -> None:
    if cpu not in FARGATE_MEMORY_MIB:
        raise ValueError(
            f"cpu={cpu} is not a Fargate size; use one of {', '.join(map(str, FARGATE_MEMORY_MIB))}"
        )
    allowed = FARGATE_MEMORY_MIB[cpu]
    if memory_mib not in allowed:
        if len(allowed) <= 8:
            choices = ", ".join(map(str, allowed))
        else:
            choices = f"{allowed[0]}-{allowed[-1]} in steps of {allowed[1] - allowed[0]}"
        raise ValueError(f"cpu={cpu} allows memory_mib {choices}; got {memory_mib}")


class WorkloadConfig(Strict):
    """What services and jobs share: image, size, environment, secrets, permissions."""

    name: str
    """DNS-safe name (2-16 characters); the task family is `<project>-<env>-<name>`."""
    image: ImageConfig = ImageConfig()
    """Which image to run; default: the project's ECR repository at tag `latest`."""
    cpu: StrictInt = 256
    """Fargate CPU units (256 = 0.25 vCPU)."""
    memory_mib: StrictInt = 512
    """Task memory in MiB; must be allowed for `cpu` (Fargate's table)."""
    cpu_architecture: CpuArchitecture = CpuArchitecture.X86_64
    """Runtime CPU architecture; ARM64 (Graviton) is cheaper per vCPU-hour."""
    environment: dict[str, str] = Field(default_factory=dict)
    """Plain environment variables for the container."""
    secrets: dict[str, str] = Field(default_factory=dict)
    """Environment variable name -> SSM parameter ARN or Secrets Manager secret ARN."""
    secrets_kms_key_arn: str | None = None
    """Customer managed KMS key the secrets are encrypted with (grants kms:Decrypt)."""
    task_role_statements: tuple[PolicyStatement, ...] = ()
    """Extra IAM statements for the task role (what the application may call)."""
    readonly_root_filesystem: StrictBool = True
    """Root filesystem read-only; a task-scoped volume is mounted writable at /tmp."""
    internet_egress: StrictBool = False
    """Opt in to HTTPS (443) out to the internet through NAT (needs a NAT mode). Required when
    the image is outside this region's ECR or `external_apis` is set; otherwise tasks reach
    AWS through the VPC endpoints only."""
    external_apis: tuple[str, ...] = ()
    """Host names of internet HTTPS APIs the workload calls (e.g. 'api.stripe.com'); declaring
    one makes the egress proof require `internet_egress` and a NAT mode. Documentation only:
    security groups cannot filter by host name."""
    user: str | None = None
    """Linux user the container runs as: `name`, `uid`, `name:group` or `uid:gid` (e.g.
    '1000:1000'), never root. Unset: the image's USER (FSBP ECS.20 asks for a non-root one)."""
    entrypoint: tuple[str, ...] = ()
    """Replaces the image's ENTRYPOINT (exec form, one string per argument); empty: the image's."""
    depends_on: tuple[ContainerDependency, ...] = ()
    """Containers of the task the main container waits for (sidecars; presets are added)."""
    sidecars: dict[str, SidecarConfig] = Field(default_factory=dict)
    """More containers in the task, by name: started in `depends_on` order, sized within it."""
    sidecar_presets: tuple[SidecarPreset, ...] = ()
    """Built-in sidecars switched on by name: `firelens`, `otel-collector`."""
    destinations: dict[str, DestinationConfig] = Field(default_factory=dict)
    """Private destinations by name (e.g. a database on 5432): egress rules to them, and the
    ingress rule on their security group."""
    efs_mounts: tuple[EfsMountConfig, ...] = ()
    """Environment file systems mounted into the main container (one access point each)."""
    ephemeral_storage_gib: int | None = None
    """Task ephemeral storage in GiB (21-200); unset: Fargate's default 20 GiB."""
    resource_grants: tuple[ResourceGrant, ...] = ()
    """Access to existing resources by ARN (DynamoDB table, SQS queue, S3 bucket, SNS topic),
    expanded to least-privilege task-role statements."""

    @field_validator("external_apis")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [host for host in value if not HOST_NAME.fullmatch(host)]
        if bad:
            raise ValueError(
                f"{bad} are not host names; give DNS names such as 'api.example.com' "
                "(no scheme, port or path)"
            )
        return value

    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        problem = None if value is None else container_user_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value)

    @field_validator("environment", "secrets")
    @classmethod
    def _variable_names(cls, value: dict[str, str]) -> dict[str, str]:
        return check_variable_names(value)

    @field_validator("secrets")
    @classmethod
    def _secret_arns(cls, value: dict[str, str]) -> dict[str, str]:
        return check_secret_arns(value)

    @field_validator("secrets_kms_key_arn")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        if value is not None and not KMS_KEY_ARN.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a KMS key ARN (arn:aws:kms:<region>:<acct>:key/<id>)"
            )
        return value

    @model_validator(mode="after")
    def _size(self) -> WorkloadConfig:
        try:
            check_fargate_size(self.cpu, self.memory_mib)
        except ValueError as error:
            raise ValueError(f"cpu/memory_mib: {error}") from None
        clash = set(self.environment) & set(self.secrets)
        if clash:
            raise ValueError(f"environment/secrets: {sorted(clash)} set in both; keep one")
        low, high = EPHEMERAL_STORAGE_GIB
        if self.ephemeral_storage_gib is not None and not (
            low <= self.ephemeral_storage_gib <= high
        ):
            raise ValueError(
                f"ephemeral_storage_gib: Fargate allows {low}-{high} GiB; got "
                f"{self.ephemeral_storage_gib} (unset: the default 20 GiB)"
            )
        paths = [m.container_path for m in self.efs_mounts]
        if len(set(paths)) != len(paths):
            raise ValueError(f"efs_mounts: container paths must be distinct; got {paths}")
        problems = check_containers(
            main=self.name,
            main_depends_on=self.depends_on,
            main_has_health_check=self.main_has_health_check,
            sidecars=self.sidecars,
            presets=self.sidecar_presets,
            cpu=self.cpu,
            memory_mib=self.memory_mib,
        )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def main_has_health_check(self) -> bool:
        """Whether the main container has a health check of its own (services may)."""
        return getattr(self, "container_health_check", None) is not None

    def all_secrets(self) -> dict[str, str]:
        """Every secret ARN of the task's containers (the execution role reads them all)."""
        arns = {f"{self.name}.{k}": v for k, v in self.secrets.items()}
        for name, sidecar in sorted(self.sidecars.items()):
            arns |= {f"{name}.{k}": v for k, v in sidecar.secrets.items()}
        return arns

    def secret_sources(self) -> set[SecretSource]:
        return {check_secret_arn(arn) for arn in self.all_secrets().values()}
