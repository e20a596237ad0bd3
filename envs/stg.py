"""stg: production-shaped network on its own /16, one shared NAT gateway, half Spot."""

from typing import Any

OVERRIDES: dict[str, Any] = {
    "name": "stg",
    "region": "ap-northeast-1",
    "network": {
        "vpc_cidr": "10.1.0.0/16",
        "availability_zones": ["ap-northeast-1a", "ap-northeast-1c"],
        "nat_mode": "single",
    },
    "endpoints": {"interface": ["ssm", "secretsmanager"]},
    "ecs": {
        "capacity_provider_strategy": [
            {"capacity_provider": "FARGATE", "weight": 1, "base": 1},
            {"capacity_provider": "FARGATE_SPOT", "weight": 1},
        ],
    },
    "release": {"promote_from": "dev"},
}
