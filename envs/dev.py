"""dev: two AZs in Tokyo, a /24 VPC, one shared NAT gateway."""

from typing import Any

OVERRIDES: dict[str, Any] = {
    "name": "dev",
    "region": "ap-northeast-1",
    "network": {
        "vpc_cidr": "10.0.0.0/24",
        "availability_zones": ["ap-northeast-1a", "ap-northeast-1c"],
        "nat_mode": "single",
    },
}
