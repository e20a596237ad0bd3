"""Long-running services: exposure, health checks, listener rules, autoscaling."""

from __future__ import annotations

import enum
import re
import zlib
from typing import Annotated

from pydantic import StrictBool, StrictInt, model_validator

from envs.schema.alarms import LOAD_BALANCER_ALARMS, ServiceAlarmsConfig
from envs.schema.common import (
    Port,
    Strict,
    between,
)
from envs.schema.containers import ContainerHealthCheckConfig
from envs.schema.deployment import DeploymentConfig
from envs.schema.queues import QueueConfig
from envs.schema.scaling import ScheduledScalingConfig
from envs.schema.service_connect import SERVICE_CONNECT_EXPOSURE, ServiceConnectServiceConfig
from envs.schema.workload import WorkloadConfig

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


class HealthCheckConfig(Strict):
    """The target group's health check (Elastic Load Balancing limits apply)."""

    path: str = "/health"
    """Path the ALB requests on each task."""
    matcher: str = "200-399"
    """HTTP codes that count as healthy: '200', '200,204' or '200-399'."""
    # Limits: HealthCheck* in
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
    interval_seconds: Annotated[StrictInt, between(5, 300)] = 15
    """Seconds between checks."""
    timeout_seconds: Annotated[StrictInt, between(2, 120)] = 5
    """Seconds to wait for a response (below the interval)."""
    healthy_threshold: Annotated[StrictInt, between(2, 10)] = 2
    """Consecutive successes before a task is healthy."""
    unhealthy_threshold: Annotated[StrictInt, between(2, 10)] = 3
    """Consecutive failures before a task is unhealthy."""

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
        if self.timeout_seconds >= self.interval_seconds:
            problems.append(
                f"timeout_seconds ({self.timeout_seconds}) must be less than interval_seconds "
                f"({self.interval_seconds})"
            )
        if problems:
            raise ValueError("health_check: " + "; ".join(problems))
        return self


class AutoscalingConfig(Strict):
    """Target tracking on CPU, memory and optionally ALB requests per target."""

    min_capacity: StrictInt = 1
    """Fewest tasks the autoscaler keeps."""
    max_capacity: StrictInt = 4
    """Most tasks the autoscaler starts."""
    cpu_target_percent: Annotated[StrictInt, between(1, 100)] | None = 60
    """Average CPU utilisation to hold; null: no CPU policy."""
    memory_target_percent: Annotated[StrictInt, between(1, 100)] | None = 75
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


class StickinessConfig(Strict):
    """Load-balancer-generated cookie stickiness."""

    # Limit (7 days): stickiness.lb_cookie.duration_seconds in
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html
    duration_seconds: Annotated[StrictInt, between(1, 604800)] = 86400
    """Cookie lifetime in seconds."""


def caller_url_variable(service: str) -> str:
    """Environment variable a caller receives with the callee's internal URL."""
    return f"{service.upper().replace('-', '_')}_URL"


class ServiceConfig(WorkloadConfig):
    """A long-running ECS service."""

    container_port: Port = 8080
    """Port the container listens on; the target group forwards to it."""
    desired_count: Annotated[StrictInt, between(0, TASKS_PER_SERVICE_MAX)] = 2
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
    # Limit: deregistration_delay.timeout_seconds in
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html
    deregistration_delay_seconds: Annotated[StrictInt, between(0, 3600)] = 60
    """Seconds the ALB drains a stopping task (AWS default 300 is slow for deploys)."""
    stickiness: StickinessConfig | None = None
    """Load-balancer cookie stickiness; unset: off."""
    health_check_grace_period_seconds: Annotated[
        StrictInt, between(0, GRACE_PERIOD_MAX_SECONDS)
    ] = 60
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
        if self.autoscaling and self.autoscaling.max_capacity > TASKS_PER_SERVICE_MAX:
            problems.append(
                f"autoscaling.max_capacity must be at most {TASKS_PER_SERVICE_MAX} (ECS tasks "
                f"per service); got {self.autoscaling.max_capacity}"
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
        routing = {
            "path_patterns": self.path_patterns,
            "host_headers": self.host_headers,
            "listener_priority": self.listener_priority,
        }
        unused = [field for field, value in routing.items() if value not in ((), None)]
        if unused and not self.exposure.behind_alb:
            problems.append(
                f"{'/'.join(unused)}: listener rule settings, but exposure "
                f"'{self.exposure}' has no load balancer; remove them or set exposure to "
                "'public' or 'internal'"
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
