"""AWS service quotas that grow with the configuration, checked before anything is deployed.

Each default is AWS's default quota, cited on its field. An account whose quota was raised
states the raised value in `quotas`, so the check follows the account instead of blocking it.
"""

from __future__ import annotations

from pydantic import StrictInt, field_validator

from envs.schema.common import Strict


class QuotasConfig(Strict):
    """The account's service quotas this platform can exceed (AWS defaults; raise to match)."""

    rules_per_alb: StrictInt = 100
    """Listener rules per ALB, default rule not counted (Elastic Load Balancing quota, default
    100: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html)."""
    target_groups_per_alb: StrictInt = 100
    """Target groups per ALB (Elastic Load Balancing quota, default 100; same page)."""
    elastic_ips_per_region: StrictInt = 5
    """Elastic IPs per account and region; each NAT gateway takes one (EC2 quota, default 5:
    https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html). Every environment
    in the region that may share the account counts (see `account_id`)."""

    cloud_map_instances_per_namespace: StrictInt = 2000
    """Tasks registered in the Service Connect namespace at once, deployments included (Cloud
    Map quota "Instances per namespace", default 2,000:
    https://docs.aws.amazon.com/cloud-map/latest/dg/cloud-map-limits.html)."""
    cloud_map_namespaces_per_region: StrictInt = 50
    """Cloud Map namespaces per account and region; each environment with `service_connect`
    creates one (Cloud Map quota "Namespaces per Region", default 50; same page)."""

    @field_validator(
        "rules_per_alb",
        "target_groups_per_alb",
        "elastic_ips_per_region",
        "cloud_map_instances_per_namespace",
        "cloud_map_namespaces_per_region",
    )
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"a quota is at least 1; got {value}")
        return value
