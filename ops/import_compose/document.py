"""The compose document being converted, and what the conversion has produced so far."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ops.import_compose.compose import _environment, _hosts_in
from ops.import_compose.model import Imported, Options


@dataclass
class Document:
    """One compose document: its services' specs read once, in file order, and the result
    every conversion step adds to (settings, file systems, notes)."""

    compose: Mapping[str, Any]
    options: Options
    specs: dict[str, dict[str, Any]] = field(init=False)
    result: Imported = field(default_factory=Imported)
    names: dict[str, str] = field(default_factory=dict)
    """Compose name -> platform name (DNS-safe)."""
    managed: dict[str, str] = field(default_factory=dict)
    """Compose name -> the managed AWS service that replaces it."""

    def __post_init__(self) -> None:
        self.specs = {
            str(name): spec if isinstance(spec, dict) else {}
            for name, spec in self.compose["services"].items()
        }

    def note(self, message: str) -> None:
        self.result.notes.append(message)

    def platform_name(self, compose_name: str, *, refused: str) -> str | None:
        """`compose_name` as a platform name (lowercase, '-' for '_'); None, with the note
        `<refused>: <why>`, when it is not a valid name even then."""
        from envs.schema.common import check_name

        name = compose_name.lower().replace("_", "-")
        try:
            check_name(name)
        except ValueError as error:
            self.note(f"{refused}: {error}")
            return None
        return name

    def depends_on(self, name: str) -> dict[str, str]:
        """Dependency -> condition (compose's short form means service_started)."""
        raw = self.specs[name].get("depends_on") or {}
        if isinstance(raw, list):
            return {str(d): "service_started" for d in raw}
        return {str(d): str((v or {}).get("condition", "service_started")) for d, v in raw.items()}

    def uses(self, name: str, other: str) -> bool:
        """Whether `name` depends on, links to or names `other` as a host in its environment."""
        spec = self.specs[name]
        links = [str(link).split(":")[0] for link in spec.get("links") or ()]
        values = [v for v in _environment(spec).values() if v]
        return (
            other in self.depends_on(name)
            or other in links
            or any(other in _hosts_in(value, [other]) for value in values)
        )
