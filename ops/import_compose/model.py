"""What an import produces (`Imported`), its options, and the unreadable-file error."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.common import OpsError


class ComposeError(OpsError):
    """A compose file this command cannot read at all: `error: <reason>` and exit 2 through
    `ops.common.handle`, like every bad input to `python -m ops`."""


@dataclass
class Imported:
    """The converted configuration and what could not be mapped."""

    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    file_systems: dict[str, dict[str, Any]] = field(default_factory=dict)
    """EFS file systems for the compose file's named volumes."""
    notes: list[str] = field(default_factory=list)
    """One line per compose feature not mapped, each `<where>: <what> (<why>)`."""

    def as_overrides(self) -> dict[str, Any]:
        """What replaces BASE's keys: compose has no buckets, so none refer to old workloads."""
        return {
            "services": self.services,
            "jobs": self.jobs,
            "buckets": {},
            "file_systems": self.file_systems,
        }


@dataclass(frozen=True)
class Options:
    """Where secrets live: SSM parameters `/<project>/<service>/<VARIABLE>` in this account."""

    account_id: str
    region: str
    project: str
    base_dir: Path

    def parameter_arn(self, service: str, variable: str) -> str:
        return (
            f"arn:aws:ssm:{self.region}:{self.account_id}:parameter/"
            f"{self.project}/{service}/{variable}"
        )
