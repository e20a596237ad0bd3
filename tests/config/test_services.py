"""Edge and service config validation messages. No provider."""

from __future__ import annotations

from typing import Any

import pytest

from envs import ConfigError, merge
from envs.schema.workload import FARGATE_MEMORY_MIB
from tests.example_envs import build_example
from tests.example_envs.dev import OVERRIDES as DEV
from tests.variants import CERTIFICATE, USER_POOL

COGNITO = {
    "user_pool_arn": USER_POOL,
    "user_pool_client_id": "abc123",
    "user_pool_domain": "auth",
}


def rejected(overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        build_example(merge(DEV, overrides), source="envs/dev.py")
    return caught.value.render()


@pytest.mark.parametrize(
    "overrides,expected",
    [
        (
            {"public_alb": {"cognito": COGNITO}},
            "envs/dev.py: public_alb.cognito: Cognito authentication requires HTTPS; set "
            "public_alb.certificate_arn or domain.hosts, or remove cognito",
        ),
        (
            {"internal_alb": {"certificate_arn": CERTIFICATE, "cognito": COGNITO}},
            "internal_alb.cognito: Cognito authentication is only supported on the public ALB",
        ),
        (
            {"public_alb": {"certificate_arn": "arn:aws:acm:ap-northeast-1:123:certificate/x"}},
            "public_alb.certificate_arn: 'arn:aws:acm:ap-northeast-1:123:certificate/x' is not an "
            "ACM certificate ARN; expected arn:aws:acm:<region>:<12-digit account>:certificate/"
            "<uuid>",
        ),
        (
            {"public_alb": {"certificate_arn": CERTIFICATE.replace("ap-northeast-1", "us-east-1")}},
            "public_alb.certificate_arn: the certificate is in us-east-1 but an ALB can only use "
            "ACM certificates from its own region ap-northeast-1",
        ),
        (
            {"public_alb": {"ssl_policy": "ELBSecurityPolicy-TLS13-9-9-2030-01"}},
            "public_alb.ssl_policy: 'ELBSecurityPolicy-TLS13-9-9-2030-01' is not an Elastic Load "
            "Balancing security policy; use ELBSecurityPolicy-TLS13-1-2-2021-06",
        ),
        (
            {"public_alb": {"ssl_policy": "ELBSecurityPolicy-2016-08"}},
            "public_alb.ssl_policy: 'ELBSecurityPolicy-2016-08' still accepts TLS 1.0/1.1",
        ),
        (
            {"public_alb": {"idle_timeout_seconds": 5000}},
            "public_alb: idle_timeout_seconds must be 1-4000; got 5000",
        ),
        (
            {"services": {"frontend": {"health_check": {"interval_seconds": 400}}}},
            "health_check: interval_seconds must be 5-300; got 400",
        ),
        (
            {"services": {"frontend": {"health_check": {"healthy_threshold": 11}}}},
            "health_check: healthy_threshold must be 2-10; got 11",
        ),
        (
            {"services": {"frontend": {"health_check": {"unhealthy_threshold": 1}}}},
            "unhealthy_threshold must be 2-10; got 1",
        ),
        (
            {"services": {"frontend": {"health_check": {"timeout_seconds": 20}}}},
            "timeout_seconds (20) must be less than interval_seconds (15)",
        ),
        (
            {"services": {"frontend": {"health_check": {"matcher": "ok"}}}},
            "matcher must look like '200', '200,204' or '200-399'; got 'ok'",
        ),
        (
            {"project": "platformproducts", "name": "integration-qa"},
            "project/name: the public ALB would be named 'platformproducts-integration-qa-public' "
            "(38 characters) but AWS allows 32; shorten the project or environment name",
        ),
        (
            {
                "project": "platformproducts",
                "services": {
                    "checkoutpayments": {
                        "exposure": "public",
                        "container_port": 9000,
                        "path_patterns": ["/pay/*"],
                    }
                },
            },
            "services.checkoutpayments.name: the target group of service 'checkoutpayments' "
            "would be named "
            "'platformproducts-dev-checkoutpayments' (37 characters) but AWS allows 32",
        ),
        (
            {"services": {"frontend": {"cpu": 512, "memory_mib": 8192}}},
            "services.frontend: cpu/memory_mib: cpu=512 allows memory_mib 1024, 2048, 3072, 4096; "
            "got 8192",
        ),
        (
            {"services": {"frontend": {"cpu": 4096, "memory_mib": 4096}}},
            "cpu=4096 allows memory_mib 8192-30720 in steps of 1024; got 4096",
        ),
        (
            {"services": {"frontend": {"cpu": 300}}},
            "cpu=300 is not a Fargate size; use one of 256, 512, 1024, 2048, 4096, 8192, 16384",
        ),
        (
            {"services": {"frontend": {"container_port": 70000}}},
            "container_port must be 1-65535; got 70000",
        ),
        (
            {
                "services": {
                    "admin": {
                        "exposure": "public",
                        "container_port": 3000,
                        "path_patterns": ["/admin/*"],
                    }
                }
            },
            "services: ['frontend', 'admin'] all use container_port 3000 behind the public ALB; "
            "give each service on one ALB its own port",
        ),
        (
            {"services": {"admin": {"exposure": "public", "container_port": 3001}}},
            "services: ['frontend', 'admin'] are all the default route of the public ALB",
        ),
        (
            {"services": {"Front_End": {}}},
            "services.Front_End.name: 'Front_End' is not a valid name",
        ),
        (
            {"services": {"frontend": {"desired_count": 5}}},
            "autoscaling: need min_capacity <= desired_count <= max_capacity; got 1 <= 5 <= 2",
        ),
        (
            {"services": {"frontend": {"autoscaling": {"min_capacity": 3, "max_capacity": 2}}}},
            "autoscaling: max_capacity (2) must be >= min_capacity (3) and >= 1",
        ),
        (
            {"services": {"backend": {"allowed_callers": ["frontend", "billing"]}}},
            "services.backend.allowed_callers: 'billing' is not another service or job of this "
            "environment; known: frontend, backend, worker, migrate",
        ),
        (
            {
                "services": {
                    "frontend": {
                        "task_role_statements": [
                            {"actions": ["s3:*"], "resources": ["arn:aws:s3:::b/*"]}
                        ]
                    }
                }
            },
            "services.frontend.task_role_statements.0: action 's3:*' is not allowed; name "
            "specific actions",
        ),
        (
            {"services": {"frontend": {"secrets": {"TOKEN": "plain-text-token"}}}},
            "'plain-text-token' is neither an SSM parameter ARN",
        ),
        (
            {"services": {"frontend": {"image": {"digest": "sha256:abc"}}}},
            "'sha256:abc' is not an image digest; expected sha256:<64 hex digits>",
        ),
        (
            {"endpoints": {"interface": ["ecr.api", "dynamodb"]}},
            "endpoints.interface: unknown interface endpoint(s) ['dynamodb']; choose from ecr.api,",
        ),
        (
            {
                "ecs": {
                    "capacity_provider_strategy": [
                        {"capacity_provider": "FARGATE", "base": 1},
                        {"capacity_provider": "FARGATE_SPOT", "base": 1},
                    ]
                }
            },
            "only one capacity provider may have a base > 0",
        ),
        (
            {"ecs": {"log_retention_days": 8}},
            "ecs.log_retention_days: CloudWatch Logs does not accept a retention of 8 days",
        ),
    ],
)
def test_rejected_with_field_value_and_fix(overrides: dict[str, Any], expected: str) -> None:
    assert expected in rejected(overrides)


def test_fargate_table_matches_aws_limits() -> None:
    assert FARGATE_MEMORY_MIB[256] == (512, 1024, 2048)
    assert FARGATE_MEMORY_MIB[16384][0] == 32768 and FARGATE_MEMORY_MIB[16384][-1] == 122880
    assert all(m % 1024 == 0 or m == 512 for sizes in FARGATE_MEMORY_MIB.values() for m in sizes)


def test_services_merge_per_service_over_the_base() -> None:
    env = build_example(merge(DEV, {"services": {"backend": {"cpu": 1024, "memory_mib": 2048}}}))
    backend = next(s for s in env.services if s.name == "backend")
    assert (backend.cpu, backend.memory_mib, backend.container_port) == (1024, 2048, 8080)
    assert backend.enable_execute_command is True  # from envs/dev.py, kept by the merge


@pytest.mark.parametrize("priority", [0, 15, 50000, 49995])
def test_listener_priority_must_be_a_free_multiple_of_ten(priority: int) -> None:
    message = rejected(
        {"services": {"frontend": {"path_patterns": ["/x/*"], "listener_priority": priority}}}
    )
    assert "listener_priority must be a multiple of 10 from 10 to 49990" in message
    assert f"got {priority}" in message


def test_listener_priority_collision_names_both_services_and_the_fix() -> None:
    message = rejected(
        {
            "services": {
                "frontend": {"path_patterns": ["/a/*"], "listener_priority": 40},
                "admin": {
                    "exposure": "public",
                    "container_port": 3001,
                    "path_patterns": ["/b/*"],
                    "listener_priority": 40,
                },
            }
        }
    )
    assert (
        "services: ['frontend', 'admin'] all get listener rule priority 40 on the public ALB; "
        "set listener_priority on all but one to a free multiple of 10"
    ) in message


WORKER = {"exposure": "none", "desired_count": 1}


@pytest.mark.parametrize(
    "services,expected",
    [
        (
            {"worker": {**WORKER, "same_image_as": "api"}},
            "envs/dev.py: services.worker.same_image_as: 'api' is not another service of this "
            "environment; known: frontend, backend",
        ),
        (
            {"worker": {**WORKER, "same_image_as": "worker"}},
            "services.worker.same_image_as: 'worker' is not another service",
        ),
        (
            {
                "worker": {**WORKER, "same_image_as": "backend"},
                "mailer": {**WORKER, "same_image_as": "worker"},
            },
            "services.mailer.same_image_as: 'worker' itself runs 'backend''s image; name the "
            "owner directly: same_image_as 'backend'",
        ),
        (
            {"worker": {**WORKER, "same_image_as": "backend", "cpu_architecture": "ARM64"}},
            "services.worker.cpu_architecture: ARM64 cannot run the image of 'backend', which "
            "is built for X86_64; remove cpu_architecture from the service (it inherits the "
            "image owner's)",
        ),
        (
            {"worker": {**WORKER, "same_image_as": "backend", "image": {"tag": "2.0"}}},
            "services.worker.same_image_as: runs 'backend''s image, so 'image' must not be set "
            "as well; remove one",
        ),
    ],
)
def test_rejected_same_image_as(services: dict[str, Any], expected: str) -> None:
    assert expected in rejected({"services": services})


def test_a_service_borrowing_an_image_inherits_its_architecture() -> None:
    env = build_example(
        merge(
            DEV,
            {
                "services": {
                    "backend": {"cpu_architecture": "ARM64"},
                    "worker": {**WORKER, "same_image_as": "backend"},
                },
                "jobs": {"migrate": {"same_image_as": "worker"}},
            },
        )
    )
    worker = next(s for s in env.services if s.name == "worker")
    migrate = next(j for j in env.jobs if j.name == "migrate")
    assert worker.cpu_architecture == migrate.cpu_architecture == "ARM64"


def test_a_job_may_borrow_the_image_a_service_borrows() -> None:
    env = build_example(
        merge(
            DEV,
            {
                "services": {"worker": {**WORKER, "same_image_as": "backend"}},
                "jobs": {"migrate": {"same_image_as": "worker"}},
            },
        )
    )
    backend = next(s for s in env.services if s.name == "backend")
    migrate = next(j for j in env.jobs if j.name == "migrate")
    assert env.image_owner(migrate) is backend
