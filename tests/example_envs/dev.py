"""dev: two AZs in Tokyo, a /24 VPC, one shared NAT gateway, mostly Spot, one task each."""

from typing import Any

OVERRIDES: dict[str, Any] = {
    "name": "dev",
    "region": "ap-northeast-1",
    "account_id": "123456789012",
    "role_arn": "arn:aws:iam::123456789012:role/fargate-dev-deploy",
    "network": {
        "vpc_cidr": "10.0.0.0/24",
        "availability_zones": ["ap-northeast-1a", "ap-northeast-1c"],
        "nat_mode": "single",
        "flow_logs": {"retention_days": 14},
    },
    # ECS Exec on the backend reaches SSM and KMS through endpoints, not the internet; the
    # worker's queue is reached through the sqs endpoint.
    "endpoints": {"interface": ["ssmmessages", "kms", "sqs"]},
    "ecs": {
        "capacity_provider_strategy": [
            {"capacity_provider": "FARGATE_SPOT", "weight": 3},
            {"capacity_provider": "FARGATE", "weight": 1},
        ],
        "log_retention_days": 14,
    },
    "services": {
        "frontend": {"desired_count": 1, "autoscaling": {"min_capacity": 1, "max_capacity": 2}},
        "backend": {
            "desired_count": 1,
            "autoscaling": {"min_capacity": 1, "max_capacity": 2},
            "enable_execute_command": True,
        },
    },
}
