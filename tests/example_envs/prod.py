"""prod: three AZs, one NAT gateway per AZ, flow logs kept for a year, on-demand Fargate base,
immutable images, protected load balancers with access logs."""

from typing import Any

OVERRIDES: dict[str, Any] = {
    "name": "prod",
    "region": "ap-northeast-1",
    "account_id": "123456789012",
    "role_arn": "arn:aws:iam::123456789012:role/fargate-prod-deploy",
    "network": {
        "vpc_cidr": "10.2.0.0/16",
        "availability_zones": ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
        "nat_mode": "per_az",
        "flow_logs": {"enabled": True, "retention_days": 365},
    },
    "endpoints": {"interface": ["ssm", "secretsmanager", "kms", "sts", "sqs"]},
    # Placeholder zone (RFC 2606): replace it with your own before deploying.
    "domain": {
        "zone_name": "example.com",
        "hosts": {"frontend": ["app.example.com", "www.example.com"]},
    },
    "public_alb": {"deletion_protection": True, "access_logs": {"enabled": True}},
    "internal_alb": {"deletion_protection": True, "access_logs": {"enabled": True}},
    "ecs": {
        "capacity_provider_strategy": [
            {"capacity_provider": "FARGATE", "weight": 3, "base": 2},
            {"capacity_provider": "FARGATE_SPOT", "weight": 1},
        ],
        "container_insights": "enhanced",
        "log_retention_days": 365,
        "ecr": {"immutable_tags": True, "force_delete": False, "keep_last_images": 50},
    },
    "services": {
        "frontend": {
            "image": {"tag": "1.0.0"},
            "desired_count": 3,
            "autoscaling": {"min_capacity": 3, "max_capacity": 12, "requests_per_target": 500},
        },
        "backend": {
            "image": {"tag": "1.0.0"},
            # The collector's image comes from public ECR and X-Ray through NAT.
            "sidecar_presets": ["otel-collector"],
            "internet_egress": True,
            "cpu": 1024,
            "memory_mib": 2048,
            "desired_count": 3,
            "autoscaling": {"min_capacity": 3, "max_capacity": 12},
        },
    },
    "release": {"promote_from": "stg", "require_clean_scan": True},
}
