"""Sidecars and presets: which container, which log group, which role, in which order."""

from __future__ import annotations

import json
from typing import Any

import pytest

from envs import DEFAULT_ENVIRONMENTS
from tests.tf import by_path, container_definitions, ref, resources, rule_set, where
from tests.variants import NGINX, SM_SECRET

Json = dict[str, Any]


def task_definition(stack: Json, name: str) -> Json:
    return by_path(stack, "aws_ecs_task_definition", f"service-{name}/workload/task-definition")[1]


def role_policies(stack: Json, name: str, kind: str) -> list[Json]:
    role, _ = by_path(stack, "aws_iam_role", f"service-{name}/workload/{kind}-role")
    return [
        statement
        for body in where(stack, "aws_iam_role_policy", role=ref("aws_iam_role", role)).values()
        for statement in json.loads(body["policy"])["Statement"]
    ]


@pytest.fixture(scope="module")
def shop(synthesized: dict[str, Json]) -> Json:
    return synthesized["sidecars"]


@pytest.fixture(scope="module")
def containers(shop: Json) -> dict[str, Json]:
    return {c["name"]: c for c in container_definitions(task_definition(shop, "backend"))}


def test_containers_come_in_canonical_order(shop: Json) -> None:
    """Main first, presets in preset order (config said otel first), sidecars by name."""
    names = [c["name"] for c in container_definitions(task_definition(shop, "backend"))]
    assert names == ["backend", "log-router", "otel-collector", "proxy", "warmup"]


def test_main_container_logs_through_firelens_into_the_kms_encrypted_group(
    shop: Json, containers: dict[str, Json]
) -> None:
    group_name, group = by_path(shop, "aws_cloudwatch_log_group", "service-backend/workload/logs")
    key_name, _ = by_path(shop, "aws_kms_key", "logs-key/key")
    assert group["kms_key_id"] == ref("aws_kms_key", key_name, "arn")
    main = containers["backend"]
    assert main["logConfiguration"] == {
        "logDriver": "awsfirelens",
        "options": {
            "Name": "cloudwatch_logs",
            "region": "ap-northeast-1",
            "log_group_name": ref("aws_cloudwatch_log_group", group_name, "name"),
            "log_stream_prefix": "backend/",
            "auto_create_group": "false",
        },
    }
    router = containers["log-router"]
    assert router["firelensConfiguration"]["type"] == "fluentbit"
    assert router["essential"] is True
    assert router["image"].startswith("public.ecr.aws/aws-observability/aws-for-fluent-bit:")
    assert router["logConfiguration"]["logDriver"] == "awslogs"
    assert router["logConfiguration"]["options"]["awslogs-group"] == ref(
        "aws_cloudwatch_log_group", group_name, "name"
    )
    (statement,) = [
        s
        for s in role_policies(shop, "backend", "task")
        if s["Sid"] == "FireLensWritesWorkloadLogs"
    ]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == ref("aws_cloudwatch_log_group", group_name, "arn") + ":*"


def test_otel_collector_exports_to_xray_and_its_own_metrics_group(
    shop: Json, containers: dict[str, Json]
) -> None:
    metrics_name, metrics = by_path(
        shop, "aws_cloudwatch_log_group", "service-backend/workload/containers/metrics-logs"
    )
    key_name, _ = by_path(shop, "aws_kms_key", "logs-key/key")
    assert metrics["name"] == "/ecs/fargate-sidecars/backend/metrics"
    assert metrics["kms_key_id"] == ref("aws_kms_key", key_name, "arn")
    assert metrics["retention_in_days"] == 14  # dev's log_retention_days
    collector = containers["otel-collector"]
    assert collector["essential"] is True
    assert collector["image"].startswith("public.ecr.aws/aws-observability/aws-otel-collector:v")
    (variable,) = collector["environment"]
    assert variable["name"] == "AOT_CONFIG_CONTENT"
    config = json.loads(variable["value"])
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "127.0.0.1:4317"
    assert config["exporters"]["awsxray"] == {"region": "ap-northeast-1"}
    assert config["exporters"]["awsemf"]["log_group_name"] == ref(
        "aws_cloudwatch_log_group", metrics_name, "name"
    )
    assert config["service"]["pipelines"]["traces"]["exporters"] == ["awsxray"]
    assert config["service"]["pipelines"]["metrics"]["exporters"] == ["awsemf"]
    main_environment = {e["name"]: e["value"] for e in containers["backend"]["environment"]}
    assert main_environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    statements = {s["Sid"]: s for s in role_policies(shop, "backend", "task")}
    assert statements["OtelCollectorTraces"]["Action"] == [
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    ]
    assert statements["OtelCollectorTraces"]["Resource"] == "*"  # X-Ray has no resource ARNs
    assert statements["OtelCollectorMetrics"]["Action"] == [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ]
    assert statements["OtelCollectorMetrics"]["Resource"] == (
        ref("aws_cloudwatch_log_group", metrics_name, "arn") + ":*"
    )


def test_sidecars_get_their_image_order_size_user_and_secrets(
    shop: Json, containers: dict[str, Json]
) -> None:
    main, proxy, warmup = containers["backend"], containers["proxy"], containers["warmup"]
    assert main["dependsOn"] == [
        {"containerName": "log-router", "condition": "START"},
        {"containerName": "otel-collector", "condition": "START"},
        {"containerName": "warmup", "condition": "SUCCESS"},
    ]
    assert proxy["image"] == NGINX
    assert proxy["portMappings"] == [{"containerPort": 8081, "protocol": "tcp"}]
    assert proxy["dependsOn"] == [{"containerName": "backend", "condition": "HEALTHY"}]
    assert (proxy["essential"], proxy["cpu"], proxy["memoryReservation"], proxy["memory"]) == (
        True,
        128,
        64,
        256,
    )
    assert proxy["user"] == "101:101"
    assert proxy["secrets"] == [{"name": "TLS_KEY", "valueFrom": SM_SECRET}]
    assert proxy["readonlyRootFilesystem"] is True
    assert proxy["mountPoints"][0]["containerPath"] == "/tmp"
    # same_image_as the workload itself: the very image reference of the main container.
    assert warmup["image"] == main["image"]
    assert warmup["command"] == ["python", "manage.py", "warm_cache"]
    assert warmup["essential"] is False
    assert warmup["environment"] == [{"name": "WARM_KEYS", "value": "1000"}]
    # Sidecars log with awslogs into the workload's group, under their own container name.
    assert proxy["logConfiguration"]["options"]["awslogs-stream-prefix"] == "backend"
    # The execution role reads the sidecar's secret.
    (secrets,) = [
        s
        for s in role_policies(shop, "backend", "execution")
        if s["Sid"] == "SecretsManagerSecrets"
    ]
    assert secrets["Resource"] == [SM_SECRET]


def test_sidecar_ports_stay_inside_the_task(shop: Json) -> None:
    """Only the ALB reaches the task, on the main container port: never 8081, 24224, 4317."""
    ingress = {
        rule for rule in rule_set(shop, "ingress") if rule[0] == "fargate-sidecars-backend-tasks"
    }
    assert ingress == {("fargate-sidecars-backend-tasks", "fargate-sidecars-internal-alb", 8080)}


@pytest.mark.invariant
@pytest.mark.parametrize("env", DEFAULT_ENVIRONMENTS)
def test_every_task_fits_its_size_and_names_real_containers(
    synthesized: dict[str, Json], env: str
) -> None:
    for body in resources(synthesized[env], "aws_ecs_task_definition").values():
        definitions = container_definitions(body)
        names = [c["name"] for c in definitions]
        assert len(set(names)) == len(names)
        assert body["family"].endswith("-" + names[0])  # the main container comes first
        sidecars = definitions[1:]
        assert sum(c.get("cpu", 0) for c in sidecars) < int(body["cpu"])
        counted = sum(c.get("memoryReservation") or c.get("memory") or 0 for c in sidecars)
        assert counted < int(body["memory"])
        for container in definitions:
            for dependency in container.get("dependsOn", []):
                assert dependency["containerName"] in names
                assert dependency["containerName"] != container["name"]


@pytest.mark.invariant
@pytest.mark.parametrize("env", DEFAULT_ENVIRONMENTS)
def test_every_otel_collector_has_its_xray_grant(synthesized: dict[str, Json], env: str) -> None:
    stack = synthesized[env]
    for body in resources(stack, "aws_ecs_task_definition").values():
        names = [c["name"] for c in container_definitions(body)]
        statements = [
            s
            for p in where(
                stack, "aws_iam_role_policy", role=body["task_role_arn"].replace(".arn}", ".id}")
            ).values()
            for s in json.loads(p["policy"])["Statement"]
        ]
        has_grant = any(s.get("Sid") == "OtelCollectorTraces" for s in statements)
        assert has_grant == ("otel-collector" in names), body["family"]
