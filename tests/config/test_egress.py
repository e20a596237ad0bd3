"""Egress-completeness proof: each rule in both directions. Config only, no provider."""

from __future__ import annotations

from typing import Any

import pytest

from envs import ConfigError, merge
from tests.example_envs import build_example
from tests.example_envs.base import BASE
from tests.example_envs.dev import OVERRIDES as DEV
from tests.variants import KMS_KEY, SM_SECRET, SSM_SECRET

NAT_NONE = {"network": {"nat_mode": "none"}}
# The baseline leaves out ECS Exec and the worker's queue (each has its own tests).
NO_EXEC = {"services": {"backend": {"enable_execute_command": False}, "worker": {"queue": None}}}
# Every dev workload opts in to HTTPS egress through NAT.
OPEN = {
    "services": {name: {"internet_egress": True} for name in BASE["services"]},
    "jobs": {"migrate": {"internet_egress": True}, "nightly-report": {"internet_egress": True}},
}


def gaps(*overrides: dict[str, Any]) -> list[str]:
    config: dict[str, Any] = dict(DEV)
    for override in (NO_EXEC, *overrides):
        config = merge(config, override)
    try:
        build_example(config, source="envs/dev.py")
    except ConfigError as error:
        return [p.removeprefix("envs/dev.py: ") for p in error.problems]
    return []


@pytest.mark.invariant
def test_defaults_have_no_gaps() -> None:
    assert gaps() == []
    assert gaps(NAT_NONE) == []  # ecr.api, ecr.dkr, logs and the S3 gateway are always on


def test_ecr_image_needs_ecr_endpoints_and_s3_gateway_or_nat() -> None:
    no_endpoints = {"endpoints": {"enabled": False}}
    assert gaps(no_endpoints, OPEN) == []  # NAT carries everything the workloads opt in to
    assert len(gaps(no_endpoints)) == 10  # egress is opt-in: without it, NAT carries nothing
    problems = gaps(NAT_NONE, no_endpoints)
    assert (
        "services.frontend: pulling its image from ECR needs the ecr.api + ecr.dkr + s3 gateway "
        "VPC endpoint(s), and network.nat_mode is 'none'; fix: set endpoints.enabled to true, or "
        "set network.nat_mode to 'single' or 'per_az'"
    ) in problems
    assert (
        "services.backend: shipping logs with awslogs needs the logs VPC endpoint(s), and "
        "network.nat_mode is 'none'; fix: set endpoints.enabled to true, or set "
        "network.nat_mode to 'single' or 'per_az'"
    ) in problems
    assert len(problems) == 10  # two needs for each of three services and two jobs
    assert sum(p.startswith("jobs.migrate: ") for p in problems) == 2


def test_external_registry_needs_nat_whatever_the_endpoints() -> None:
    external = {"services": {"frontend": {"image": {"external": "docker.io/library/nginx:1.27"}}}}
    assert gaps(external, OPEN) == []
    (closed,) = gaps(external)
    assert closed.startswith("services.frontend: pulling image 'docker.io/library/nginx:1.27' ")
    assert closed.endswith("or set services.frontend.internet_egress to true")
    all_endpoints = {"endpoints": {"interface": ["ecs", "ssm", "sts", "kms"]}}
    assert gaps(NAT_NONE, external, all_endpoints) == [
        "services.frontend: pulling image 'docker.io/library/nginx:1.27' from outside this "
        "region's ECR needs the internet, and network.nat_mode is 'none' (VPC endpoints cannot "
        "reach other registries); fix: push the image to the project's ECR (remove "
        "image.external), or set network.nat_mode to 'single' or 'per_az'"
    ]


def test_private_ecr_in_this_region_counts_as_ecr_but_other_regions_do_not() -> None:
    same = {
        "services": {
            "frontend": {
                "image": {
                    "external": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/shared/web:1.0"
                }
            }
        }
    }
    other = {
        "services": {
            "frontend": {
                "image": {"external": "123456789012.dkr.ecr.us-east-1.amazonaws.com/shared/web:1.0"}
            }
        }
    }
    assert gaps(NAT_NONE, same) == []
    (problem,) = gaps(NAT_NONE, other)
    assert problem.startswith("services.frontend: pulling image '123456789012.dkr.ecr.us-east-1")


@pytest.mark.parametrize(
    "service,endpoint,need",
    [
        ({"secrets": {"DB": SSM_SECRET}}, "ssm", "reading SSM parameter secrets"),
        ({"secrets": {"KEY": SM_SECRET}}, "secretsmanager", "reading Secrets Manager secrets"),
        (
            {"secrets": {"KEY": SM_SECRET}, "secrets_kms_key_arn": KMS_KEY},
            "kms",
            "decrypting secrets with KMS",
        ),
        ({"enable_execute_command": True}, "ssmmessages", "ECS Exec sessions"),
        ({"enable_execute_command": True}, "kms", "ECS Exec session encryption"),
    ],
)
def test_each_need_is_met_by_its_endpoint_or_nat(
    service: dict[str, Any], endpoint: str, need: str
) -> None:
    workload = {"services": {"backend": service}}
    assert gaps(workload, OPEN) == []  # NAT, opted in
    others = {"ssm", "secretsmanager", "kms", "ssmmessages"} - {endpoint}
    without = {"endpoints": {"interface": sorted(others)}}
    assert gaps(NAT_NONE, workload, without) == [
        f"services.backend: {need} needs the {endpoint} VPC endpoint(s), and network.nat_mode "
        f"is 'none'; fix: add '{endpoint}' to endpoints.interface, or set network.nat_mode to "
        "'single' or 'per_az'"
    ]
    with_it = {"endpoints": {"interface": sorted(others | {endpoint})}}
    assert gaps(NAT_NONE, workload, with_it) == []


def test_nat_without_internet_egress_needs_endpoints() -> None:
    closed = {"services": {"backend": {"internet_egress": False, "secrets": {"DB": SSM_SECRET}}}}
    assert gaps(closed) == [
        "services.backend: reading SSM parameter secrets needs the ssm VPC endpoint(s), and "
        "internet_egress is false; fix: add 'ssm' to endpoints.interface, or set "
        "services.backend.internet_egress to true"
    ]
    assert gaps(closed, {"endpoints": {"interface": ["ssm"]}}) == []


def test_internet_egress_is_opt_in_and_external_apis_require_it() -> None:
    env = build_example(DEV, source="envs/dev.py")
    assert not any(w.internet_egress for w in (*env.services, *env.jobs))
    calls = {"services": {"frontend": {"external_apis": ["api.stripe.com"]}}}
    assert gaps(calls) == [
        "services.frontend: calling api.stripe.com (external_apis) needs HTTPS to the internet, "
        "which is opt-in; fix: set services.frontend.internet_egress to true, or remove "
        "external_apis"
    ]
    opted_in = {"services": {"frontend": {"internet_egress": True}}}
    assert gaps(calls, opted_in) == []
    (nat_none,) = [p for p in gaps(calls, opted_in, NAT_NONE) if "external_apis" in p]
    assert "fix: set network.nat_mode to 'single' or 'per_az' and set " in nat_none


@pytest.mark.parametrize("host", ["https://api.stripe.com", "api.stripe.com/v1", "-bad.com", "x"])
def test_external_apis_must_be_host_names(host: str) -> None:
    (problem,) = gaps({"services": {"frontend": {"external_apis": [host]}}})
    assert problem.startswith("services.frontend.external_apis: ")
    assert repr(host) in problem and "are not host names" in problem


def test_service_connect_calls_stay_in_the_vpc_and_the_proxy_log_is_a_need() -> None:
    """Service Connect calls are task to task (security groups), so NAT none with the
    always-on endpoints has no gap; each participant's proxy ships its log through logs."""
    connect = {
        "service_connect": {},
        "services": {"backend": {"exposure": "service_connect"}},
    }
    assert gaps(NAT_NONE, connect) == []
    problems = gaps(NAT_NONE, connect, {"endpoints": {"enabled": False}})
    for service in ("frontend", "backend"):  # the caller and the published service
        assert (
            f"services.{service}: shipping its Service Connect proxy's log needs the logs VPC "
            "endpoint(s), and network.nat_mode is 'none'; fix: set endpoints.enabled to true, "
            "or set network.nat_mode to 'single' or 'per_az'"
        ) in problems
    assert not any(p.startswith("services.worker: shipping its Service") for p in problems)
