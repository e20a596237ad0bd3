"""Values every environment shares. Environment files state only their differences.

Services are given as {name: settings} so an environment file can override one setting of
one service (`{"services": {"frontend": {"desired_count": 3}}}`) without repeating the rest.
Defaults live on the config fields (envs/schema/); this file states only what differs from them.
"""

from typing import Any

BASE: dict[str, Any] = {
    "project": "fargate",
    "state": {
        # Created by the `state-bootstrap` stack; bucket names are global, so pick your own.
        "bucket": "fargate-platform-tfstate-example",
        "region": "ap-northeast-1",
    },
    "tags": {"CostCenter": "platform"},
    "network": {"flow_logs": {"enabled": True}},
    "services": {
        "frontend": {
            "exposure": "public",
            "container_port": 3000,
            "health_check": {"path": "/"},
            "autoscaling": {"min_capacity": 2},
        },
        "backend": {
            "cpu": 512,
            "memory_mib": 1024,
            "allowed_callers": ["frontend"],
            "autoscaling": {"min_capacity": 2},
        },
        "worker": {
            # A queue worker on the backend's image: backend sends jobs to its queue.
            "exposure": "none",
            "same_image_as": "backend",
            "command": ["python", "manage.py", "run_worker"],
            "desired_count": 1,
            "queue": {
                "producers": ["backend"],
                "visibility_timeout_seconds": 300,
                "scaling": {"backlog_per_task": 50},
            },
        },
    },
    # User uploads: the backend writes them, the frontend serves them.
    "buckets": {"uploads": {"grants": {"backend": "write", "frontend": "read"}}},
    "jobs": {
        "migrate": {
            "same_image_as": "backend",
            "command": ["python", "manage.py", "migrate", "--noinput"],
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
