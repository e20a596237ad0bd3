"""stg: production-shaped network on its own /16, one shared NAT gateway, half Spot."""

from typing import Any

OVERRIDES: dict[str, Any] = {
    "name": "stg",
    "region": "ap-northeast-1",
    "account_id": "123456789012",
    "role_arn": "arn:aws:iam::123456789012:role/fargate-stg-deploy",
    "network": {
        "vpc_cidr": "10.1.0.0/16",
        "availability_zones": ["ap-northeast-1a", "ap-northeast-1c"],
        "nat_mode": "single",
    },
    "endpoints": {"interface": ["ssm", "secretsmanager", "sqs"]},
    # Placeholder zone (RFC 2606): replace it with your own before deploying.
    # Its own internal domain: prod has internal.example.com, and two environments must not
    # share names (their certificates would share validation records).
    "domain": {
        "zone_name": "example.com",
        "hosts": {"frontend": ["stg.example.com"]},
        "internal_domain": "internal.stg.example.com",
    },
    "ecs": {
        "capacity_provider_strategy": [
            {"capacity_provider": "FARGATE", "weight": 1, "base": 1},
            {"capacity_provider": "FARGATE_SPOT", "weight": 1},
        ],
    },
    "release": {"promote_from": "dev"},
}
