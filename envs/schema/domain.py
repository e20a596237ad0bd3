"""Config for HTTPS names: the public hosted zone, each public service's host names, internal TLS.

With a `domain`, the platform requests one ACM certificate for the public hosts (validated
through DNS), serves them over HTTPS on the public ALB with alias records, and, with
`internal_tls`, gives every internal service a name under a private hosted zone and a
certificate of its own, so callers verify `https://<service>.<internal_domain>`.
"""

from __future__ import annotations

import enum
import re
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from envs.schema.common import Strict, between

# ACM: "The default quota is 10 domain names for each ACM certificate", adjustable up to 100
# (https://docs.aws.amazon.com/acm/latest/userguide/acm-limits.html).
ACM_DOMAIN_NAMES_DEFAULT_QUOTA = 10
ACM_DOMAIN_NAMES_MAX_QUOTA = 100
# ACM RequestCertificate: the first domain name (the certificate's CN) may not exceed 64 octets
# (https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html).
ACM_FIRST_NAME_MAX = 64
# DNS names: at most 253 characters, labels of 1-63 letters, digits and '-' (RFC 1035 section
# 2.3.4; the provider's own check is StringLenBetween(1, 253) and "cannot end with a period" in
# internal/service/acm/certificate.go).
DNS_NAME_MAX = 253
DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# ALB host-header values: at most 128 characters, with at least one '.' and only letters after the
# last one (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_HostHeaderConditionConfig.html).
HOST_HEADER_MAX = 128
# ALB: "Condition values per rule: 5" (host names and path patterns of one listener rule count
# together; https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html).
ALB_CONDITION_VALUES_PER_RULE = 5
# Route 53 hosted zone ids: 'Z' and up to 31 upper-case letters and digits
# (https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZone.html, Id max 32).
ROUTE53_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")


class DnsMode(enum.StrEnum):
    """Who serves the public names."""

    ROUTE53 = "route53"
    """A public Route 53 hosted zone (looked up, never created): validation and alias records
    are created in it."""
    EXTERNAL = "external"
    """DNS elsewhere: the validation CNAMEs and the ALB's DNS name are stack outputs; create
    the records at your DNS provider (see the README)."""


def dns_name_problem(name: str) -> str | None:
    """Why `name` is not a DNS host name a certificate and an ALB accept (None: it is)."""
    if name != name.lower():
        return "must be lower case"
    if name.endswith("."):
        return "must not end with '.'"
    if len(name) > DNS_NAME_MAX:
        return f"is {len(name)} characters; DNS allows {DNS_NAME_MAX}"
    labels = name.split(".")
    if len(labels) < 2:
        return "needs at least two labels (name.tld)"
    if "*" in name and (labels[0] != "*" or "*" in ".".join(labels[1:])):
        return "may use '*' only as the whole leftmost label (as in *.example.com)"
    for label in labels[1:] if labels[0] == "*" else labels:
        if not DNS_LABEL.fullmatch(label):
            return (
                f"has label {label!r}: labels are 1-63 letters, digits and '-', "
                "not starting or ending with '-'"
            )
    if not labels[-1].isalpha():
        return "must end in a top-level domain of letters only"
    return None


def within(name: str, zone: str) -> bool:
    """True when `name` is `zone` or a name under it."""
    return name == zone or name.endswith(f".{zone}")


class DomainConfig(Strict):
    """HTTPS names for the environment's load balancers (unset: the ALBs' own DNS names, HTTP)."""

    zone_name: str
    """The public DNS zone, e.g. `example.com`. Every host must be in it. With `dns: route53` the
    public hosted zone of this name is looked up (never created)."""
    zone_id: str | None = None
    """Route 53 hosted zone id (`Z...`) to look the zone up by, when several zones share the
    name; unset: looked up by `zone_name`. The stack fails at plan if the id's zone has
    another name."""
    dns: DnsMode = DnsMode.ROUTE53
    """`route53` (records created in the zone) or `external` (records to create are outputs)."""
    hosts: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Public service name -> the host names it answers, e.g. `{"frontend": ["app.example.com",
    "www.example.com"]}`. The first host of the first service is the public URL."""
    internal_tls: bool = True
    """Serve the internal ALB over HTTPS: a private hosted zone `internal_domain` on the VPC,
    `<service>.<internal_domain>` per internal service, a certificate validated through the
    public zone. False: the internal ALB stays HTTP on its own DNS name."""
    internal_domain: str | None = None
    """The private zone's name; unset: `internal.<zone_name>`. Must be under `zone_name` (its
    certificate is validated through the public zone) and differ from it."""
    acm_domain_names_quota: Annotated[
        int, between(ACM_DOMAIN_NAMES_DEFAULT_QUOTA, ACM_DOMAIN_NAMES_MAX_QUOTA)
    ] = ACM_DOMAIN_NAMES_DEFAULT_QUOTA
    """Names one ACM certificate may hold (the ACM quota: its default unless AWS raised it for
    the account)."""

    @field_validator("zone_name")
    @classmethod
    def _zone(cls, value: str) -> str:
        problem = dns_name_problem(value)
        if problem is None and value.startswith("*"):
            problem = "must not be a wildcard"
        if problem:
            raise ValueError(f"zone_name {value!r} {problem}")
        return value

    @field_validator("zone_id")
    @classmethod
    def _zone_id(cls, value: str | None) -> str | None:
        if value is not None and not ROUTE53_ZONE_ID.fullmatch(value):
            raise ValueError(
                f"zone_id {value!r} is not a Route 53 hosted zone id ('Z' and up to 31 upper-case "
                "letters and digits, e.g. Z0123456789ABCDEFGHIJ)"
            )
        return value

    @model_validator(mode="after")
    def _names(self) -> DomainConfig:
        problems = []
        if self.zone_id is not None and self.dns is DnsMode.EXTERNAL:
            problems.append("zone_id: a zone id needs dns 'route53'; remove it or set dns")
        owners: dict[str, str] = {}
        for service, hosts in self.hosts.items():
            where = f"hosts.{service}"
            if not hosts:
                problems.append(f"{where}: give at least one host name or remove the entry")
            for host in hosts:
                problem = dns_name_problem(host)
                if problem is None and len(host) > HOST_HEADER_MAX:
                    problem = (
                        f"is {len(host)} characters; an ALB host rule allows {HOST_HEADER_MAX}"
                    )
                if problem:
                    problems.append(f"{where}: host {host!r} {problem}")
                elif not within(host, self.zone_name):
                    problems.append(
                        f"{where}: host {host!r} is outside the zone {self.zone_name!r}; use a "
                        f"name ending in .{self.zone_name} or change zone_name"
                    )
                elif host in owners:
                    problems.append(
                        f"{where}: host {host!r} is already served by {owners[host]!r}; one host "
                        "name routes to one service"
                    )
                elif (
                    self.internal_tls
                    and self.private_zone != self.zone_name
                    and within(host, self.private_zone)
                ):
                    problems.append(
                        f"{where}: host {host!r} is inside the internal domain "
                        f"{self.private_zone!r}; public names must stay out of it"
                    )
                owners.setdefault(host, service)
        problems += self._wildcard_problems(owners)
        first = self.public_hosts[0] if self.public_hosts else None
        if first is not None and first.startswith("*"):
            problems.append(
                f"hosts: the first host {first!r} is the public URL and the certificate's name; "
                "put a host without '*' first"
            )
        if first is not None and len(first) > ACM_FIRST_NAME_MAX:
            problems.append(
                f"hosts: the first host {first!r} is the certificate's common name and ACM allows "
                f"{ACM_FIRST_NAME_MAX} characters; put a shorter host first"
            )
        if len(self.public_hosts) > self.acm_domain_names_quota:
            problems.append(
                f"hosts: {len(self.public_hosts)} host names need one certificate with that many "
                f"names but ACM allows {self.acm_domain_names_quota} per certificate; drop hosts, "
                "or raise acm_domain_names_quota after AWS raised the account's quota"
            )
        internal = self.private_zone
        problem = dns_name_problem(internal)
        if problem or internal.startswith("*"):
            problems.append(f"internal_domain: {internal!r} {problem or 'must not be a wildcard'}")
        elif internal == self.zone_name:
            problems.append(
                f"internal_domain: {internal!r} equals the public zone; use a name under it, "
                f"e.g. internal.{self.zone_name}"
            )
        elif not within(internal, self.zone_name):
            problems.append(
                f"internal_domain: {internal!r} is outside the zone {self.zone_name!r}; its "
                f"certificate is validated through that zone, so use a name ending in "
                f".{self.zone_name}"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @staticmethod
    def _wildcard_problems(owners: dict[str, str]) -> list[str]:
        """A wildcard of one service must not also cover another service's host."""
        problems = []
        for wildcard, owner in owners.items():
            if not wildcard.startswith("*."):
                continue
            parent = wildcard[2:]
            for host, other in owners.items():
                covered = host.endswith(f".{parent}") and host.count(".") == wildcard.count(".")
                if other != owner and host != wildcard and covered:
                    problems.append(
                        f"hosts.{owner}: wildcard {wildcard!r} also matches {host!r} of "
                        f"{other!r}; list {owner!r}'s names explicitly"
                    )
        return problems

    @property
    def public_hosts(self) -> tuple[str, ...]:
        """Every public host, in config order, without duplicates: the certificate's names."""
        return tuple(dict.fromkeys(host for hosts in self.hosts.values() for host in hosts))

    @property
    def private_zone(self) -> str:
        """The internal domain (private hosted zone name)."""
        return self.internal_domain or f"internal.{self.zone_name}"

    def internal_host(self, service: str) -> str:
        """The name callers use for an internal service."""
        return f"{service}.{self.private_zone}"


__all__ = [
    "ACM_DOMAIN_NAMES_DEFAULT_QUOTA",
    "DnsMode",
    "DomainConfig",
    "dns_name_problem",
]
