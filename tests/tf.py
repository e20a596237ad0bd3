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
