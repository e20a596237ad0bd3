"""Small helpers to query synthesized Terraform JSON by resource type and wiring."""

from __future__ import annotations

import json
from typing import Any

Json = dict[str, Any]


def resources(stack: Json, type_: str) -> dict[str, Json]:
    """All resources of one type, by logical name (empty when none)."""
    return stack.get("resource", {}).get(type_, {})


def only(stack: Json, type_: str) -> tuple[str, Json]:
    """The single resource of a type; fails when there are zero or several."""
    found = resources(stack, type_)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found.items()))


def ref(type_: str, name: str, attribute: str = "id") -> str:
    """The interpolation string Terraform JSON uses to reference a resource attribute."""
    return f"${{{type_}.{name}.{attribute}}}"


def by_path(stack: Json, type_: str, path_suffix: str) -> tuple[str, Json]:
    """The resource of a type whose construct path ends with `path_suffix`."""
    matches = [
        (name, body)
        for name, body in resources(stack, type_).items()
        if body["//"]["metadata"]["path"].endswith(path_suffix)
    ]
    assert len(matches) == 1, f"{type_} with path */{path_suffix}: found {len(matches)}"
    return matches[0]


def where(stack: Json, type_: str, **attributes: Any) -> dict[str, Json]:
    """Resources of a type whose attributes equal the given values."""
    return {
        name: body
        for name, body in resources(stack, type_).items()
        if all(body.get(key) == value for key, value in attributes.items())
    }


def policy(document: str) -> Json:
    """Parse a JSON policy string as synthesized (references stay as ${...} strings)."""
    return json.loads(document)


def security_group_names(stack: Json) -> dict[str, str]:
    """`${aws_security_group.<id>.id}` -> the group's name."""
    return {
        ref("aws_security_group", name): body["name"]
        for name, body in resources(stack, "aws_security_group").items()
    }


def rule_set(stack: Json, direction: str) -> set[tuple[str, str, int]]:
    """Every ingress or egress rule as (group, peer, port); peers are group names, CIDRs or
    'prefix-list'; groups outside the stack appear by their ID."""
    names = security_group_names(stack)
    rules = set()
    for body in resources(stack, f"aws_vpc_security_group_{direction}_rule").values():
        assert body["ip_protocol"] == "tcp" and body["from_port"] == body["to_port"], body
        if "referenced_security_group_id" in body:
            peer = names.get(
                body["referenced_security_group_id"], body["referenced_security_group_id"]
            )
        elif "prefix_list_id" in body:
            peer = "prefix-list"
        else:
            peer = body.get("cidr_ipv4") or body["cidr_ipv6"]
        group = names.get(body["security_group_id"], body["security_group_id"])
        rules.add((group, peer, body["from_port"]))
    return rules


def container_definitions(task_definition: Json) -> list[Json]:
    return json.loads(task_definition["container_definitions"])


def shared_workloads_group(stack: Json) -> str:
    """The reference to the security group every task shares (endpoint access)."""
    return ref(
        "aws_security_group", by_path(stack, "aws_security_group", "endpoints/workloads/sg")[0]
    )
