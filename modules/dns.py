"""Route 53: the public hosted zone (looked up), the private internal zone, alias records."""

from __future__ import annotations

from cdktf import Postcondition, TerraformResourceLifecycle
from constructs import Construct

from envs.schema.domain import DomainConfig
from modules.alb import LoadBalancer
from modules.aws import data_aws_route53_zone, route53_record, route53_zone
from modules.network import Network

ALIAS_TYPES_PUBLIC = ("A", "AAAA")
"""Public names answer IPv4 and IPv6 lookups (AAAA returns addresses once the ALB is dual-stack)."""
ALIAS_TYPES_INTERNAL = ("A",)
"""The internal ALB is IPv4 only."""


def record_id(host: str, record_type: str) -> str:
    """A construct id from the host name: stable when hosts are added or reordered."""
    return f"{host.replace('*', 'wildcard')}-{record_type}"


def alias_records(
    scope: Construct,
    *,
    zone_id: str,
    host: str,
    load_balancer: LoadBalancer,
    record_types: tuple[str, ...],
) -> list[route53_record.Route53Record]:
    """Alias records `host` -> the ALB, failing over when no target of the ALB is healthy."""
    return [
        route53_record.Route53Record(
            scope,
            record_id(host, record_type),
            zone_id=zone_id,
            name=host,
            type=record_type,
            alias=route53_record.Route53RecordAlias(
                name=load_balancer.dns_name,
                zone_id=load_balancer.zone_id,
                evaluate_target_health=True,
            ),
        )
        for record_type in record_types
    ]


class PublicZone(Construct):
    """The environment's public hosted zone, looked up (never created or changed).

    By id when `zone_id` is set, with a postcondition that the zone has the configured name
    (the hosts were checked against that name); else by name, public zones only.
    """

    def __init__(self, scope: Construct, id_: str, config: DomainConfig) -> None:
        super().__init__(scope, id_)
        self.name = config.zone_name
        self.zone = data_aws_route53_zone.DataAwsRoute53Zone(
            self,
            "zone",
            zone_id=config.zone_id,
            name=None if config.zone_id else config.zone_name,
            private_zone=False,
            lifecycle=(
                TerraformResourceLifecycle(
                    postcondition=[
                        Postcondition(
                            condition=f'${{trimsuffix(self.name, ".") == "{config.zone_name}"}}',
                            error_message=(
                                f"domain.zone_id {config.zone_id} is not the zone "
                                f"{config.zone_name}; fix domain.zone_id or domain.zone_name"
                            ),
                        )
                    ]
                )
                if config.zone_id
                else None
            ),
        )
        self.zone_id: str = self.zone.zone_id

    def alias(self, host: str, load_balancer: LoadBalancer) -> list[route53_record.Route53Record]:
        """A and AAAA alias records for a public host."""
        return alias_records(
            self,
            zone_id=self.zone_id,
            host=host,
            load_balancer=load_balancer,
            record_types=ALIAS_TYPES_PUBLIC,
        )


class PrivateZone(Construct):
    """A private hosted zone associated with the VPC: internal service names resolve only there."""

    def __init__(self, scope: Construct, id_: str, *, name: str, network: Network) -> None:
        super().__init__(scope, id_)
        self.name = name
        self.zone = route53_zone.Route53Zone(
            self,
            "zone",
            name=name,
            comment="internal service names (managed by the platform)",
            vpc=[route53_zone.Route53ZoneVpc(vpc_id=network.vpc_id)],
            tags={"Name": name},
        )
        self.zone_id: str = self.zone.zone_id

    def alias(self, host: str, load_balancer: LoadBalancer) -> list[route53_record.Route53Record]:
        """An A alias record for an internal service name."""
        return alias_records(
            self,
            zone_id=self.zone_id,
            host=host,
            load_balancer=load_balancer,
            record_types=ALIAS_TYPES_INTERNAL,
        )
