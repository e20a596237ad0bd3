"""Read synthesized stacks (`cdktf.out/stacks/<env>/cdk.tf.json`) and resolve their references.

Only the standard library: the ops commands read what synth wrote, never the cdktf app itself.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTDIR = PROJECT_ROOT / "cdktf.out"
OUTDIR_VARIABLE = "CDKTF_OUTDIR"
EXIT_BAD_INPUT = 2
# "${aws_lb.public-alb_B0993804.arn}" -> type, name, attribute
REFERENCE = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_.\[\]]+)\}")

Resource = dict[str, Any]


class SynthError(Exception):
    """A problem with the synthesized output, reported as one line and exit status 2."""

    exit_code = EXIT_BAD_INPUT


class Ref(NamedTuple):
    """One `${type.name.attribute}` reference."""

    type: str
    name: str
    attribute: str


def refs(value: Any) -> list[Ref]:
    """Every resource reference inside `value` (a string, or any JSON structure)."""
    text = value if isinstance(value, str) else json.dumps(value)
    return [Ref(*match) for match in REFERENCE.findall(text)]


def ref(value: Any) -> Ref | None:
    """The first resource reference in `value`, if any."""
    found = refs(value) if value is not None else []
    return found[0] if found else None


@dataclass(frozen=True)
class Stack:
    """One synthesized stack: its name, file and Terraform JSON document."""

    name: str
    path: Path
    document: dict[str, Any]

    def resources(self, resource_type: str) -> dict[str, Resource]:
        """Logical name -> body of every resource of `resource_type` (empty if none)."""
        found: dict[str, Resource] = self.document.get("resource", {}).get(resource_type, {})
        return found

    def items(self, resource_type: str) -> Iterator[tuple[str, Resource]]:
        """(logical name, body) pairs of `resource_type`, sorted by logical name."""
        return iter(sorted(self.resources(resource_type).items()))

    def resolve(self, reference: Ref | None) -> Resource | None:
        """The body of the resource `reference` points at (None if absent)."""
        if reference is None:
            return None
        return self.resources(reference.type).get(reference.name)

    @property
    def region(self) -> str:
        """The AWS provider's region (`provider.aws[0].region`)."""
        providers = self.document.get("provider", {}).get("aws") or [{}]
        region = providers[0].get("region")
        if not isinstance(region, str) or not region:
            raise SynthError(f"{self.path}: the aws provider block names no region")
        return region

    @property
    def is_platform(self) -> bool:
        """True for an environment stack (it has a VPC), False for e.g. the state bootstrap."""
        return bool(self.resources("aws_vpc"))


def default_outdir() -> Path:
    """Where synth writes and the ops commands read: `$CDKTF_OUTDIR` when set (the CDKTF CLI
    sets it; relative to the working directory), else the project's `cdktf.out`. main.py uses
    this same function, so both always agree."""
    configured = os.environ.get(OUTDIR_VARIABLE)
    return Path(configured) if configured else DEFAULT_OUTDIR


def stacks_dir(outdir: Path) -> Path:
    """`<outdir>/stacks`, or SynthError when nothing was synthesized there."""
    directory = outdir / "stacks"
    if not directory.is_dir():
        raise SynthError(
            f"no synthesized stacks in {outdir}: run `python main.py` (make synth) first "
            "or pass --outdir"
        )
    return directory


def available(outdir: Path) -> list[str]:
    """Names of the stacks synthesized under `outdir`, sorted."""
    directory = stacks_dir(outdir)
    return sorted(p.parent.name for p in directory.glob("*/cdk.tf.json"))


def load_stack(outdir: Path, env: str) -> Stack:
    """The synthesized stack of `env`; SynthError if missing or unreadable."""
    path = stacks_dir(outdir) / env / "cdk.tf.json"
    if "/" in env or env in {"", ".", ".."} or not path.is_file():
        names = ", ".join(available(outdir)) or "none"
        raise SynthError(f"no stack {env!r} in {outdir / 'stacks'} (available: {names})")
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SynthError(f"cannot read {path}: {error}") from None
    if not isinstance(document, dict):
        raise SynthError(f"{path}: not a Terraform JSON object")
    return Stack(env, path, document)


def load_stacks(outdir: Path, envs: Sequence[str] | None) -> list[Stack]:
    """The stacks of `envs`, or every environment stack under `outdir` when none are named."""
    if envs:
        return [load_stack(outdir, env) for env in envs]
    stacks = [load_stack(outdir, name) for name in available(outdir)]
    platforms = [stack for stack in stacks if stack.is_platform]
    if not platforms:
        raise SynthError(f"no environment stacks in {outdir / 'stacks'}")
    return platforms


def container_definitions(task_definition: Resource) -> list[dict[str, Any]]:
    """The task definition's containers (synth stores them as a JSON string)."""
    raw = task_definition.get("container_definitions", "[]")
    containers = json.loads(raw) if isinstance(raw, str) else raw
    return [c for c in containers if isinstance(c, dict)]


def service_name(stack: Stack, service: Resource) -> str:
    """The short service name: the ECS service name without its cluster's name prefix."""
    name = str(service.get("name", "?"))
    cluster = stack.resolve(ref(service.get("cluster")))
    prefix = f"{cluster.get('name')}-" if cluster else ""
    return name.removeprefix(prefix) if prefix and name != prefix else name


def endpoint_service(endpoint: Resource) -> str:
    """A VPC endpoint's short service name: `com.amazonaws.<region>.ecr.api` -> `ecr.api`."""
    parts = str(endpoint.get("service_name", "?")).split(".")
    return ".".join(parts[3:]) if len(parts) > 3 else parts[-1]


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    """`--env` (repeatable, default: every environment) and `--outdir` (the synth output)."""
    parser.add_argument(
        "--env", action="extend", nargs="+", metavar="ENV", help="environment(s) (default: all)"
    )
    parser.add_argument(
        "--outdir",
        type=Path,
        default=default_outdir(),
        help=f"synth output (default: ${OUTDIR_VARIABLE} or cdktf.out, as main.py)",
    )
