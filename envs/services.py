"""Config for what runs on the cluster: services (long-running) and the ECS cluster itself."""

from __future__ import annotations

import enum
import re
import zlib

from pydantic import Field, StrictBool, StrictInt, field_validator, model_validator

from envs.alarms import LOAD_BALANCER_ALARMS, ServiceAlarmsConfig
from envs.common import (
    KMS_KEY_ARN,
    SecretSource,
    Strict,
    check_log_retention,
    check_name,
    check_secret_arn,
    check_secret_arns,
    check_variable_names,
    container_user_problem,
)
from envs.containers import (
    ContainerDependency,
    SidecarConfig,
    SidecarPreset,
    check_containers,
)
from envs.deployment import DeploymentConfig
from envs.iam import NEGATED_KEYS, action_problems
from envs.queues import QueueConfig
from envs.resources import DestinationConfig, ResourceGrant
from envs.scaling import ScheduledScalingConfig
from envs.service_connect import SERVICE_CONNECT_EXPOSURE, ServiceConnectServiceConfig
from envs.storage import EfsMountConfig
from ops.release_contract import DIGEST as IMAGE_DIGEST
from ops.release_contract import IMAGE_TAG
from ops.run_task_contract import CAPACITY_BASE_MAX, CAPACITY_WEIGHT_MAX

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
IAM_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*]+$")
# ECS service quotas: "Tasks per service" is 5,000 (not adjustable).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html
TASKS_PER_SERVICE_MAX = 5000
# A rolling deployment may run up to twice the desired tasks (the service's
# deployment_maximum_percent, modules/service.py), while old and new tasks overlap.
DEPLOYMENT_MAXIMUM_PERCENT = 200
# CreateService healthCheckGracePeriodSeconds: 0 to 2,147,483,647 (provider:
# internal/service/ecs/service.go, validation.IntBetween(0, math.MaxInt32)).
GRACE_PERIOD_MAX_SECONDS = 2_147_483_647
# Target group matcher for an ALB (HTTP/HTTPS): codes from 200 to 499.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Matcher.html
MATCHER_CODES = (200, 499)
# Listener rule conditions: each value at most 128 characters of visible ASCII (host headers:
# letters, digits, '-', '.', '*', '?'; paths also _ $ / ~ " ' @ : + &), at most 3 values per
# condition, 5 per rule and 5 wildcards per rule.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html
RULE_VALUE_MAX_CHARS = 128
# Listener-rule priorities: 1-50000 per listener, unique
# (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateRule.html).
# A service's production rule sits on a multiple of RULE_PRIORITY_STEP; its deployment test rule
# (traffic-shifting strategies) RULE_PRIORITY_STEP/2 before it; the catch-all of a traffic-shifting
# default-route service takes the last priority.
RULE_PRIORITY_MAX = 50000
RULE_PRIORITY_STEP = 10
CATCH_ALL_PRIORITY = RULE_PRIORITY_MAX
TEST_RULE_OFFSET = RULE_PRIORITY_STEP // 2
RULE_PRIORITY_SLOTS = RULE_PRIORITY_MAX // RULE_PRIORITY_STEP - 1
RULE_VALUES_PER_CONDITION = 3
RULE_VALUES_PER_RULE = 5
RULE_WILDCARDS_PER_RULE = 5
PATH_PATTERN = re.compile(r"[A-Za-z0-9_\-.$/~\"'@:+&*?]+")
HOST_HEADER = re.compile(r"[A-Za-z0-9\-.*?]+")
ECR_PRIVATE_REGISTRY = re.compile(
    r"^\d{12}\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
)


class Exposure(enum.StrEnum):
    """Which load balancer a service sits behind."""

    PUBLIC = "public"
    """Behind the internet-facing ALB."""
    INTERNAL = "internal"
    """Behind the internal ALB, reachable only from the services in `allowed_callers`."""
    SERVICE_CONNECT = SERVICE_CONNECT_EXPOSURE
    """No load balancer: the services (never jobs) in `allowed_callers` reach it through ECS
    Service Connect, task to task (needs the environment's `service_connect` namespace)."""
    NONE = "none"
    """No load balancer (workers)."""

    @property
    def behind_alb(self) -> bool:
        """Whether a load balancer sits in front (public or internal)."""
        return self in (Exposure.PUBLIC, Exposure.INTERNAL)


class CpuArchitecture(enum.StrEnum):
    X86_64 = "X86_64"
    ARM64 = "ARM64"


class ContainerInsights(enum.StrEnum):
    DISABLED = "disabled"
    ENABLED = "enabled"
    ENHANCED = "enhanced"


class CapacityProvider(enum.StrEnum):
    FARGATE = "FARGATE"
    FARGATE_SPOT = "FARGATE_SPOT"


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


class HealthCheckConfig(Strict):
    """The target group's health check (Elastic Load Balancing limits apply)."""

    path: str = "/health"
    """Path the ALB requests on each task."""
    matcher: str = "200-399"
    """HTTP codes that count as healthy: '200', '200,204' or '200-399'."""
    interval_seconds: StrictInt = 15
    """Seconds between checks (5-300)."""
    timeout_seconds: StrictInt = 5
    """Seconds to wait for a response (2-120, below the interval)."""
    healthy_threshold: StrictInt = 2
    """Consecutive successes before a task is healthy (2-10)."""
    unhealthy_threshold: StrictInt = 3
    """Consecutive failures before a task is unhealthy (2-10)."""

    @model_validator(mode="after")
    def _limits(self) -> HealthCheckConfig:
        problems = []
        if not self.path.startswith("/") or len(self.path) > 1024:
            problems.append(f"path must start with '/' (max 1024 chars); got {self.path!r}")
        low, high = MATCHER_CODES
        if not re.fullmatch(r"\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*", self.matcher):
            problems.append(
                f"matcher must look like '200', '200,204' or '200-399'; got {self.matcher!r}"
            )
        elif not all(low <= int(code) <= high for code in re.split(r"[,-]", self.matcher)) or any(
            int(a) > int(b) for a, b in re.findall(r"(\d{3})-(\d{3})", self.matcher)
        ):
            problems.append(
                f"matcher codes must be {low}-{high} (ranges low-high) for an ALB; "
                f"got {self.matcher!r}"
            )
        if not 5 <= self.interval_seconds <= 300:
            problems.append(f"interval_seconds must be 5-300; got {self.interval_seconds}")
        if not 2 <= self.timeout_seconds <= 120:
            problems.append(f"timeout_seconds must be 2-120; got {self.timeout_seconds}")
        elif self.timeout_seconds >= self.interval_seconds:
            problems.append(
                f"timeout_seconds ({self.timeout_seconds}) must be less than interval_seconds "
                f"({self.interval_seconds})"
            )
        for field in ("healthy_threshold", "unhealthy_threshold"):
            if not 2 <= getattr(self, field) <= 10:
                problems.append(f"{field} must be 2-10; got {getattr(self, field)}")
        if problems:
            raise ValueError("health_check: " + "; ".join(problems))
        return self


class ContainerHealthCheckConfig(Strict):
    """The container's own health check (Docker HEALTHCHECK semantics, run by ECS)."""

    command: tuple[str, ...]
    """e.g. ["CMD-SHELL", "wget -qO- http://localhost:8080/health || exit 1"]."""
    interval_seconds: StrictInt = 30
    """Seconds between checks (5-300)."""
    timeout_seconds: StrictInt = 5
    """Seconds before a check counts as failed (2-60)."""
    retries: StrictInt = 3
    """Failures before the container is unhealthy (1-10)."""
    start_period_seconds: StrictInt = 30
    """Grace period before failures count (0-300)."""

    @model_validator(mode="after")
    def _limits(self) -> ContainerHealthCheckConfig:
        problems = []
        if not self.command or self.command[0] not in ("CMD", "CMD-SHELL"):
            problems.append("command must start with 'CMD' or 'CMD-SHELL'")
        if not 5 <= self.interval_seconds <= 300:
            problems.append(f"interval_seconds must be 5-300; got {self.interval_seconds}")
        if not 2 <= self.timeout_seconds <= 60:
            problems.append(f"timeout_seconds must be 2-60; got {self.timeout_seconds}")
        if not 1 <= self.retries <= 10:
            problems.append(f"retries must be 1-10; got {self.retries}")
        if not 0 <= self.start_period_seconds <= 300:
            problems.append(f"start_period_seconds must be 0-300; got {self.start_period_seconds}")
        if problems:
            raise ValueError("container_health_check: " + "; ".join(problems))
        return self


# SidecarConfig (envs/containers.py) refers to ContainerHealthCheckConfig, defined above.
SidecarConfig.model_rebuild(
    _types_namespace={"ContainerHealthCheckConfig": ContainerHealthCheckConfig}
)


class AutoscalingConfig(Strict):
    """Target tracking on CPU, memory and optionally ALB requests per target."""

    min_capacity: StrictInt = 1
    """Fewest tasks the autoscaler keeps."""
    max_capacity: StrictInt = 4
    """Most tasks the autoscaler starts."""
    cpu_target_percent: StrictInt | None = 60
    """Average CPU utilisation to hold; null: no CPU policy."""
    memory_target_percent: StrictInt | None = 75
    """Average memory utilisation to hold; null: no memory policy."""
    requests_per_target: StrictInt | None = None
    """ALB requests per target per minute to aim for (services behind an ALB only)."""
    scale_in_cooldown_seconds: StrictInt = 300
    """Seconds between scale-in steps."""
    scale_out_cooldown_seconds: StrictInt = 60
    """Seconds between scale-out steps."""
    schedules: tuple[ScheduledScalingConfig, ...] = ()
    """Scheduled changes of min/max capacity, next to target tracking."""

    @model_validator(mode="after")
    def _bounds(self) -> AutoscalingConfig:
        problems = []
        if self.min_capacity < 0:
            problems.append(f"min_capacity must be >= 0; got {self.min_capacity}")
        if self.max_capacity < max(self.min_capacity, 1):
            problems.append(
                f"max_capacity ({self.max_capacity}) must be >= min_capacity "
                f"({self.min_capacity}) and >= 1"
            )
        for field in ("cpu_target_percent", "memory_target_percent"):
            value = getattr(self, field)
            if value is not None and not 1 <= value <= 100:
                problems.append(f"{field} must be 1-100; got {value}")
        if self.requests_per_target is not None and self.requests_per_target < 1:
            problems.append(f"requests_per_target must be >= 1; got {self.requests_per_target}")
        if (self.cpu_target_percent, self.memory_target_percent, self.requests_per_target) == (
            None,
            None,
            None,
        ):
            problems.append(
                "set at least one of cpu_target_percent, memory_target_percent, requests_per_target"
            )
        names = [schedule.name for schedule in self.schedules]
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"schedules: name {name!r} is used more than once")
        if problems:
            raise ValueError("autoscaling: " + "; ".join(problems))
        return self


class PolicyStatement(Strict):
    """An extra IAM statement for a task role: specific actions on named resources.

    Wildcards in actions, NotAction/NotResource, and `resources: ["*"]` (except for the
    actions in envs/iam.py `RESOURCE_STAR_ACTIONS`) are refused."""

    actions: tuple[str, ...]
    """Specific IAM actions, e.g. 's3:GetObject' (no '*' or '?' anywhere)."""
    resources: tuple[str, ...]
    """Resource ARNs the actions apply to; '*' only for actions AWS cannot scope."""
    effect: str = "Allow"
    """Allow or Deny."""

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
        if self.effect not in ("Allow", "Deny"):
            problems.append(f"effect must be Allow or Deny; got {self.effect!r}")
        if problems:
            raise ValueError("task_role_statements: " + "; ".join(problems))
        return self


class StickinessConfig(Strict):
    """Load-balancer-generated cookie stickiness."""

    duration_seconds: StrictInt = 86400
    """Cookie lifetime (1-604800 seconds)."""

    @field_validator("duration_seconds")
    @classmethod
    def _duration(cls, value: int) -> int:
        if not 1 <= value <= 604800:
            raise ValueError(f"duration_seconds must be 1-604800 (7 days); got {value}")
        return value


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


def caller_url_variable(service: str) -> str:
    """Environment variable a caller receives with the callee's internal URL."""
    return f"{service.upper().replace('-', '_')}_URL"


class ServiceConfig(WorkloadConfig):
    """A long-running ECS service."""

    container_port: StrictInt = 8080
    """Port the container listens on; the target group forwards to it."""
    desired_count: StrictInt = 2
    """Tasks to run; with autoscaling only the initial count (then the autoscaler owns it)."""
    autoscaling: AutoscalingConfig | None = None
    """Target-tracking autoscaling; unset: a fixed `desired_count`."""
    exposure: Exposure = Exposure.INTERNAL
    """`public`: public ALB; `internal`: internal ALB; `service_connect`: reached by its callers
    through ECS Service Connect (no ALB); `none`: no load balancer (workers)."""
    service_connect: ServiceConnectServiceConfig = ServiceConnectServiceConfig()
    """Service Connect name and timeouts (exposure `service_connect` only)."""
    health_check: HealthCheckConfig = HealthCheckConfig()
    """The load balancer's health check of each task."""
    container_health_check: ContainerHealthCheckConfig | None = None
    """The container's own health check; unset: none (the ALB's check still applies)."""
    path_patterns: tuple[str, ...] = ()
    """Listener rule paths (e.g. '/api/*'). Empty with no host_headers: the ALB's default."""
    host_headers: tuple[str, ...] = ()
    """Listener rule host names (e.g. 'api.example.com')."""
    listener_priority: StrictInt | None = None
    """Priority of the service's listener rule (a multiple of 10, 10-49990; the ALB evaluates
    lower first: set it where two services' paths or hosts overlap). Unset: derived from the
    service name, so adding, removing or reordering services never renumbers a rule."""
    deregistration_delay_seconds: StrictInt = 60
    """Seconds the ALB drains a stopping task (AWS default 300 is slow for deploys)."""
    stickiness: StickinessConfig | None = None
    """Load-balancer cookie stickiness; unset: off."""
    health_check_grace_period_seconds: StrictInt = 60
    """Seconds ECS ignores failing ALB health checks after a task starts."""
    enable_execute_command: StrictBool = False
    """Allow `aws ecs execute-command` shells (needs ssmmessages: endpoint or NAT)."""
    allowed_callers: tuple[str, ...] = ()
    """Services and jobs allowed to call this one: through the internal ALB (exposure
    `internal`), or through Service Connect (exposure `service_connect`, services only). Each
    caller gets `<NAME>_URL` in its environment."""
    same_image_as: str | None = None
    """Run the image of this other service instead of `image` (e.g. a worker next to its API);
    both must have the same `cpu_architecture`."""
    command: tuple[str, ...] = ()
    """Replaces the image's CMD (exec form, one string per argument); empty: the image's."""
    queue: QueueConfig | None = None
    """Make this a queue worker: the platform creates an SQS queue it consumes (`QUEUE_URL`)."""
    alarms: ServiceAlarmsConfig = ServiceAlarmsConfig()
    """Alarms on the service and which of them roll a deployment back (ECS deployment
    alarms), next to the circuit breaker."""
    deployment: DeploymentConfig = DeploymentConfig()
    """Deployment strategy: rolling (default), blue_green, linear or canary."""

    @model_validator(mode="after")
    def _service_limits(self) -> ServiceConfig:
        problems = []
        if not 1 <= self.container_port <= 65535:
            problems.append(f"container_port must be 1-65535; got {self.container_port}")
        if not 0 <= self.desired_count <= TASKS_PER_SERVICE_MAX:
            problems.append(
                f"desired_count must be 0-{TASKS_PER_SERVICE_MAX} (ECS tasks per service); "
                f"got {self.desired_count}"
            )
        if self.autoscaling and self.autoscaling.max_capacity > TASKS_PER_SERVICE_MAX:
            problems.append(
                f"autoscaling.max_capacity must be at most {TASKS_PER_SERVICE_MAX} (ECS tasks "
                f"per service); got {self.autoscaling.max_capacity}"
            )
        if not 0 <= self.health_check_grace_period_seconds <= GRACE_PERIOD_MAX_SECONDS:
            problems.append(
                f"health_check_grace_period_seconds must be 0-{GRACE_PERIOD_MAX_SECONDS}; got "
                f"{self.health_check_grace_period_seconds}"
            )
        problems.extend(self._rule_problems())
        highest = RULE_PRIORITY_SLOTS * RULE_PRIORITY_STEP
        priority = self.listener_priority
        if priority is not None and (
            priority % RULE_PRIORITY_STEP or not RULE_PRIORITY_STEP <= priority <= highest
        ):
            problems.append(
                f"listener_priority must be a multiple of {RULE_PRIORITY_STEP} from "
                f"{RULE_PRIORITY_STEP} to {highest} (ALB rule priorities; the deployment test "
                f"rule sits {TEST_RULE_OFFSET} before); got {priority}"
            )
        scaling = self.autoscaling
        if scaling and not scaling.min_capacity <= self.desired_count <= scaling.max_capacity:
            problems.append(
                f"autoscaling: need min_capacity <= desired_count <= max_capacity; got "
                f"{scaling.min_capacity} <= {self.desired_count} <= {scaling.max_capacity}"
            )
        if scaling and scaling.requests_per_target and not self.exposure.behind_alb:
            problems.append(
                "autoscaling.requests_per_target needs a load balancer; the service "
                f"has exposure '{self.exposure}'"
            )
        if not 0 <= self.deregistration_delay_seconds <= 3600:
            problems.append(
                "deregistration_delay_seconds must be 0-3600; got "
                f"{self.deregistration_delay_seconds}"
            )
        if self.allowed_callers and self.exposure not in (
            Exposure.INTERNAL,
            Exposure.SERVICE_CONNECT,
        ):
            problems.append(
                f"allowed_callers {list(self.allowed_callers)} needs exposure 'internal' or "
                "'service_connect' (callers reach it through the internal ALB or Service "
                f"Connect); got exposure '{self.exposure}': set exposure to 'internal' or "
                "remove allowed_callers"
            )
        if self.name in self.allowed_callers:
            problems.append(
                f"allowed_callers lists the service itself ({self.name!r}); a task reaches its "
                "own container on localhost: remove it"
            )
        if self.queue is not None and self.queue.scaling is not None:
            queue_scaling = self.queue.scaling
            if scaling is not None:
                problems.append(
                    "autoscaling: a queue worker scales on its backlog (queue.scaling); remove "
                    "autoscaling or set queue.scaling to null"
                )
            elif not queue_scaling.min_capacity <= self.desired_count <= queue_scaling.max_capacity:
                problems.append(
                    "queue.scaling: need min_capacity <= desired_count <= max_capacity; got "
                    f"{queue_scaling.min_capacity} <= {self.desired_count} <= "
                    f"{queue_scaling.max_capacity}"
                )
        if self.same_image_as is not None and "image" in self.model_fields_set:
            problems.append(
                f"same_image_as: runs {self.same_image_as!r}'s image, so 'image' must not be "
                "set as well; remove one"
            )
        if self.deployment.strategy.shifts_traffic and not self.exposure.behind_alb:
            problems.append(
                f"deployment.strategy: '{self.deployment.strategy}' shifts load balancer traffic "
                "and needs exposure 'public' or 'internal'; use 'rolling' for exposure "
                f"'{self.exposure}'"
            )
        if (
            self.deployment.strategy.shifts_traffic
            and scaling is not None
            and scaling.requests_per_target is not None
        ):
            problems.append(
                f"autoscaling.requests_per_target: with deployment.strategy "
                f"'{self.deployment.strategy}' ECS moves traffic between two target groups and "
                "the request-count policy watches one; scale on cpu/memory instead or deploy "
                "'rolling'"
            )
        if not self.exposure.behind_alb:
            for alarm in self.alarms.rollback_on or ():
                if alarm in LOAD_BALANCER_ALARMS:
                    problems.append(
                        f"alarms.rollback_on: {alarm} watches load balancer metrics and the "
                        f"service has exposure '{self.exposure}'; remove it"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def rule_priority(self) -> int:
        """The listener rule's priority: `listener_priority`, else a stable function of the
        name (CRC-32 onto the RULE_PRIORITY_SLOTS slots), independent of the service's place."""
        if self.listener_priority is not None:
            return self.listener_priority
        slot = zlib.crc32(self.name.encode()) % RULE_PRIORITY_SLOTS
        return RULE_PRIORITY_STEP * (1 + slot)

    def _rule_problems(self) -> list[str]:
        """AWS's limits on the listener rule built from path_patterns and host_headers."""
        problems = []
        for field, values, pattern in (
            ("path_patterns", self.path_patterns, PATH_PATTERN),
            ("host_headers", self.host_headers, HOST_HEADER),
        ):
            if len(values) > RULE_VALUES_PER_CONDITION:
                problems.append(
                    f"{field} has {len(values)} values but an ALB condition takes at most "
                    f"{RULE_VALUES_PER_CONDITION}; split the service or use fewer, wider patterns"
                )
            for value in values:
                if not 1 <= len(value) <= RULE_VALUE_MAX_CHARS or not pattern.fullmatch(value):
                    allowed = (
                        "letters, digits and _-.$/~\"'@:+&*?"
                        if field == "path_patterns"
                        else ("letters, digits and -.*?")
                    )
                    problems.append(
                        f"{field}: {value!r} is not accepted by an ALB: use 1-"
                        f"{RULE_VALUE_MAX_CHARS} characters of {allowed}"
                    )
        values = (*self.path_patterns, *self.host_headers)
        if len(values) > RULE_VALUES_PER_RULE:
            problems.append(
                f"path_patterns/host_headers: {len(values)} values but an ALB rule takes at most "
                f"{RULE_VALUES_PER_RULE} in all; use fewer"
            )
        wildcards = sum(value.count("*") + value.count("?") for value in values)
        if wildcards > RULE_WILDCARDS_PER_RULE:
            problems.append(
                f"path_patterns/host_headers: {wildcards} wildcards ('*', '?') but an ALB rule "
                f"allows at most {RULE_WILDCARDS_PER_RULE}; use fewer"
            )
        return problems

    @property
    def most_tasks(self) -> int:
        """The most tasks the service runs at once, deployments included (old and new tasks
        overlap up to DEPLOYMENT_MAXIMUM_PERCENT)."""
        counts = [self.desired_count]
        if self.autoscaling is not None:
            counts.append(self.autoscaling.max_capacity)
        if self.queue is not None and self.queue.scaling is not None:
            counts.append(self.queue.scaling.max_capacity)
        return max(counts) * DEPLOYMENT_MAXIMUM_PERCENT // 100

    @property
    def ignores_desired_count(self) -> bool:
        return self.autoscaling is not None or (
            self.queue is not None and self.queue.scaling is not None
        )


class CapacityProviderShare(Strict):
    capacity_provider: CapacityProvider
    """FARGATE (on-demand) or FARGATE_SPOT (up to 70% cheaper, may be interrupted)."""
    weight: StrictInt = 1
    """Relative share of tasks beyond the base (0-1000)."""
    base: StrictInt = 0
    """Tasks placed on this provider first (0-100000; at most one provider may have a base)."""

    @model_validator(mode="after")
    def _limits(self) -> CapacityProviderShare:
        problems = []
        if not 0 <= self.weight <= CAPACITY_WEIGHT_MAX:
            problems.append(f"weight must be 0-{CAPACITY_WEIGHT_MAX}; got {self.weight}")
        if not 0 <= self.base <= CAPACITY_BASE_MAX:
            problems.append(f"base must be 0-{CAPACITY_BASE_MAX}; got {self.base}")
        if problems:
            raise ValueError(f"{self.capacity_provider}: " + "; ".join(problems))
        return self


class EcrConfig(Strict):
    """ECR repositories for project-built images."""

    immutable_tags: StrictBool = False
    """Refuse pushing a tag that already exists (recommended for prod)."""
    keep_last_images: StrictInt = 20
    """Lifecycle policy: expire all but the newest N images."""
    force_delete: StrictBool = True
    """Allow `terraform destroy` to delete repositories that still hold images."""

    @field_validator("keep_last_images")
    @classmethod
    def _keep(cls, value: int) -> int:
        if not 1 <= value <= 1000:
            raise ValueError(f"keep_last_images must be 1-1000; got {value}")
        return value


class EcsConfig(Strict):
    """Cluster-wide settings."""

    capacity_provider_strategy: tuple[CapacityProviderShare, ...] = (
        CapacityProviderShare(capacity_provider=CapacityProvider.FARGATE, weight=1, base=1),
    )
    """Default strategy for services, jobs and schedules (default: FARGATE only, base 1)."""
    container_insights: ContainerInsights = ContainerInsights.ENABLED
    """CloudWatch Container Insights: disabled, enabled or enhanced."""
    log_retention_days: StrictInt = 30
    """Retention of service, job and ECS Exec log groups (a CloudWatch Logs value)."""
    ecr: EcrConfig = EcrConfig()
    """ECR repositories for project-built images."""

    @field_validator("capacity_provider_strategy")
    @classmethod
    def _strategy(
        cls, value: tuple[CapacityProviderShare, ...]
    ) -> tuple[CapacityProviderShare, ...]:
        providers = [share.capacity_provider for share in value]
        if not value or len(set(providers)) != len(providers):
            raise ValueError("list each capacity provider at most once, at least one")
        if sum(1 for share in value if share.base > 0) > 1:
            raise ValueError("only one capacity provider may have a base > 0")
        if all(share.weight == 0 for share in value):
            raise ValueError("at least one capacity provider needs weight > 0")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return check_log_retention(value)
