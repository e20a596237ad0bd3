"""Sidecar and preset validation: each message names the field, the value and the fix. No
provider."""

from __future__ import annotations

from typing import Any

import pytest

from envs import ConfigError, merge
from tests.constants import ROOT
from tests.example_envs import build_example
from tests.example_envs.dev import OVERRIDES as DEV
from tests.variants import NGINX


def rejected(overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        build_example(merge(DEV, overrides), source="envs/dev.py")
    return caught.value.render()


def backend(**settings: Any) -> dict[str, Any]:
    return {"services": {"backend": settings}}


@pytest.mark.parametrize(
    "overrides,expected",
    [
        (
            backend(sidecars={"proxy": {"image": NGINX, "cpu": 512}}),
            "envs/dev.py: services.backend.sidecars: their cpu adds up to 512 units but the task "
            "has 512; leave some for the main container",
        ),
        (
            backend(sidecars={"proxy": {"image": NGINX, "memory_reservation_mib": 1024}}),
            "services.backend.sidecars: their memory adds up to 1024 MiB (proxy 1024) but the "
            "task has 1024 MiB",
        ),
        (
            backend(
                sidecar_presets=["otel-collector"],
                sidecars={"proxy": {"image": NGINX, "memory_reservation_mib": 900}},
            ),
            "their memory adds up to 1028 MiB (otel-collector 128, proxy 900)",
        ),
        (
            backend(sidecars={"proxy": {"image": NGINX, "memory_mib": 2048}}),
            "services.backend.sidecars.proxy.memory_mib: 2048 exceeds the task's memory_mib 1024",
        ),
        (
            backend(
                depends_on=[{"container": "proxy"}],
                sidecars={"proxy": {"image": NGINX, "depends_on": [{"container": "backend"}]}},
            ),
            "services.backend.depends_on: start order has a cycle",
        ),
        (
            backend(depends_on=[{"container": "cache"}]),
            "services.backend.depends_on: 'cache' is not another container of this task; known: ",
        ),
        (
            backend(
                sidecars={
                    "proxy": {
                        "image": NGINX,
                        "depends_on": [{"container": "backend", "condition": "HEALTHY"}],
                    }
                }
            ),
            "services.backend.sidecars.proxy.depends_on: 'backend' has no health check, so "
            "HEALTHY can never be met",
        ),
        (
            backend(
                depends_on=[{"container": "init", "condition": "SUCCESS"}],
                sidecars={"init": {"image": NGINX, "essential": True}},
            ),
            "services.backend.depends_on: SUCCESS cannot be set on the essential container 'init'",
        ),
        (
            backend(sidecars={"proxy": {"image": NGINX, "same_image_as": "frontend"}}),
            "services.backend.sidecars.proxy.image: set exactly one of image and same_image_as",
        ),
        (
            backend(sidecars={"proxy": {"same_image_as": "api"}}),
            "services.backend.sidecars.proxy.same_image_as: 'api' is neither this workload nor a "
            "service; known: backend, frontend, backend",
        ),
        (
            backend(sidecars={"proxy": {"image": NGINX, "user": "root user"}}),
            "services.backend.sidecars.proxy.user: 'root user' is not a container user; use "
            "name, uid, name:group or uid:gid",
        ),
        (
            backend(sidecars={"proxy": {"image": NGINX, "user": "0:0"}}),
            "services.backend.sidecars.proxy.user: '0:0' runs the container as root; use a "
            "non-root uid",
        ),
        (
            backend(sidecars={"proxy": {"image": NGINX, "ports": [8081, 70000]}}),
            "services.backend.sidecars.proxy: ports must be 1-65535; got 70000",
        ),
        (
            backend(sidecars={"proxy": {"image": NGINX, "memory_mib": 4}}),
            "services.backend.sidecars.proxy.memory_mib: ECS needs at least 6 MiB; got 4",
        ),
        (
            backend(sidecars={"log-router": {"image": NGINX}}),
            "services.backend.sidecars: 'log-router' is taken by the main container or a preset",
        ),
        (
            backend(sidecar_presets=["xray"]),
            "services.backend.sidecar_presets.0: Input should be 'firelens' or 'otel-collector'",
        ),
        (
            {"jobs": {"migrate": {"sidecar_presets": ["firelens"]}}},
            "jobs.migrate.sidecar_presets: 'firelens' is for services",
        ),
    ],
)
def test_rejected_containers(overrides: dict[str, Any], expected: str) -> None:
    assert expected in rejected(overrides)


def test_presets_need_nat_or_the_xray_endpoint() -> None:
    message = rejected(
        {
            "network": {"nat_mode": "none"},
            "endpoints": {"interface": ["ssmmessages"]},
            "services": {"backend": {"sidecar_presets": ["otel-collector"]}},
        }
    )
    assert (
        "services.backend: pulling the otel-collector preset's image from public ECR needs the "
        "internet, and network.nat_mode is 'none' (VPC endpoints cannot reach other "
        "registries); fix: remove 'otel-collector' from sidecar_presets, or set "
        "network.nat_mode to 'single' or 'per_az'"
    ) in message
    assert (
        "services.backend: sending traces to X-Ray needs the xray VPC endpoint(s), and "
        "network.nat_mode is 'none'; fix: add 'xray' to endpoints.interface"
    ) in message


def test_readme_sidecar_example_is_valid() -> None:
    """The README's sidecar example, merged into dev, validates and says what it shows (the
    README test also synthesizes it and runs preflight)."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- example:sidecars -->\n```python\n")
    block = readme[start : readme.index("```\n", start + 40)].split("\n", 2)[2]
    overrides = eval("{" + block + "}")  # a literal dict entry, as pasted into an env file
    env = build_example(merge(DEV, overrides), source="README.md")
    reports = next(s for s in env.services if s.name == "reports")
    assert [p.value for p in reports.sidecar_presets] == ["otel-collector"]
    assert reports.sidecars["warm-cache"].same_image_as == "reports"
