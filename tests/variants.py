"""Environment configs built in tests, synthesized alongside the defaults in one session synth.

Each is the dev environment with a few overrides, under its own stack name and CIDR.
"""

from __future__ import annotations

from typing import Any

from envs import merge
from envs.schema.environment import EnvironmentConfig
from tests.constants import ACCOUNT, BOOTSTRAP_STACK, CERTIFICATE, KMS_KEY, USER_POOL
from tests.example_envs import build_example
from tests.example_envs.dev import OVERRIDES as DEV

SSM_SECRET = f"arn:aws:ssm:ap-northeast-1:{ACCOUNT}:parameter/shop/db-password"
SM_SECRET = f"arn:aws:secretsmanager:ap-northeast-1:{ACCOUNT}:secret:shop/api-key-AbC123"
SM_SECRET_BY_NAME = f"arn:aws:secretsmanager:ap-northeast-1:{ACCOUNT}:secret:shop/worker-token"
TEMPLATE_LOOKALIKE = "echo ${HOME} $${x} %{ if true }100%{ endif } ${"
ORDERS_TABLE = f"arn:aws:dynamodb:ap-northeast-1:{ACCOUNT}:table/orders"


def variant(name: str, cidr: str, overrides: dict[str, Any]) -> EnvironmentConfig:
    return build_example(
        merge(DEV, merge({"name": name, "network": {"vpc_cidr": cidr}}, overrides)),
        source=f"tests/variants.py:{name}",
    )


HTTPS_SHOP = {
    "public_alb": {
        "certificate_arn": CERTIFICATE,
        "cognito": {
            "user_pool_arn": USER_POOL,
            "user_pool_client_id": "3abc4defg5hij6klm7nop8qrs",
            "user_pool_domain": "shop-auth",
        },
        "access_logs": {"enabled": True, "retention_days": 30},
    },
    "internal_alb": {"certificate_arn": CERTIFICATE},
    "waf": {"count_only_rules": {"AWSManagedRulesCommonRuleSet": ["SizeRestrictions_BODY"]}},
    "endpoints": {
        "interface": ["ssm", "secretsmanager", "kms", "ssmmessages"],
        "restrict_s3_gateway": True,
        "s3_allowed_buckets": ["shop-uploads"],
    },
    "services": {
        "frontend": {"stickiness": {"duration_seconds": 3600}},
        "admin": {
            "exposure": "public",
            "container_port": 3001,
            "path_patterns": ["/admin/*"],
            "listener_priority": 100,
            "cpu_architecture": "ARM64",
            "image": {"digest": "sha256:" + "ab" * 32},
        },
        "backend": {
            "secrets": {"DB_PASSWORD": SSM_SECRET, "API_KEY": SM_SECRET},
            "secrets_kms_key_arn": KMS_KEY,
            "user": "1000:1000",
            "enable_execute_command": False,
            "task_role_statements": [
                {"actions": ["dynamodb:GetItem", "dynamodb:PutItem"], "resources": [ORDERS_TABLE]}
            ],
            "container_health_check": {
                "command": ["CMD-SHELL", "wget -qO- http://localhost:8080/health || exit 1"]
            },
            "allowed_callers": ["frontend", "admin"],
        },
        # A second internal service frontend calls: one caller, two callees on one ALB.
        "api": {
            "exposure": "internal",
            "container_port": 9000,
            "path_patterns": ["/api/*"],
            # A job calls it too: jobs cannot use Service Connect, so it stays internal.
            "allowed_callers": ["frontend", "admin-report"],
        },
        "worker": {
            "exposure": "none",
            "same_image_as": None,
            "queue": None,
            "command": [],
            # Given by name: the execution role's policy must add '-??????'.
            "secrets": {"WORKER_TOKEN": SM_SECRET_BY_NAME},
            "image": {"external": "docker.io/library/busybox:1.36"},
            # Another registry and an internet API: the two reasons to opt in to egress.
            "internet_egress": True,
            "external_apis": ["api.stripe.com"],
            "autoscaling": {"min_capacity": 1, "max_capacity": 3, "memory_target_percent": None},
            "desired_count": 1,
        },
        "indexer": {
            "exposure": "none",
            "same_image_as": "admin",
            "cpu_architecture": "ARM64",
            "entrypoint": ["/usr/bin/tini", "--"],
            "command": ["node", "indexer.js", "--batch", "50"],
            "desired_count": 1,
        },
    },
    # Runs the ARM64 admin image: inherits ARM64 (issue #9, defect 7).
    "jobs": {"admin-report": {"same_image_as": "admin", "command": ["report"]}},
}

NGINX = "public.ecr.aws/nginx/nginx:1.27"
SIDECARS = {
    "file_systems": {"shared": {"backup": False}},
    "services": {
        "worker": {
            "efs_mounts": [{"file_system": "shared", "container_path": "/data", "read_only": True}]
        },
        "backend": {
            "efs_mounts": [
                {
                    "file_system": "shared",
                    "container_path": "/data",
                    "uid": 1001,
                    "gid": 1001,
                    "root_directory": "/reports/backend",
                }
            ],
            "sidecar_presets": ["otel-collector", "firelens"],
            "internet_egress": True,  # the presets' images come from public ECR
            "container_health_check": {
                "command": ["CMD-SHELL", "curl -fs http://localhost:8080/health || exit 1"]
            },
            "depends_on": [{"container": "warmup", "condition": "SUCCESS"}],
            "sidecars": {
                "proxy": {
                    "image": NGINX,
                    "ports": [8081],
                    "essential": True,
                    "depends_on": [{"container": "backend", "condition": "HEALTHY"}],
                    "cpu": 128,
                    "memory_reservation_mib": 64,
                    "memory_mib": 256,
                    "user": "101:101",
                    "secrets": {"TLS_KEY": SM_SECRET},
                },
                "warmup": {
                    "same_image_as": "backend",
                    "command": ["python", "manage.py", "warm_cache"],
                    "environment": {"WARM_KEYS": "1000"},
                    "memory_mib": 128,
                },
            },
        },
    },
}

DB_GROUP = "sg-0123456789abcdef0"
TOPIC = f"arn:aws:sns:ap-northeast-1:{ACCOUNT}:order-events"
PARTNER_BUCKET = "arn:aws:s3:::partner-exports"
PARTNER_QUEUE = f"arn:aws:sqs:ap-northeast-1:{ACCOUNT}:partner-inbox"
QUEUES = {
    "endpoints": {"interface": ["ssmmessages", "kms", "sqs"]},
    "buckets": {
        "media": {"grants": {"worker": "read_write", "frontend": "read"}, "expiration_days": 365}
    },
    "services": {
        "backend": {
            "ephemeral_storage_gib": 50,
            "destinations": {
                "orders-db": {"security_group_id": DB_GROUP, "ports": [5432]},
                "legacy-cache": {"cidr": "10.20.0.0/24", "ports": [6379, 6380]},
            },
            "resource_grants": [
                {"arn": ORDERS_TABLE, "access": "read_write"},
                {"arn": TOPIC, "access": "write"},
                {"arn": PARTNER_BUCKET, "access": "read"},
                {"arn": PARTNER_QUEUE, "access": "write"},
            ],
        },
        "worker": {
            "internet_egress": False,
            "queue": {
                "producers": ["backend", "migrate"],
                "encryption": "kms",
                "kms_key_arn": KMS_KEY,
                "max_receive_count": 3,
                "scaling": {"backlog_per_task": 20, "min_capacity": 0, "max_capacity": 6},
            },
        },
    },
}

ROLLOUTS = {
    "ecs": {"container_insights": "disabled"},
    "alarms": {
        "subscriptions": [
            {"protocol": "email", "endpoint": "oncall@example.com"},
            {"protocol": "https", "endpoint": "https://hooks.example.com/alarms/T123"},
        ],
        "rejected_connections_per_minute": None,
    },
    "services": {
        "frontend": {
            "deployment": {"strategy": "blue_green", "bake_time_minutes": 10},
            "autoscaling": {
                "schedules": [
                    {
                        "name": "night",
                        "expression": "cron(0 22 * * ? *)",
                        "timezone": "Asia/Tokyo",
                        "min_capacity": 0,
                        "max_capacity": 0,
                    },
                    {
                        "name": "morning",
                        "expression": "cron(0 8 ? * MON-FRI *)",
                        "timezone": "Asia/Tokyo",
                        "min_capacity": 1,
                        "max_capacity": 2,
                    },
                ]
            },
        },
        "api": {
            "exposure": "public",
            "container_port": 3002,
            "path_patterns": ["/api/*"],
            "deployment": {
                "strategy": "canary",
                "canary_percent": 5,
                "canary_bake_time_minutes": 15,
            },
            "alarms": {
                "latency_statistic": "p99",
                "latency_threshold_seconds": 0.5,
                "target_5xx_count_per_minute": None,
                "period_seconds": 120,
                "rollback_on": ["target_5xx_rate", "unhealthy_hosts"],
            },
        },
        "backend": {
            "deployment": {"strategy": "linear", "step_percent": 20, "step_bake_time_minutes": 3},
        },
        "worker": {
            "exposure": "none",
            "same_image_as": None,
            "queue": None,
            "command": [],
            "image": {"external": "docker.io/library/busybox:1.36"},
            "internet_egress": True,
            "desired_count": 1,
            "alarms": {"memory_high_percent": None, "rollback_on": ["cpu_high"]},
        },
    },
    "jobs": {
        "sync": {
            "image": {"external": "docker.io/library/busybox:1.36"},
            "internet_egress": True,
            "command": ["sync"],
            "schedule": {"expression": "rate(15 minutes)"},
            "alarms": {"dead_letter_messages": 5},
        },
        "weekly": {
            "image": {"external": "docker.io/library/busybox:1.36"},
            "internet_egress": True,
            "schedule": {"expression": "cron(0 4 ? * SUN *)", "dead_letter_queue": False},
            "alarms": {"missed_run_window_hours": 170 - 2},
        },
        "migrate": {"alarms": {"failed_runs": False}},
    },
}
ZONE_ID = "Z0123456789ABCDEFGHIJ"
DOMAIN_SHARED = {
    "domain": {
        "zone_name": "shop.example.org",
        "zone_id": ZONE_ID,
        "hosts": {
            "frontend": ["shop.example.org", "www.shop.example.org"],
            "admin": ["admin.shop.example.org"],
        },
    },
    "services": {
        "admin": {"exposure": "public", "container_port": 3001},
        "backend": {"allowed_callers": ["frontend", "admin"]},
    },
}
"""Two public services sharing the public ALB by host name; zone looked up by id."""
DNS_EXTERNAL = {
    "domain": {
        "zone_name": "corp.example.net",
        "dns": "external",
        "hosts": {"frontend": ["app.corp.example.net"]},
    }
}
"""DNS outside Route 53: certificates are validated through records the outputs list."""
CERTIFICATE_EXISTING = {
    "public_alb": {"certificate_arn": CERTIFICATE},
    "internal_alb": {"certificate_arn": CERTIFICATE},
    "domain": {
        "zone_name": "example.org",
        "hosts": {"frontend": ["app.example.org"]},
        "internal_tls": False,
    },
}
"""Existing certificates plus a zone: public records, no new certificate; without internal TLS
the internal ALB keeps its own certificate_arn (and its own DNS name)."""

SIDECAR_IMAGE = f"{ACCOUNT}.dkr.ecr.ap-northeast-1.amazonaws.com/shop/log-shipper:2.1"
SERVICE_CONNECT = {
    "service_connect": {"namespace_name": "shop.internal"},
    "file_systems": {"reports": {"backup": False}},
    "services": {
        # Reached through Service Connect by the frontend and the worker: no internal ALB.
        "backend": {
            "exposure": "service_connect",
            "allowed_callers": ["frontend", "worker"],
            "service_connect": {"discovery_name": "orders-api", "per_request_timeout_seconds": 30},
            "efs_mounts": [{"file_system": "reports", "container_path": "/reports"}],
            "destinations": {"orders-db": {"security_group_id": DB_GROUP, "ports": [5432]}},
            # Three containers: the main one and two sidecars, one on the backend's own image.
            "sidecars": {
                "shipper": {"image": SIDECAR_IMAGE, "memory_mib": 128},
                "cron": {
                    "same_image_as": "backend",
                    "command": ["python", "manage.py", "cron"],
                    "memory_mib": 256,
                },
            },
        },
    },
}
"""Service Connect in place of the internal ALB, with EFS, a database and three containers."""

EXAMPLE = "example"
"""The frozen example's dev (tests/example_envs) unchanged but for its name: exact examples of
what the shipped dev synthesizes run on this stack, never on the user's `dev`."""

VARIANTS: dict[str, EnvironmentConfig] = {
    env.name: env
    for env in (
        variant(EXAMPLE, str(DEV["network"]["vpc_cidr"]), {}),
        variant(
            "nat-none",
            "10.10.0.0/24",
            {
                "network": {"nat_mode": "none"},
                "endpoints": {"interface": ["ssmmessages", "kms", "sqs"]},
            },
        ),
        variant(
            "nat-per-az",
            "10.11.0.0/22",
            {
                "endpoints": {"restrict_s3_gateway": False},
                "network": {
                    "nat_mode": "per_az",
                    "availability_zones": ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
                },
                # User text that looks like Terraform template syntax must arrive literally.
                "services": {"frontend": {"environment": {"GREETING": TEMPLATE_LOOKALIKE}}},
                "jobs": {"migrate": {"command": ["sh", "-c", TEMPLATE_LOOKALIKE]}},
            },
        ),
        variant("https-shop", "10.12.0.0/22", HTTPS_SHOP),
        variant("domain-shared", "10.14.0.0/24", DOMAIN_SHARED),
        variant("dns-external", "10.15.0.0/24", DNS_EXTERNAL),
        variant("cert-existing", "10.16.0.0/24", CERTIFICATE_EXISTING),
        variant("sidecars", "10.30.0.0/24", SIDECARS),
        variant("queues", "10.31.0.0/24", QUEUES),
        variant("rollouts", "10.17.0.0/22", ROLLOUTS),
        variant("connect", "10.32.0.0/24", SERVICE_CONNECT),
        variant(
            "no-endpoints",
            "10.13.0.0/24",
            {
                "network": {"flow_logs": {"enabled": False}},
                "endpoints": {"enabled": False},
                "waf": {"enabled": False},
                # Without endpoints every workload reaches AWS through NAT: each opts in.
                "services": {
                    "frontend": {"desired_count": 2, "autoscaling": None, "internet_egress": True},
                    "backend": {"internet_egress": True},
                    "worker": {"internet_egress": True},
                },
                "jobs": {
                    "migrate": {"internet_egress": True},
                    "nightly-report": {"internet_egress": True},
                },
            },
        ),
    )
}

TWO_REGION_BOOTSTRAP = f"{BOOTSTRAP_STACK}-two-regions"
"""A second state-bootstrap stack in the session synth, for STATE_BUCKETS_BY_REGION."""
STATE_BUCKETS_BY_REGION = {
    "ap-northeast-1": "fargate-tfstate-tokyo-example",
    "us-east-1": "fargate-tfstate-virginia-example",
}
TWO_REGION_STATE: tuple[EnvironmentConfig, ...] = tuple(
    variant(
        f"state-{index}",
        f"10.{40 + index}.0.0/24",
        {"state": {"bucket": bucket, "region": region}},
    )
    for index, (region, bucket) in enumerate(STATE_BUCKETS_BY_REGION.items())
)
"""Environments whose state buckets live in two regions (bootstrap input only: no platform
stacks of their own)."""


def environments_and_variants() -> dict[str, EnvironmentConfig]:
    """The user's environments and every variant, by name: the configs the session synth
    writes (invariants run over the first, and over a variant where they must see a case)."""
    from envs import load_environments

    return {env.name: env for env in (*load_environments(), *VARIANTS.values())}
