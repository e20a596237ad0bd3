"""Reading the synthesized JSON generically: addresses, references, the stack model."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from modules.ports import HTTPS
from ops.preflight.finding import Finding, When
from ops.synth_reader import (
    Resource,
    Stack,
)

ANYWHERE = "0.0.0.0/0"

# A live reference: `${type.name...}` or `${data.type.name...}`, not escaped as `$${`.
LIVE_REFERENCE = re.compile(r"(?<!\$)\$\{(data\.)?([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)")
NON_RESOURCE_ROOTS = {"var", "local", "module", "each", "count", "path", "self", "terraform"}


@dataclass(frozen=True)
class Address:
    type: str
    name: str
    data: bool = False

    def __str__(self) -> str:
        return f"{'data.' if self.data else ''}{self.type}.{self.name}"


def addresses(value: Any) -> list[Address]:
    """Every resource or data source a JSON value references (through `${...}`)."""
    text = value if isinstance(value, str) else json.dumps(value)
    found = []
    for data, type_, name in LIVE_REFERENCE.findall(text):
        if not data and type_ in NON_RESOURCE_ROOTS:
            continue
        found.append(Address(type_, name, bool(data)))
    return found


def address(value: Any) -> Address | None:
    found = addresses(value) if value is not None else []
    return found[0] if found else None


def construct_path(body: Resource) -> str:
    metadata = (body.get("//") or {}).get("metadata") or {}
    return str(metadata.get("path", ""))


def literal(value: Any) -> str | None:
    """A plain string without interpolation (its value is known at plan), else None."""
    if isinstance(value, str) and not addresses(value) and "${" not in value.replace("$${", ""):
        return value.replace("$${", "${").replace("%%{", "%{")
    return None


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def depends_on(body: Resource) -> set[str]:
    return {str(item) for item in as_list(body.get("depends_on"))}


class Model:
    """One stack, with the lookups the rules share."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.name = stack.name

    def items(self, type_: str) -> Iterator[tuple[str, Resource]]:
        return self.stack.items(type_)

    def get(self, ref: Address | None) -> Resource | None:
        if ref is None or ref.data:
            return None
        return self.stack.resources(ref.type).get(ref.name)

    def finding(
        self, rule: str, type_: str, name: str, when: When, problem: str, fix: str
    ) -> Finding:
        body = self.stack.resources(type_).get(name, {})
        return Finding(rule, self.name, f"{type_}.{name}", construct_path(body), when, problem, fix)

    @property
    def region(self) -> str:
        providers = self.stack.document.get("provider", {}).get("aws") or [{}]
        return str(providers[0].get("region", ""))

    # --- network --------------------------------------------------------------------------

    def route_tables_of(self, subnet: str) -> set[str]:
        return {
            str(address(assoc.get("route_table_id")))
            for _, assoc in self.items("aws_route_table_association")
            if (a := address(assoc.get("subnet_id"))) and a.name == subnet
        }

    def internet_routes(self) -> dict[str, set[str]]:
        """Route table address -> kinds of its 0.0.0.0/0 targets ('nat', 'igw')."""
        routes: dict[str, set[str]] = defaultdict(set)
        entries: list[tuple[str, Resource]] = [
            (str(address(r.get("route_table_id"))), r) for _, r in self.items("aws_route")
        ]
        for name, body in self.items("aws_route_table"):
            entries += [(f"aws_route_table.{name}", r) for r in as_list(body.get("route"))]
        for table_address, route in entries:
            if route.get("destination_cidr_block") != ANYWHERE:
                continue
            if route.get("nat_gateway_id"):
                routes[table_address].add("nat")
            elif str(route.get("gateway_id", "")).startswith("${aws_internet_gateway."):
                routes[table_address].add("igw")
        return routes

    def vpc_of_subnets(self, subnets: Iterable[Address]) -> str | None:
        for subnet in subnets:
            body = self.get(subnet)
            if body and (vpc := address(body.get("vpc_id"))):
                return str(vpc)
        return None

    # --- security groups ------------------------------------------------------------------

    def rules(self, direction: str) -> list[Resource]:
        standalone = [body for _, body in self.items(f"aws_vpc_security_group_{direction}_rule")]
        kind = "ingress" if direction == "ingress" else "egress"
        legacy = [
            {**body, "security_group_id": body.get("security_group_id")}
            for _, body in self.items("aws_security_group_rule")
            if body.get("type") == kind
        ]
        inline = [
            {**rule, "security_group_id": f"${{aws_security_group.{name}.id}}"}
            for name, group in self.items("aws_security_group")
            for rule in as_list(group.get(kind))
        ]
        return standalone + legacy + inline

    def egress_443(self, groups: Iterable[str]) -> list[Resource]:
        chosen = set(groups)
        return [
            rule
            for rule in self.rules("egress")
            if str(address(rule.get("security_group_id"))) in chosen and covers(rule, HTTPS)
        ]

    def reaches_internet(self, groups: Iterable[str]) -> bool:
        return any(
            rule.get("cidr_ipv4") == ANYWHERE or ANYWHERE in as_list(rule.get("cidr_blocks"))
            for rule in self.egress_443(groups)
        )

    def reaches_group(self, groups: Iterable[str], target: str) -> bool:
        """Some group in `groups` may open 443 to `target` and `target` admits it."""
        chosen = {str(g) for g in groups}
        out = any(
            str(
                address(
                    rule.get("referenced_security_group_id") or rule.get("source_security_group_id")
                )
            )
            == target
            or rule.get("cidr_ipv4") == ANYWHERE
            for rule in self.egress_443(chosen)
        )
        into = any(
            str(address(rule.get("security_group_id"))) == target
            and covers(rule, HTTPS)
            and (
                str(
                    address(
                        rule.get("referenced_security_group_id")
                        or rule.get("source_security_group_id")
                    )
                )
                in chosen
            )
            for rule in self.rules("ingress")
        )
        return out and into


def covers(rule: Resource, port: int) -> bool:
    if str(rule.get("ip_protocol", rule.get("protocol", ""))) in ("-1", "all"):
        return True
    low, high = rule.get("from_port"), rule.get("to_port")
    return isinstance(low, int) and isinstance(high, int) and low <= port <= high
