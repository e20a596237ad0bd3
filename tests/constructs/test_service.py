"""ECS: cluster, ECR, log groups, roles, task definitions, services, autoscaling, outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from envs import DEFAULT_ENVIRONMENTS, load_environments
from tests.tf import (
    by_path,
    container_definitions,
    only,
    ref,
    resources,
    shared_workloads_group,
    where,
)
from tests.variants import EXAMPLE, KMS_KEY, ORDERS_TABLE, SM_SECRET, SSM_SECRET, VARIANTS

Json = dict[str, Any]


def service(stack: Json, name: str) -> tuple[str, Json]:
    return by_path(stack, "aws_ecs_service", f"service-{name}/service")


def task_definition(stack: Json, name: str) -> tuple[str, Json]:
    return by_path(stack, "aws_ecs_task_definition", f"service-{name}/workload/task-definition")


def role(stack: Json, name: str, kind: str) -> tuple[str, Json]:
    return by_path(stack, "aws_iam_role", f"service-{name}/workload/{kind}-role")


@pytest.fixture(scope="module")
def dev(synthesized: dict[str, Json]) -> Json:
    """In this module `dev` is the frozen example's dev (tests/variants.py EXAMPLE), where
    exact values are asserted; the user's own dev is covered by the invariant tests."""
    return synthesized[EXAMPLE]


def test_the_example_cluster_is_mostly_spot_with_insights(dev: Json) -> None:
    _, cluster = only(dev, "aws_ecs_cluster")
    assert cluster["name"] == "fargate-example"
    assert cluster["setting"] == [{"name": "containerInsights", "value": "enabled"}]
    _, providers = only(dev, "aws_ecs_cluster_capacity_providers")
    assert providers["default_capacity_provider_strategy"] == [
        {"capacity_provider": "FARGATE_SPOT", "weight": 3, "base": 0},
        {"capacity_provider": "FARGATE", "weight": 1, "base": 0},
    ]


@pytest.mark.invariant
def test_cluster_capacity_providers_and_insights(synthesized: dict[str, Json]) -> None:
    for config in (*load_environments(), VARIANTS[EXAMPLE]):
        env = config.name
        insights = str(config.ecs.container_insights)
        strategy = [
            {"capacity_provider": str(s.capacity_provider), "weight": s.weight, "base": s.base}
            for s in config.ecs.capacity_provider_strategy
        ]
        stack = synthesized[env]
        cluster_name, cluster = only(stack, "aws_ecs_cluster")
        assert cluster["name"] == config.resource_prefix
        assert cluster["setting"] == [{"name": "containerInsights", "value": insights}]
        exec_logs, group = by_path(stack, "aws_cloudwatch_log_group", "ecs/exec-logs")
        key, _ = by_path(stack, "aws_kms_key", "logs-key/key")
        assert cluster["configuration"]["execute_command_configuration"] == {
            "logging": "OVERRIDE",
            "kms_key_id": ref("aws_kms_key", key, "arn"),
            "log_configuration": {
                "cloud_watch_log_group_name": ref("aws_cloudwatch_log_group", exec_logs, "name"),
                "cloud_watch_encryption_enabled": True,
            },
        }
        assert group["kms_key_id"] == ref("aws_kms_key", key, "arn")
        _, providers = only(stack, "aws_ecs_cluster_capacity_providers")
        assert providers["cluster_name"] == ref("aws_ecs_cluster", cluster_name, "name")
        assert providers["capacity_providers"] == ["FARGATE", "FARGATE_SPOT"]
        assert providers["default_capacity_provider_strategy"] == strategy
        services = resources(stack, "aws_ecs_service").values()
        assert len(services) == len(config.services)
        for svc in services:
            assert svc["capacity_provider_strategy"] == strategy


def test_the_example_builds_images_for_backend_and_frontend(dev: Json) -> None:
    repos = resources(dev, "aws_ecr_repository")
    assert sorted(r["name"] for r in repos.values()) == [
        "fargate-example/backend",
        "fargate-example/frontend",
    ]


@pytest.mark.invariant
def test_ecr_repositories_scan_and_keep_last_images(synthesized: dict[str, Json]) -> None:
    for config in (*load_environments(), VARIANTS[EXAMPLE]):
        ecr = config.ecs.ecr
        mutability = "IMMUTABLE" if ecr.immutable_tags else "MUTABLE"
        force_delete, keep = ecr.force_delete, ecr.keep_last_images
        stack = synthesized[config.name]
        repos = resources(stack, "aws_ecr_repository")
        for repo in repos.values():
            assert repo["name"].startswith(config.resource_prefix + "/")
            assert repo["image_scanning_configuration"] == {"scan_on_push": True}
            assert repo["image_tag_mutability"] == mutability
            assert repo["force_delete"] is force_delete
        for policy in resources(stack, "aws_ecr_lifecycle_policy").values():
            (rule,) = json.loads(policy["policy"])["rules"]
            assert rule["selection"]["countNumber"] == keep
            assert rule["action"] == {"type": "expire"}


@pytest.mark.invariant
def test_log_groups_have_the_env_retention(synthesized: dict[str, Json]) -> None:
    for config in (*load_environments(), VARIANTS[EXAMPLE]):
        stack = synthesized[config.name]
        assert config.services, config.name
        for service in config.services:
            _, group = by_path(
                stack, "aws_cloudwatch_log_group", f"service-{service.name}/workload/logs"
            )
            assert group["name"] == f"/ecs/{config.resource_prefix}/{service.name}"
            assert group["retention_in_days"] == config.ecs.log_retention_days


def test_the_example_keeps_logs_14_days(dev: Json) -> None:
    _, group = by_path(dev, "aws_cloudwatch_log_group", "service-backend/workload/logs")
    assert (group["name"], group["retention_in_days"]) == ("/ecs/fargate-example/backend", 14)


def test_task_definition_is_fargate_awsvpc_with_data_built_container(dev: Json) -> None:
    _, task = task_definition(dev, "backend")
    execution, _ = role(dev, "backend", "execution")
    task_role, _ = role(dev, "backend", "task")
    assert task["family"] == "fargate-example-backend"
    assert task["network_mode"] == "awsvpc"
    assert task["requires_compatibilities"] == ["FARGATE"]
    assert (task["cpu"], task["memory"]) == ("512", "1024")
    assert task["execution_role_arn"] == ref("aws_iam_role", execution, "arn")
    assert task["task_role_arn"] == ref("aws_iam_role", task_role, "arn")
    assert task["runtime_platform"] == {
        "operating_system_family": "LINUX",
        "cpu_architecture": "X86_64",
    }
    # ECS Exec is on for dev's backend: the SSM agent gets writable paths on a read-only root.
    assert task["volume"] == [
        {"name": "tmp"},
        {"name": "ssm-agent-state"},
        {"name": "ssm-agent-logs"},
    ]
    (container,) = container_definitions(task)
    repo, _ = by_path(dev, "aws_ecr_repository", "ecr-backend/repository")
    logs, _ = by_path(dev, "aws_cloudwatch_log_group", "service-backend/workload/logs")
    assert container["name"] == "backend"
    assert container["image"] == ref("aws_ecr_repository", repo, "repository_url") + ":latest"
    assert container["portMappings"] == [{"containerPort": 8080, "protocol": "tcp"}]
    assert container["readonlyRootFilesystem"] is True
    assert container["mountPoints"] == [
        {"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False},
        {"sourceVolume": "ssm-agent-state", "containerPath": "/var/lib/amazon", "readOnly": False},
        {"sourceVolume": "ssm-agent-logs", "containerPath": "/var/log/amazon", "readOnly": False},
    ]
    assert container["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": ref("aws_cloudwatch_log_group", logs, "name"),
            "awslogs-region": "ap-northeast-1",
            "awslogs-stream-prefix": "backend",
        },
    }


def test_frontend_gets_backend_url_from_the_internal_alb(dev: Json) -> None:
    internal, _ = by_path(dev, "aws_lb", "internal-alb/lb")
    (frontend,) = container_definitions(task_definition(dev, "frontend")[1])
    urls = [e for e in frontend["environment"] if e["name"].endswith("_URL")]
    assert urls == [{"name": "BACKEND_URL", "value": f"http://${{aws_lb.{internal}.dns_name}}"}]
    (backend,) = container_definitions(task_definition(dev, "backend")[1])
    # backend calls no internal service (its only URL is the queue it produces to).
    assert not [e for e in backend["environment"] if e["value"].startswith("http://")]


def test_secrets_health_check_digest_and_arm(synthesized: dict[str, Json]) -> None:
    stack = synthesized["https-shop"]
    (backend,) = container_definitions(task_definition(stack, "backend")[1])
    assert backend["secrets"] == [
        {"name": "API_KEY", "valueFrom": SM_SECRET},
        {"name": "DB_PASSWORD", "valueFrom": SSM_SECRET},
    ]
    assert backend["healthCheck"] == {
        "command": ["CMD-SHELL", "wget -qO- http://localhost:8080/health || exit 1"],
        "interval": 30,
        "timeout": 5,
        "retries": 3,
        "startPeriod": 30,
    }
    internal, _ = by_path(stack, "aws_lb", "internal-alb/lb")
    (frontend,) = container_definitions(task_definition(stack, "frontend")[1])
    urls = [e for e in frontend["environment"] if e["name"].endswith("_URL")]
    assert urls == [
        {"name": "API_URL", "value": f"https://${{aws_lb.{internal}.dns_name}}"},
        {"name": "BACKEND_URL", "value": f"https://${{aws_lb.{internal}.dns_name}}"},
    ]
    _, admin_task = task_definition(stack, "admin")
    assert admin_task["runtime_platform"]["cpu_architecture"] == "ARM64"
    (admin,) = container_definitions(admin_task)
    assert admin["image"].endswith("@sha256:" + "ab" * 32)
    (worker,) = container_definitions(task_definition(stack, "worker")[1])
    assert worker["image"] == "docker.io/library/busybox:1.36"
    assert "portMappings" not in worker


def policies_of(stack: Json, role_name: str) -> list[Json]:
    return [
        json.loads(p["policy"])
        for p in where(stack, "aws_iam_role_policy", role=ref("aws_iam_role", role_name)).values()
    ]


def test_execution_role_reads_only_its_own_secrets(synthesized: dict[str, Json]) -> None:
    stack = synthesized["https-shop"]
    execution, trust_role = role(stack, "backend", "execution")
    (trust,) = json.loads(trust_role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert set(trust["Condition"]) == {"StringEquals", "ArnLike"}
    attachments = where(
        stack, "aws_iam_role_policy_attachment", role=ref("aws_iam_role", execution, "name")
    )
    assert [a["policy_arn"] for a in attachments.values()] == [
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    ]
    (policy,) = policies_of(stack, execution)
    assert [(s["Action"], s["Resource"]) for s in policy["Statement"]] == [
        (["ssm:GetParameters"], [SSM_SECRET]),
        (["secretsmanager:GetSecretValue"], [SM_SECRET]),
        (["kms:Decrypt"], [KMS_KEY]),
    ]
    # A service without secrets gets only the managed policy.
    frontend_execution, _ = role(stack, "frontend", "execution")
    assert policies_of(stack, frontend_execution) == []


def test_task_role_has_only_configured_statements(synthesized: dict[str, Json]) -> None:
    stack = synthesized["https-shop"]
    task_role, _ = role(stack, "backend", "task")
    application = where(
        stack, "aws_iam_role_policy", role=ref("aws_iam_role", task_role), name="application"
    )
    (policy,) = [json.loads(p["policy"]) for p in application.values()]
    assert policy["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
            "Resource": [ORDERS_TABLE],
        }
    ]
    # The other policies are the platform's own grants (queue, bucket), by name.
    names = {
        p["name"]
        for p in where(stack, "aws_iam_role_policy", role=ref("aws_iam_role", task_role)).values()
    }
    assert names == {"application", "bucket-uploads-write"}
    frontend_task, _ = role(stack, "frontend", "task")
    frontend_names = {
        p["name"]
        for p in where(
            stack, "aws_iam_role_policy", role=ref("aws_iam_role", frontend_task)
        ).values()
    }
    assert frontend_names == {"bucket-uploads-read"}


def test_ecs_exec_adds_only_ssmmessages_and_exec_logging(dev: Json) -> None:
    task_role, _ = role(dev, "backend", "task")
    (policy,) = [
        p
        for p in policies_of(dev, task_role)
        if any(s.get("Sid") == "EcsExecChannels" for s in p["Statement"])
    ]
    actions = sorted(
        a
        for s in policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    assert actions == [
        "kms:Decrypt",
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    ]
    _, svc = service(dev, "backend")
    assert svc["enable_execute_command"] is True
    (container,) = container_definitions(task_definition(dev, "backend")[1])
    assert container["linuxParameters"] == {"initProcessEnabled": True}
    assert service(dev, "frontend")[1]["enable_execute_command"] is False


@pytest.mark.invariant
def test_no_wildcard_actions_anywhere(synthesized: dict[str, Json]) -> None:
    for stack in synthesized.values():
        for policy in resources(stack, "aws_iam_role_policy").values():
            for statement in json.loads(policy["policy"])["Statement"]:
                actions = statement["Action"]
                for action in [actions] if isinstance(actions, str) else actions:
                    assert action != "*" and not action.endswith(":*"), action


def test_service_wiring(dev: Json) -> None:
    _, svc = service(dev, "frontend")
    cluster, _ = only(dev, "aws_ecs_cluster")
    task, _ = task_definition(dev, "frontend")
    tg, _ = by_path(dev, "aws_lb_target_group", "public-alb/tg-frontend")
    sg, _ = by_path(dev, "aws_security_group", "service-frontend/workload/tasks/sg")
    private = sorted(
        ref("aws_subnet", n)
        for n, b in resources(dev, "aws_subnet").items()
        if b["tags"]["Tier"] == "private"
    )
    assert svc["name"] == "fargate-example-frontend"
    assert svc["cluster"] == ref("aws_ecs_cluster", cluster, "arn")
    assert svc["task_definition"] == ref("aws_ecs_task_definition", task, "arn")
    assert svc["network_configuration"] == {
        "subnets": svc["network_configuration"]["subnets"],
        "security_groups": [ref("aws_security_group", sg), shared_workloads_group(dev)],
        "assign_public_ip": False,
    }
    assert sorted(svc["network_configuration"]["subnets"]) == private
    assert svc["load_balancer"] == [
        {
            "target_group_arn": ref("aws_lb_target_group", tg, "arn"),
            "container_name": "frontend",
            "container_port": 3000,
        }
    ]
    assert dev["resource"]["aws_lb_target_group"][tg]["port"] == 3000
    assert svc["health_check_grace_period_seconds"] == 60
    assert svc["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    assert svc["deployment_minimum_healthy_percent"] == 100
    assert svc["deployment_maximum_percent"] == 200
    assert svc["propagate_tags"] == "SERVICE"
    assert svc["desired_count"] == 1


def test_backend_attaches_to_internal_alb(dev: Json) -> None:
    _, svc = service(dev, "backend")
    tg, _ = by_path(dev, "aws_lb_target_group", "internal-alb/tg-backend")
    assert svc["load_balancer"][0]["target_group_arn"] == ref("aws_lb_target_group", tg, "arn")
    assert svc["load_balancer"][0]["container_port"] == 8080


@pytest.mark.invariant
@pytest.mark.parametrize("env_name", (*DEFAULT_ENVIRONMENTS, EXAMPLE))
def test_autoscaling_targets_policies_and_ignore_changes(
    synthesized: dict[str, Json], env_name: str
) -> None:
    """Every autoscaled service: the target is its own service with the configured bounds,
    one target-tracking policy per configured metric at the configured value, and ECS owns
    desired_count (ignore_changes)."""
    stack = synthesized[env_name]
    config = {e.name: e for e in (*load_environments(), *VARIANTS.values())}[env_name]
    cluster, _ = only(stack, "aws_ecs_cluster")
    scaled = [s for s in config.services if s.autoscaling is not None]
    assert scaled or env_name != EXAMPLE, "the example's dev autoscales: the check must run"
    for spec in scaled:
        scaling = spec.autoscaling
        assert scaling is not None
        service_name, svc = service(stack, spec.name)
        assert svc["lifecycle"] == {"ignore_changes": ["task_definition", "desired_count"]}
        target_name, target = by_path(
            stack, "aws_appautoscaling_target", f"service-{spec.name}/autoscaling/target"
        )
        assert target["resource_id"] == (
            f"service/${{aws_ecs_cluster.{cluster}.name}}/${{aws_ecs_service.{service_name}.name}}"
        )
        assert (target["min_capacity"], target["max_capacity"]) == (
            scaling.min_capacity,
            scaling.max_capacity,
        )
        assert target["scalable_dimension"] == "ecs:service:DesiredCount"
        policies = {
            p["target_tracking_scaling_policy_configuration"]["predefined_metric_specification"][
                "predefined_metric_type"
            ]: p["target_tracking_scaling_policy_configuration"]
            for p in resources(stack, "aws_appautoscaling_policy").values()
            if p["resource_id"] == ref("aws_appautoscaling_target", target_name, "resource_id")
        }
        expected = {
            "ECSServiceAverageCPUUtilization": scaling.cpu_target_percent,
            "ECSServiceAverageMemoryUtilization": scaling.memory_target_percent,
            "ALBRequestCountPerTarget": scaling.requests_per_target,
        }
        assert {metric: p["target_value"] for metric, p in policies.items()} == {
            metric: value for metric, value in expected.items() if value is not None
        }, (env_name, spec.name)
        if "ALBRequestCountPerTarget" in policies:
            # Counted on the service's own target group, behind the load balancer serving it.
            group = svc["load_balancer"][0]["target_group_arn"]
            tg = group.split(".")[1]
            listeners = resources(stack, "aws_lb_listener")
            forwarding = {
                name
                for name, listener in listeners.items()
                if f"aws_lb_target_group.{tg}.arn" in json.dumps(listener)
            } | {
                rule["listener_arn"].split(".")[1]
                for rule in resources(stack, "aws_lb_listener_rule").values()
                if f"aws_lb_target_group.{tg}.arn" in json.dumps(rule)
            }
            serving = {listeners[name]["load_balancer_arn"].split(".")[1] for name in forwarding}
            label = policies["ALBRequestCountPerTarget"]["predefined_metric_specification"][
                "resource_label"
            ]
            assert label in {
                f"${{aws_lb.{lb}.arn_suffix}}/${{aws_lb_target_group.{tg}.arn_suffix}}"
                for lb in serving
            }, label


def test_without_autoscaling_terraform_owns_desired_count(synthesized: dict[str, Json]) -> None:
    stack = synthesized["no-endpoints"]
    _, frontend = service(stack, "frontend")
    # Terraform owns desired_count; task_definition always belongs to `ops deploy`.
    assert frontend["lifecycle"] == {"ignore_changes": ["task_definition"]}
    assert frontend["desired_count"] == 2
    assert not [
        t
        for t in resources(stack, "aws_appautoscaling_target").values()
        if "frontend" in t["resource_id"]
    ]


def test_per_env_outputs(dev: Json) -> None:
    outputs = dev["output"]
    cluster, _ = only(dev, "aws_ecs_cluster")
    assert outputs["cluster_name"]["value"] == ref("aws_ecs_cluster", cluster, "name")
    assert outputs["cluster_arn"]["value"] == ref("aws_ecs_cluster", cluster, "arn")
    services = outputs["services"]["value"]
    assert sorted(services) == ["backend", "frontend", "worker"]
    task, _ = task_definition(dev, "backend")
    repo, _ = by_path(dev, "aws_ecr_repository", "ecr-backend/repository")
    assert services["backend"]["task_definition_arn"] == ref("aws_ecs_task_definition", task, "arn")
    assert services["backend"]["ecr_repository_url"] == ref(
        "aws_ecr_repository", repo, "repository_url"
    )
    assert services["backend"]["service_name"] == "fargate-example-backend"
    assert services["backend"]["subnets"] == outputs["private_subnet_ids"]["value"]


def test_service_runs_another_services_image_with_its_own_command(
    synthesized: dict[str, Json],
) -> None:
    """https-shop's `indexer` borrows `admin`'s pinned ARM64 image: same reference, its own
    entrypoint and command, no repository of its own."""
    shop = synthesized["https-shop"]
    _, admin = by_path(shop, "aws_ecs_task_definition", "service-admin/workload/task-definition")
    _, indexer = by_path(
        shop, "aws_ecs_task_definition", "service-indexer/workload/task-definition"
    )
    (admin_container,) = container_definitions(admin)
    (container,) = container_definitions(indexer)
    repo, _ = by_path(shop, "aws_ecr_repository", "ecr-admin/repository")
    digest = "sha256:" + "ab" * 32
    assert container["image"] == admin_container["image"]
    assert container["image"] == ref("aws_ecr_repository", repo, "repository_url") + "@" + digest
    assert container["entryPoint"] == ["/usr/bin/tini", "--"]
    assert container["command"] == ["node", "indexer.js", "--batch", "50"]
    assert "entryPoint" not in admin_container and "command" not in admin_container
    assert indexer["runtime_platform"]["cpu_architecture"] == "ARM64"
    names = {body["name"] for body in resources(shop, "aws_ecr_repository").values()}
    assert "fargate-https-shop/indexer" not in names
    assert "fargate-https-shop/admin" in names


@pytest.mark.invariant
def test_exec_on_a_read_only_root_gets_the_agent_paths_writable(
    synthesized: dict[str, Json],
) -> None:
    """AWS: the SSM agent behind ECS Exec needs to write; every exec-enabled container with a
    read-only root has /var/lib/amazon and /var/log/amazon on writable task volumes, and
    containers without exec get only /tmp."""
    checked = 0
    for stack in synthesized.values():
        services = resources(stack, "aws_ecs_service").values()
        exec_families = {s["task_definition"] for s in services if s.get("enable_execute_command")}
        for name, task in resources(stack, "aws_ecs_task_definition").items():
            container = container_definitions(task)[0]  # the main container
            if not container["readonlyRootFilesystem"]:
                continue
            volumes = {
                v["name"] for v in task.get("volume", []) if "efs_volume_configuration" not in v
            }
            writable = {
                m["containerPath"]: m["sourceVolume"]
                for m in container.get("mountPoints", [])
                if m["readOnly"] is False and m["sourceVolume"] in volumes
            }
            exec_on = ref("aws_ecs_task_definition", name, "arn") in exec_families
            expected = {"/tmp", "/var/lib/amazon", "/var/log/amazon"} if exec_on else {"/tmp"}
            assert set(writable) == expected, (name, writable)
            checked += exec_on
    assert checked >= 1  # dev's backend
