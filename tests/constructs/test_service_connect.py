"""Service Connect: the namespace, who publishes and who is a client, which security group
admits which caller on which port, which log group, which URL each caller gets; plus EFS, a
database and a three-container task on the same service (the `connect` variant)."""

from __future__ import annotations

from typing import Any

import pytest

from envs import ConfigError, merge
from envs.schema.service_connect import INSTANCES_PER_SERVICE_MAX
from tests.example_envs import build_example
from tests.example_envs.dev import OVERRIDES as DEV
from tests.tf import by_path, container_definitions, only, ref, resources, rule_set, where
from tests.variants import DB_GROUP, SIDECAR_IMAGE

Json = dict[str, Any]
PREFIX = "fargate-connect"


@pytest.fixture(scope="module")
def stack(synthesized: dict[str, Json]) -> Json:
    return synthesized["connect"]


def service(stack: Json, name: str) -> Json:
    (body,) = where(stack, "aws_ecs_service", name=f"{PREFIX}-{name}").values()
    return body


def containers(stack: Json, name: str) -> dict[str, Json]:
    (task,) = where(stack, "aws_ecs_task_definition", family=f"{PREFIX}-{name}").values()
    return {c["name"]: c for c in container_definitions(task)}


def environment(container: Json) -> dict[str, str]:
    return {v["name"]: v["value"] for v in container["environment"]}


def test_namespace_is_the_clusters_default_and_every_participants(stack: Json) -> None:
    name, namespace = only(stack, "aws_service_discovery_http_namespace")
    assert namespace["name"] == "shop.internal"
    arn = ref("aws_service_discovery_http_namespace", name, "arn")
    (cluster,) = resources(stack, "aws_ecs_cluster").values()
    assert cluster["service_connect_defaults"] == {"namespace": arn}
    for participant in ("backend", "frontend", "worker"):
        assert service(stack, participant)["service_connect_configuration"]["namespace"] == arn


def test_backend_is_published_under_its_discovery_name_on_its_named_port(stack: Json) -> None:
    config = service(stack, "backend")["service_connect_configuration"]
    assert config["enabled"] is True
    assert config["service"] == [
        {
            "port_name": "http",
            "discovery_name": "orders-api",
            "client_alias": {"dns_name": "orders-api", "port": 8080},
            "timeout": {"per_request_timeout_seconds": 30},
        }
    ]
    (mapping,) = containers(stack, "backend")["backend"]["portMappings"]
    assert mapping == {
        "containerPort": 8080,
        "protocol": "tcp",
        "name": "http",
        "appProtocol": "http",
    }
    # No load balancer in front: no target group, no health check grace period.
    assert "load_balancer" not in service(stack, "backend")
    assert where(stack, "aws_lb_target_group", name=f"{PREFIX}-backend") == {}


def test_callers_are_client_only(stack: Json) -> None:
    for caller in ("frontend", "worker"):
        config = service(stack, caller)["service_connect_configuration"]
        assert config["enabled"] is True
        assert "service" not in config, caller


def test_each_proxy_logs_to_its_own_kms_encrypted_group(stack: Json) -> None:
    (key_name,) = (
        name
        for name, body in resources(stack, "aws_kms_key").items()
        if body["//"]["metadata"]["path"].endswith("logs-key/key")
    )
    for name in ("backend", "frontend", "worker"):
        group_name = f"/ecs/{PREFIX}/{name}/service-connect"
        ((logical, group),) = where(stack, "aws_cloudwatch_log_group", name=group_name).items()
        assert group["kms_key_id"] == ref("aws_kms_key", key_name, "arn")
        logs = service(stack, name)["service_connect_configuration"]["log_configuration"]
        assert logs["log_driver"] == "awslogs"
        assert logs["options"]["awslogs-group"] == ref("aws_cloudwatch_log_group", logical, "name")


def test_callers_get_the_service_connect_url(stack: Json) -> None:
    url = "http://orders-api:8080"
    assert environment(containers(stack, "frontend")["frontend"])["BACKEND_URL"] == url
    assert environment(containers(stack, "worker")["worker"])["BACKEND_URL"] == url
    assert "BACKEND_URL" not in environment(containers(stack, "backend")["backend"])


def test_backend_admits_exactly_its_callers_on_its_port_and_no_internal_alb(stack: Json) -> None:
    backend = f"{PREFIX}-backend-tasks"
    ingress = {r for r in rule_set(stack, "ingress") if r[0] == backend}
    assert ingress == {
        (backend, f"{PREFIX}-frontend-tasks", 8080),
        (backend, f"{PREFIX}-worker-tasks", 8080),
    }
    egress = rule_set(stack, "egress")
    assert (f"{PREFIX}-frontend-tasks", backend, 8080) in egress
    assert (f"{PREFIX}-worker-tasks", backend, 8080) in egress
    # The only load balancer is the public one; no rule mentions an internal ALB.
    assert [lb["name"] for lb in resources(stack, "aws_lb").values()] == [f"{PREFIX}-public"]
    assert not any("internal-alb" in peer for _, peer, _ in rule_set(stack, "ingress"))


def test_database_egress_and_both_ends_of_the_rule(stack: Json) -> None:
    backend = f"{PREFIX}-backend-tasks"
    assert (backend, DB_GROUP, 5432) in rule_set(stack, "egress")
    assert (DB_GROUP, backend, 5432) in rule_set(stack, "ingress")


def test_efs_mount_is_reached_from_the_backend_only(stack: Json) -> None:
    efs = f"{PREFIX}-reports-efs"
    assert {r for r in rule_set(stack, "ingress") if r[0] == efs} == {
        (efs, f"{PREFIX}-backend-tasks", 2049)
    }
    (mount,) = (
        m
        for m in containers(stack, "backend")["backend"]["mountPoints"]
        if m["containerPath"] == "/reports"
    )
    (task,) = where(stack, "aws_ecs_task_definition", family=f"{PREFIX}-backend").values()
    (volume,) = (v for v in task["volume"] if v["name"] == mount["sourceVolume"])
    access_point, _ = by_path(stack, "aws_efs_access_point", "efs-reports/access-point-backend-0")
    assert volume["efs_volume_configuration"]["authorization_config"]["access_point_id"] == ref(
        "aws_efs_access_point", access_point
    )


def test_three_containers_and_the_sidecar_on_the_backends_image(stack: Json) -> None:
    found = containers(stack, "backend")
    assert set(found) == {"backend", "cron", "shipper"}
    assert found["shipper"]["image"] == SIDECAR_IMAGE
    assert found["cron"]["image"] == found["backend"]["image"]
    assert found["cron"]["command"] == ["python", "manage.py", "cron"]


def test_job_caller_reaches_the_internal_alb_and_gets_its_url(synthesized: dict[str, Json]) -> None:
    """A job may call an internal service (jobs cannot use Service Connect): its group reaches
    the internal ALB's listener and it gets the URL."""
    shop = synthesized["https-shop"]
    internal = "fargate-https-shop-internal-alb"
    job = "fargate-https-shop-admin-report-tasks"
    assert (internal, job, 443) in rule_set(shop, "ingress")
    assert (job, internal, 443) in rule_set(shop, "egress")
    (task,) = where(
        shop, "aws_ecs_task_definition", family="fargate-https-shop-admin-report"
    ).values()
    (main, *_) = container_definitions(task)
    assert environment(main)["API_URL"].startswith("https://")


def rejected(overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        build_example(merge(DEV, overrides), source="envs/dev.py")
    return caught.value.render()


def test_a_job_cannot_be_a_service_connect_client() -> None:
    message = rejected(
        {
            "service_connect": {},
            "services": {
                "backend": {"exposure": "service_connect", "allowed_callers": ["migrate"]}
            },
        }
    )
    assert "services.backend.allowed_callers: 'migrate' is a job" in message
    assert "keep exposure 'internal' for a service jobs call" in message


def test_service_connect_needs_the_namespace() -> None:
    message = rejected({"services": {"backend": {"exposure": "service_connect"}}})
    assert "services.backend.exposure: 'service_connect' needs the environment's Cloud Map" in (
        message
    )


def test_instances_per_service_is_a_fixed_cloud_map_limit() -> None:
    most = INSTANCES_PER_SERVICE_MAX // 2
    ok = {
        "service_connect": {},
        "services": {
            "backend": {
                "exposure": "service_connect",
                "autoscaling": {"min_capacity": 1, "max_capacity": most},
            }
        },
    }
    build_example(merge(DEV, ok), source="envs/dev.py")
    over = merge(ok, {"services": {"backend": {"autoscaling": {"max_capacity": most + 1}}}})
    message = rejected(over)
    assert f"may run {2 * (most + 1)} tasks during a deployment" in message
    assert f"Cloud Map allows {INSTANCES_PER_SERVICE_MAX} per service" in message
