"""prod: three AZs, one NAT gateway per AZ, flow logs kept for a year."""

from typing import Any

OVERRIDES: dict[str, Any] = {
    "name": "prod",
    "region": "ap-northeast-1",
    "network": {
        "vpc_cidr": "10.2.0.0/16",
        "availability_zones": ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
        "nat_mode": "per_az",
        "flow_logs": {"enabled": True, "retention_days": 365},
    },
}
