"""Converting compose services into platform services, jobs and file systems: the order of
the steps; each concern in its own module (workload settings, volumes, topology)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ops.import_compose.compose import _base_image_name
from ops.import_compose.document import Document
from ops.import_compose.mapping import MANAGED_SERVICES, TOP_LEVEL_IGNORED, TOP_LEVEL_NOTES
from ops.import_compose.model import Imported, Options
from ops.import_compose.topology import (
    exposure_of,
    image_owners,
    job_names,
    public_service,
    run_as_job,
    wire_callers,
)
from ops.import_compose.workload import health_path, workload_settings


def convert(compose: Mapping[str, Any], options: Options) -> Imported:
    """Convert a parsed compose document: name the workloads (data stores and brokers go to
    managed services), then each one's settings, then what links them."""
    doc = Document(compose, options)
    for key in doc.compose:
        if key in TOP_LEVEL_NOTES:
            doc.note(f"{key} (top level): not mapped: {TOP_LEVEL_NOTES[key]}")
        elif key not in TOP_LEVEL_IGNORED and not str(key).startswith("x-"):
            doc.note(f"{key} (top level): not mapped: no equivalent in the platform")
    for name, spec in doc.specs.items():
        image = str(spec.get("image", ""))
        if image and "build" not in spec and _base_image_name(image) in MANAGED_SERVICES:
            doc.managed[name] = MANAGED_SERVICES[_base_image_name(image)]
            continue
        platform_name = doc.platform_name(name, refused=f"{name}: not imported")
        if platform_name is None:
            continue
        if platform_name != name:
            doc.note(f"{name}: imported as {platform_name!r} (names are DNS labels)")
        doc.names[name] = platform_name
    for name, product in doc.managed.items():
        users = [n for n in doc.names if doc.uses(n, name)]
        doc.note(
            f"{name}: not run on Fargate: image {doc.specs[name]['image']!r} is a data "
            f"store or broker; use {product} and give its endpoint to "
            f"{', '.join(users) or 'the services that use it'} as a secret; open the way "
            "with their `destinations` (its security group and port)"
        )
    jobs = job_names(doc)
    public = public_service(doc, jobs)
    owners = image_owners(doc, jobs)
    internal_seen = 0
    for name in doc.names:
        where = doc.names[name]
        config = workload_settings(doc, name, owners)
        if name in jobs:
            run_as_job(doc, name, config)
            doc.result.jobs[where] = config
            continue
        exposure, port = exposure_of(doc, name, public)
        config["exposure"] = exposure
        if port is not None:
            config["container_port"] = port
            check = config.get("container_health_check")
            path = health_path(check)
            if path is not None:
                config["health_check"] = {"path": path}
            else:
                doc.note(
                    f"{name}: the load balancer checks /health (set "
                    f"services.{where}.health_check.path if the app answers elsewhere)"
                )
        if exposure == "internal":
            internal_seen += 1
            if internal_seen > 1:
                config["path_patterns"] = [f"/{where}/*"]
                doc.note(
                    f"{name}: shares the internal ALB, so it is routed by path /{where}/*; "
                    "serve under that prefix or set host_headers instead"
                )
        doc.result.services[where] = config
    wire_callers(doc, jobs)
    if doc.names:
        # Compose containers reach the internet by default; keep that, and say how to stop.
        for config in (*doc.result.services.values(), *doc.result.jobs.values()):
            config["internet_egress"] = True
        doc.note(
            "all workloads: internet_egress is true, as compose containers reach the "
            "internet; set it to false where the VPC endpoints are enough (the egress proof "
            "names what is missing)"
        )
    return doc.result


def _rehost(
    overrides: dict[str, Any], imported: Imported, public: list[str], *, source: str
) -> dict[str, Any]:
    """An env file's `domain.hosts` for services the import replaces: moved to the imported
    public service (when there is exactly one), with a note saying to do the same."""
    domain = overrides.get("domain")
    if not isinstance(domain, dict) or not isinstance(domain.get("hosts"), dict):
        return overrides
    hosts: dict[str, Any] = domain["hosts"]
    stale = [service for service in hosts if service not in imported.services]
    if not stale:
        return overrides
    moved = {k: v for k, v in hosts.items() if k not in stale}
    if len(public) == 1 and len(stale) == 1 and public[0] not in moved:
        moved[public[0]] = hosts[stale[0]]
        imported.notes.append(
            f"{source}: domain.hosts.{stale[0]} names a service the import replaces; move its "
            f"host names to {public[0]!r} (checked that way)"
        )
    else:
        imported.notes.append(
            f"{source}: domain.hosts {stale} name services the import replaces; give their host "
            f"names to the public services ({', '.join(public) or 'none'})"
        )
    return {**overrides, "domain": {**domain, "hosts": moved}}


def check(imported: Imported) -> list[str]:
    """What `make check` would say with the import pasted into envs/base.py."""
    import importlib

    from envs import DEFAULT_ENVIRONMENTS, ConfigError, build_environment
    from envs.base import BASE

    base = {**BASE, **imported.as_overrides()}
    public = [n for n, s in imported.services.items() if s.get("exposure") == "public"]
    problems: list[str] = []
    for name in DEFAULT_ENVIRONMENTS:
        overrides = importlib.import_module(f"envs.{name}").OVERRIDES
        kept = {k: v for k, v in overrides.items() if k not in imported.as_overrides()}
        kept = _rehost(kept, imported, public, source=f"envs/{name}.py")
        try:
            build_environment(kept, base=base, source=f"envs/{name}.py")
        except ConfigError as error:
            problems += [p for p in error.problems if p not in problems]
    return problems
