"""Warnings: deployable, but not as they are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ops.preflight.model import construct_path
from ops.synth_reader import (
    Stack,
)

# Second-level names reserved for documentation (RFC 2606 section 3,
# https://www.rfc-editor.org/rfc/rfc2606#section-3): no one can validate a certificate for them.
PLACEHOLDER_ZONES = ("example.com", "example.net", "example.org")


@dataclass(frozen=True)
class Advisory:
    """A warning: the stack synthesizes and plans, but should not be deployed as it is."""

    rule: str
    stack: str
    address: str
    path: str
    problem: str
    fix: str

    def render(self) -> str:
        where = f"{self.stack}: {self.address}" + (f" ({self.path})" if self.path else "")
        return f"warning: {where}: [{self.rule}] {self.problem}; fix: {self.fix}"


def placeholder(name: object) -> str | None:
    """The reserved zone `name` is in (None: a real name)."""
    text = str(name).rstrip(".").lower()
    return next((z for z in PLACEHOLDER_ZONES if text == z or text.endswith(f".{z}")), None)


def advisories(stacks: Sequence[Stack]) -> list[Advisory]:
    """One `placeholder-zone` warning per stack whose DNS names or certificates sit in a
    reserved zone (the looked-up hosted zone, else the first certificate)."""
    found = []
    for stack in stacks:
        candidates = [
            ("data.aws_route53_zone", name, body, body.get("name"))
            for name, body in sorted(
                (stack.document.get("data", {}).get("aws_route53_zone") or {}).items()
            )
        ] + [
            ("aws_acm_certificate", name, body, body.get("domain_name"))
            for name, body in stack.items("aws_acm_certificate")
        ]
        for kind, name, body, domain in candidates:
            zone = placeholder(domain)
            if zone is not None:
                found.append(
                    Advisory(
                        "placeholder-zone",
                        stack.name,
                        f"{kind}.{name}",
                        construct_path(body),
                        f"{domain} is under {zone}, reserved for documentation (RFC 2606): "
                        "ACM cannot validate a certificate there, so apply would wait for "
                        "validation until it times out",
                        "replace the placeholder zone before deploying (domain.zone_name and "
                        "domain.hosts in the environment's file)",
                    )
                )
                break
    return found
