"""Values every environment shares. Environment files state only their differences.

Services are given as {name: settings} so an environment file can override one setting of
one service (`{"services": {"frontend": {"desired_count": 3}}}`) without repeating the rest.
"""

from typing import Any

BASE: dict[str, Any] = {
    "project": "fargate",
    "state": {
        # Created by the `state-bootstrap` stack; bucket names are global, so pick your own.
        "bucket": "fargate-platform-tfstate-example",
        "key_prefix": "",
        "region": "ap-northeast-1",
    },
    "tags": {"CostCenter": "platform"},
    "network": {"flow_logs": {"enabled": True}},
    "services": {
        "frontend": {
            "exposure": "public",
            "container_port": 3000,
            "cpu": 256,
            "memory_mib": 512,
            "desired_count": 2,
            "health_check": {"path": "/"},
            "autoscaling": {"min_capacity": 2, "max_capacity": 4},
        },
        "backend": {
            "exposure": "internal",
            "container_port": 8080,
            "cpu": 512,
            "memory_mib": 1024,
            "desired_count": 2,
            "health_check": {"path": "/health"},
            "allowed_callers": ["frontend"],
            "autoscaling": {"min_capacity": 2, "max_capacity": 4},
        },
        "worker": {
            # A queue worker on the backend's image: backend sends jobs to its queue.
            "exposure": "none",
            "same_image_as": "backend",
            "command": ["python", "manage.py", "run_worker"],
            "cpu": 256,
            "memory_mib": 512,
            "desired_count": 1,
            "queue": {
                "producers": ["backend"],
                "visibility_timeout_seconds": 300,
                "scaling": {"backlog_per_task": 50, "min_capacity": 0, "max_capacity": 4},
            },
        },
    },
    # User uploads: the backend writes them, the frontend serves them.
    "buckets": {"uploads": {"grants": {"backend": "write", "frontend": "read"}}},
    "jobs": {
        "migrate": {
            "same_image_as": "backend",
            "command": ["python", "manage.py", "migrate", "--noinput"],
            "cpu": 256,
            "memory_mib": 512,
        },
        "nightly-report": {
            "same_image_as": "backend",
            "command": ["python", "manage.py", "nightly_report"],
            "cpu": 512,
            "memory_mib": 1024,
            "schedule": {"expression": "cron(0 3 * * ? *)", "timezone": "Asia/Tokyo"},
        },
    },
}
