"""Security groups with no inline rules; every rule is its own resource, made where the
connection is made."""

from __future__ import annotations

from constructs import Construct

from modules.aws import (
    security_group,
    vpc_security_group_egress_rule,
    vpc_security_group_ingress_rule,
)

ANYWHERE_IPV4 = "0.0.0.0/0"
ANYWHERE_IPV6 = "::/0"


def _tcp_rule(
    rule: type[vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule]
    | type[vpc_security_group_egress_rule.VpcSecurityGroupEgressRule],
    scope: Construct,
    id_: str,
    *,
    group_id: str,
    port: int,
    description: str,
    referenced_security_group_id: str | None = None,
    cidr_ipv4: str | None = None,
    cidr_ipv6: str | None = None,
    prefix_list_id: str | None = None,
) -> None:
    """One TCP port rule (ingress or egress) on `group_id`, with exactly one peer."""
    rule(
        scope,
        id_,
        security_group_id=group_id,
        referenced_security_group_id=referenced_security_group_id,
        cidr_ipv4=cidr_ipv4,
        cidr_ipv6=cidr_ipv6,
        prefix_list_id=prefix_list_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=description,
    )


INGRESS = vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule
EGRESS = vpc_security_group_egress_rule.VpcSecurityGroupEgressRule


class SecurityGroup(Construct):
    """A security group that starts closed (no ingress, no egress).

    Open it along the architecture only: `allow_from(peer, port)` adds the ingress rule on
    this group *and* the matching egress rule on the peer, so both ends stay least-privilege.
    """

    def __init__(
        self, scope: Construct, id_: str, *, name: str, description: str, vpc_id: str
    ) -> None:
        super().__init__(scope, id_)
        self.group = security_group.SecurityGroup(
            self,
            "sg",
            name=name,
            description=description,
            vpc_id=vpc_id,
            revoke_rules_on_delete=True,
            tags={"Name": name},
        )
        # No inline rules: Terraform deletes the allow-all egress rule AWS adds to a new group,
        # and inline rules would fight the separate rule resources made below.
        self.id: str = self.group.id
        self.name = name

    def allow_from(self, peer: SecurityGroup, port: int, *, description: str) -> None:
        """Let `peer` open TCP connections to this group on `port`."""
        rule_id = f"from-{peer.name}-{port}"
        _tcp_rule(
            INGRESS,
            self,
            rule_id,
            group_id=self.id,
            port=port,
            referenced_security_group_id=peer.id,
            description=description,
        )
        _tcp_rule(
            EGRESS,
            peer,
            f"to-{self.name}-{port}",
            group_id=peer.id,
            port=port,
            referenced_security_group_id=self.id,
            description=description,
        )

    def allow_from_anywhere(self, port: int, *, description: str) -> None:
        """Ingress on `port` from the whole internet, IPv4 and IPv6 (public ALB listeners)."""
        for family, cidr in (("ipv4", ANYWHERE_IPV4), ("ipv6", ANYWHERE_IPV6)):
            _tcp_rule(
                INGRESS,
                self,
                f"from-anywhere-{family}-{port}",
                group_id=self.id,
                port=port,
                description=description,
                cidr_ipv4=cidr if family == "ipv4" else None,
                cidr_ipv6=cidr if family == "ipv6" else None,
            )

    def allow_to_prefix_list(self, prefix_list_id: str, port: int, *, description: str) -> None:
        """Egress to an AWS-managed prefix list (e.g. the S3 gateway endpoint's)."""
        _tcp_rule(
            EGRESS,
            self,
            f"to-prefix-list-{port}",
            group_id=self.id,
            port=port,
            prefix_list_id=prefix_list_id,
            description=description,
        )

    def allow_to_anywhere(self, port: int, *, description: str) -> None:
        """Egress on `port` to the internet (through NAT), IPv4 only."""
        _tcp_rule(
            EGRESS,
            self,
            f"to-anywhere-{port}",
            group_id=self.id,
            port=port,
            cidr_ipv4=ANYWHERE_IPV4,
            description=description,
        )

    def allow_to_cidr(self, cidr: str, port: int, *, description: str) -> None:
        """Egress on `port` to a private IPv4 range (e.g. a database subnet)."""
        _tcp_rule(
            EGRESS,
            self,
            f"to-{cidr.replace('/', '-')}-{port}",
            group_id=self.id,
            port=port,
            cidr_ipv4=cidr,
            description=description,
        )

    def allow_to_group_id(
        self, group_id: str, port: int, *, description: str, peer_ingress: bool
    ) -> None:
        """Egress on `port` to a security group outside this stack, and (`peer_ingress`) the
        matching ingress rule on that group, so both ends admit exactly this connection."""
        _tcp_rule(
            EGRESS,
            self,
            f"to-{group_id}-{port}",
            group_id=self.id,
            port=port,
            referenced_security_group_id=group_id,
            description=description,
        )
        if peer_ingress:
            _tcp_rule(
                INGRESS,
                self,
                f"into-{group_id}-{port}",
                group_id=group_id,
                port=port,
                referenced_security_group_id=self.id,
                description=description,
            )
