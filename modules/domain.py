"""HTTPS names of one environment: zones, certificates and alias records, wired to the ALBs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from constructs import Construct

from envs.schema.domain import DnsMode, DomainConfig
from envs.schema.service import Exposure
from modules.alb import LoadBalancer
from modules.certificate import Certificate
from modules.dns import PrivateZone, PublicZone
from modules.network import Network


class Domain(Construct):
    """Certificates first (the ALBs' listeners need them), alias records once the ALBs exist.

    - `public_hosts`: one certificate for all of them (unless `existing_certificate_arns` has
      one for the public ALB), validated in the public zone; A + AAAA aliases to the public ALB
      there (`dns: route53`), or outputs to copy to the DNS provider (`dns: external`).
    - `internal_hosts` (service -> name): a private hosted zone on the VPC, an A alias per
      name to the internal ALB, one certificate for the names validated through the public
      zone (ACM validates only through public DNS).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: DomainConfig,
        *,
        network: Network,
        name: str,
        public_hosts: Sequence[str],
        internal_hosts: Mapping[str, str],
        existing_certificate_arns: Mapping[Exposure, str],
    ) -> None:
        super().__init__(scope, id_)
        self.config = config
        self.public_hosts = tuple(public_hosts)
        self.internal_hosts = dict(internal_hosts)
        self.public_zone = (
            PublicZone(self, "public-zone", config) if config.dns is DnsMode.ROUTE53 else None
        )
        self.private_zone = (
            PrivateZone(self, "private-zone", name=config.private_zone, network=network)
            if self.internal_hosts
            else None
        )
        self.certificates: dict[Exposure, Certificate] = {}
        self.certificate_arns: dict[Exposure, str] = {}
        for exposure, names in (
            (Exposure.PUBLIC, self.public_hosts),
            (Exposure.INTERNAL, tuple(self.internal_hosts.values())),
        ):
            if not names:
                continue
            existing = existing_certificate_arns.get(exposure)
            if existing is not None:
                self.certificate_arns[exposure] = existing
                continue
            certificate = Certificate(
                self,
                f"{exposure}-certificate",
                names=names,
                zone=self.public_zone,
                name=f"{name}-{exposure}",
            )
            self.certificates[exposure] = certificate
            self.certificate_arns[exposure] = certificate.arn

    def add_aliases(self, load_balancers: Mapping[Exposure, LoadBalancer]) -> None:
        """Point every name at its ALB (public names only when the zone is in Route 53)."""
        public = load_balancers.get(Exposure.PUBLIC)
        if self.public_zone is not None and public is not None:
            for host in self.public_hosts:
                self.public_zone.alias(host, public)
        internal = load_balancers.get(Exposure.INTERNAL)
        if self.private_zone is not None and internal is not None:
            for host in self.internal_hosts.values():
                self.private_zone.alias(host, internal)

    @property
    def public_url(self) -> str | None:
        """`https://<first host>`, the environment's front door."""
        return f"https://{self.public_hosts[0]}" if self.public_hosts else None

    def internal_url(self, service: str) -> str | None:
        """`https://<service>.<internal domain>` for an internal service with a name."""
        host = self.internal_hosts.get(service)
        return f"https://{host}" if host else None
