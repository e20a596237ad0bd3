"""The containers of a task beside the main one: sidecars and the built-in presets.

`TaskContainers` turns a workload's `sidecars` and `sidecar_presets` into container
definitions (and the log group and task-role statements the presets need), and puts the
task's containers in one canonical order, so a plan never shows a reordering diff:
the main container first, then the presets in `SidecarPreset` order, then the sidecars
sorted by name; lists inside a container (environment, secrets, dependsOn) are sorted too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from constructs import Construct

from envs.schema.containers import (
    OTLP_PORTS,
    PRESET_CONTAINER,
    PRESET_MEMORY_RESERVATION_MIB,
    ContainerHealthCheckConfig,
    DependencyCondition,
    SidecarConfig,
    SidecarPreset,
)
from envs.schema.workload import WorkloadConfig
from modules.aws import cloudwatch_log_group
from modules.kms import LogsKey

# AWS for Fluent Bit, the FireLens log router AWS publishes; `stable` is the tag AWS
# recommends for production (https://github.com/aws/aws-for-fluent-bit#using-the-stable-tag).
FLUENT_BIT_IMAGE = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"
# AWS Distro for OpenTelemetry collector, pinned
# (https://gallery.ecr.aws/aws-observability/aws-otel-collector).
OTEL_COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
# X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions, so
# AWS requires "Resource": "*" for them (Service Authorization Reference, AWS X-Ray:
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html).
XRAY_WRITE_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")
# What Fluent Bit's cloudwatch_logs output and the collector's awsemf exporter call on an
# existing log group (https://docs.fluentbit.io/manual/pipeline/outputs/cloudwatch).
LOG_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
TMP_VOLUME = "tmp"
"""The task volume mounted writable at /tmp when the root filesystem is read-only."""


def _environment(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in sorted(values.items())]


def _secrets(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "valueFrom": v} for k, v in sorted(values.items())]


def _pipeline(exporter: str) -> dict[str, list[str]]:
    return {"receivers": ["otlp"], "processors": ["batch"], "exporters": [exporter]}


def _collector_config(region: str, metrics_log_group: str, workload: str, namespace: str) -> str:
    """The collector's configuration (JSON is YAML): OTLP on localhost in, X-Ray and EMF out."""
    config = {
        "extensions": {"health_check": {}},
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"127.0.0.1:{OTLP_PORTS[0]}"},
                    "http": {"endpoint": f"127.0.0.1:{OTLP_PORTS[1]}"},
                }
            }
        },
        "processors": {"batch": {}},
        "exporters": {
            "awsxray": {"region": region},
            "awsemf": {
                "region": region,
                "log_group_name": metrics_log_group,
                "log_stream_name": f"{workload}/{{TaskId}}",
                "namespace": namespace,
            },
        },
        "service": {
            "extensions": ["health_check"],
            "pipelines": {
                "traces": _pipeline("awsxray"),
                "metrics": _pipeline("awsemf"),
            },
        },
    }
    return json.dumps(config, sort_keys=True)


def health_check_definition(check: ContainerHealthCheckConfig) -> dict[str, Any]:
    """A container definition's `healthCheck` (ECS API names), for main containers and
    sidecars alike."""
    return {
        "command": list(check.command),
        "interval": check.interval_seconds,
        "timeout": check.timeout_seconds,
        "retries": check.retries,
        "startPeriod": check.start_period_seconds,
    }


class TaskContainers(Construct):
    """Sidecar and preset containers of one workload, with what the presets need.

    - `firelens`: a `log-router` container (essential) whose own logs go to the workload's
      log group with awslogs; the main container logs through it (`awsfirelens`, Fluent Bit's
      `cloudwatch_logs` output) into the same KMS-encrypted group. The task role may create
      streams and put events in that group only.
    - `otel-collector`: an `otel-collector` container (essential) receiving OTLP on localhost
      only, exporting traces to X-Ray and metrics as EMF into a log group of its own
      (KMS-encrypted, the environment's retention). The task role may put X-Ray segments and
      telemetry (AWS allows no narrower resource) and write that group only; the main
      container gets `OTEL_EXPORTER_OTLP_ENDPOINT`.
    - sidecars: their own image, command, ports (localhost only: the security group never
      opens them), environment, secrets, health check, start order, cpu/memory and user;
      logs with awslogs into the workload's log group under their container name.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: WorkloadConfig,
        *,
        region: str,
        prefix: str,
        log_group: cloudwatch_log_group.CloudwatchLogGroup,
        log_retention_days: int,
        logs_key: LogsKey,
        images: Mapping[str, str],
    ) -> None:
        super().__init__(scope, id_)
        self.config = config
        self.region = region
        self.log_group = log_group
        self.images = dict(images)
        """Sidecar name -> image reference (resolved by the stack for `same_image_as`)."""
        self.presets = tuple(p for p in SidecarPreset if p in config.sidecar_presets)
        self.task_statements: list[dict[str, Any]] = []
        """Task-role statements the presets need (empty without presets)."""
        self.metrics_log_group: cloudwatch_log_group.CloudwatchLogGroup | None = None
        self.writable_paths: dict[str, str] = {}
        if SidecarPreset.FIRELENS in self.presets:
            self.task_statements.append(
                {
                    "Sid": "FireLensWritesWorkloadLogs",
                    "Effect": "Allow",
                    "Action": list(LOG_WRITE_ACTIONS),
                    "Resource": f"{log_group.arn}:*",
                }
            )
        if SidecarPreset.OTEL_COLLECTOR in self.presets:
            self.metrics_log_group = cloudwatch_log_group.CloudwatchLogGroup(
                self,
                "metrics-logs",
                name=f"/ecs/{prefix}/{config.name}/metrics",
                retention_in_days=log_retention_days,
                kms_key_id=logs_key.arn,
            )
            self.metrics_namespace = f"{prefix}/{config.name}"
            self.task_statements += [
                {
                    "Sid": "OtelCollectorTraces",
                    "Effect": "Allow",
                    "Action": list(XRAY_WRITE_ACTIONS),
                    "Resource": "*",
                },
                {
                    "Sid": "OtelCollectorMetrics",
                    "Effect": "Allow",
                    "Action": list(LOG_WRITE_ACTIONS),
                    "Resource": f"{self.metrics_log_group.arn}:*",
                },
            ]

    def _awslogs(self, stream_prefix: str) -> dict[str, Any]:
        return {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": self.log_group.name,
                "awslogs-region": self.region,
                "awslogs-stream-prefix": stream_prefix,
            },
        }

    def _filesystem(self, container: dict[str, Any]) -> None:
        """The workload's root-filesystem setting, with the task's writable paths mounted
        (/tmp, and the ECS Exec agent's paths when exec is on: every container gets the agent)."""
        container["readonlyRootFilesystem"] = self.config.readonly_root_filesystem
        if self.writable_paths:
            container["mountPoints"] = [
                {"sourceVolume": volume, "containerPath": path, "readOnly": False}
                for volume, path in self.writable_paths.items()
            ]

    def _preset(self, preset: SidecarPreset) -> dict[str, Any]:
        container: dict[str, Any] = {
            "name": PRESET_CONTAINER[preset],
            "essential": True,
            "memoryReservation": PRESET_MEMORY_RESERVATION_MIB[preset],
            "logConfiguration": self._awslogs(self.config.name),
        }
        if preset is SidecarPreset.FIRELENS:
            container["image"] = FLUENT_BIT_IMAGE
            container["firelensConfiguration"] = {
                "type": "fluentbit",
                "options": {"enable-ecs-log-metadata": "true"},
            }
        else:
            assert self.metrics_log_group is not None
            container["image"] = OTEL_COLLECTOR_IMAGE
            container["environment"] = _environment(
                {
                    "AOT_CONFIG_CONTENT": _collector_config(
                        self.region,
                        self.metrics_log_group.name,
                        self.config.name,
                        self.metrics_namespace,
                    )
                }
            )
        self._filesystem(container)
        return container

    def _sidecar(self, name: str, sidecar: SidecarConfig) -> dict[str, Any]:
        container: dict[str, Any] = {
            "name": name,
            "image": self.images[name],
            "essential": sidecar.essential,
            "environment": _environment(sidecar.environment),
            "secrets": _secrets(sidecar.secrets),
            "logConfiguration": self._awslogs(self.config.name),
            "cpu": sidecar.cpu,
        }
        self._filesystem(container)
        if sidecar.entrypoint:
            container["entryPoint"] = list(sidecar.entrypoint)
        if sidecar.command:
            container["command"] = list(sidecar.command)
        if sidecar.ports:
            container["portMappings"] = [
                {"containerPort": port, "protocol": "tcp"} for port in sorted(sidecar.ports)
            ]
        if sidecar.health_check is not None:
            container["healthCheck"] = health_check_definition(sidecar.health_check)
        if sidecar.depends_on:
            container["dependsOn"] = sorted(
                (
                    {"containerName": d.container, "condition": d.condition.value}
                    for d in sidecar.depends_on
                ),
                key=lambda d: d["containerName"],
            )
        if sidecar.memory_reservation_mib is not None:
            container["memoryReservation"] = sidecar.memory_reservation_mib
        if sidecar.memory_mib is not None:
            container["memory"] = sidecar.memory_mib
        if sidecar.user is not None:
            container["user"] = sidecar.user
        return container

    def main_environment(self) -> dict[str, str]:
        """Variables the presets give the main container."""
        if SidecarPreset.OTEL_COLLECTOR in self.presets:
            return {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{OTLP_PORTS[1]}"}
        return {}

    def definitions(
        self, main: dict[str, Any], *, writable_paths: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """Every container of the task in canonical order; routes the main container's logs
        through FireLens and makes it wait for the presets and its `depends_on`.
        `writable_paths` (task volume -> path) are mounted in every extra container too."""
        self.writable_paths = dict(writable_paths)
        main = dict(main)
        if SidecarPreset.FIRELENS in self.presets:
            options = main["logConfiguration"]["options"]
            main["logConfiguration"] = {
                "logDriver": "awsfirelens",
                "options": {
                    "Name": "cloudwatch_logs",
                    "region": self.region,
                    "log_group_name": options["awslogs-group"],
                    "log_stream_prefix": f"{options['awslogs-stream-prefix']}/",
                    "auto_create_group": "false",
                },
            }
        waits = {PRESET_CONTAINER[p]: DependencyCondition.START for p in self.presets}
        waits |= {d.container: d.condition for d in self.config.depends_on}
        if waits:
            main["dependsOn"] = [
                {"containerName": name, "condition": condition.value}
                for name, condition in sorted(waits.items())
            ]
        presets = [self._preset(p) for p in self.presets]
        sidecars = [self._sidecar(n, s) for n, s in sorted(self.config.sidecars.items())]
        return [main, *presets, *sidecars]
