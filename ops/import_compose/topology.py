"""Across services: which are jobs, which one is public, ports and exposure, shared
images, and the callers of internal services."""

from __future__ import annotations

import json
from typing import Any

from ops.import_compose.compose import _hosts_in, _port_entries
from ops.import_compose.document import Document

PUBLIC_HOST_PORTS = (80, 443)


def job_names(doc: Document) -> set[str]:
    """Services others wait for to complete, or that ECS must not restart: one-shot jobs."""
    jobs = set()
    for name in doc.names:
        for dependency, condition in doc.depends_on(name).items():
            if condition == "service_completed_successfully" and dependency in doc.names:
                jobs.add(dependency)
        policy = (doc.specs[name].get("deploy") or {}).get("restart_policy") or {}
        if policy.get("condition") == "none":
            jobs.add(name)
    return jobs


def run_as_job(doc: Document, name: str, config: dict[str, Any]) -> None:
    waiting = [n for n in doc.names if doc.depends_on(n).get(name) is not None]
    doc.note(
        f"{name}: imported as a job (one-shot); run it with `python -m ops run-task --job "
        f"{doc.names[name]}` before deploying {', '.join(waiting) or 'the services'}"
    )
    for key in ("desired_count",):
        config.pop(key, None)
    if _ports(doc, name):
        doc.note(f"{name}.ports: not mapped: jobs take no traffic")


def _ports(doc: Document, name: str) -> list[tuple[int | None, int]]:
    ports = []
    for host, container, protocol, entry in _port_entries(doc.specs[name]):
        if container < 0:
            doc.note(f"{name}.ports: {entry!r} not mapped: give one container port, no range")
        elif protocol != "tcp":
            doc.note(f"{name}.ports: {entry!r} not mapped: load balancers here carry HTTP")
        else:
            ports.append((host, container))
    for port in doc.specs[name].get("expose") or ():
        if str(port).isdigit():
            ports.append((None, int(port)))
    return ports


def public_service(doc: Document, jobs: set[str]) -> str | None:
    published = [
        (name, host)
        for name in doc.names
        if name not in jobs
        for host, _ in _ports(doc, name)
        if host is not None
    ]
    for name, host in published:
        if host in PUBLIC_HOST_PORTS:
            return name
    return published[0][0] if published else None


def exposure_of(doc: Document, name: str, public: str | None) -> tuple[str, int | None]:
    ports = _ports(doc, name)
    if not ports:
        return "none", None
    for _, extra in ports[1:]:
        if extra != ports[0][1]:
            doc.note(
                f"{name}.ports: container port {extra} not mapped: a service takes traffic "
                f"on one port ({ports[0][1]})"
            )
    return ("public" if name == public else "internal"), ports[0][1]


def image_owners(doc: Document, jobs: set[str]) -> dict[str, str]:
    """Workloads built from the same context as an earlier service -> that service."""
    owners: dict[str, str] = {}
    first: dict[str, str] = {}
    for name in doc.names:
        build = doc.specs[name].get("build")
        if build is None or name in jobs:
            continue
        key = json.dumps(build, sort_keys=True)
        first.setdefault(key, name)
    for name in doc.names:
        build = doc.specs[name].get("build")
        if build is None:
            continue
        owner = first.get(json.dumps(build, sort_keys=True))
        if owner is not None and owner != name:
            owners[name] = owner
    return owners


def wire_callers(doc: Document, jobs: set[str]) -> None:
    """Internal services admit the services that use them; callers get `<NAME>_URL`."""
    from envs.schema.service import caller_url_variable

    services = doc.result.services
    for callee in doc.names:
        target = services.get(doc.names[callee])
        if target is None or target.get("exposure") != "internal":
            continue
        callers = [n for n in doc.names if n != callee and doc.uses(n, callee)]
        for caller in callers:
            if caller in jobs:
                doc.note(
                    f"{caller}: calls {callee!r}, but jobs cannot reach internal services "
                    "yet; run that work in a service"
                )
                continue
            settings = services[doc.names[caller]]
            target.setdefault("allowed_callers", []).append(doc.names[caller])
            variable = caller_url_variable(doc.names[callee])
            for key, value in list(settings.get("environment", {}).items()):
                if callee in _hosts_in(value, [callee]):
                    del settings["environment"][key]
                    doc.note(
                        f"{caller}.environment.{key}: dropped: {value!r} names compose host "
                        f"{callee!r}; the platform sets {variable} to its internal URL"
                    )
            if settings.get("environment") == {}:
                del settings["environment"]
