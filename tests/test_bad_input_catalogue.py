"""A catalogue of bad environment files, each fed through `python main.py` as a user runs it.

Every case edits one env file in a copy of the project, runs the real entry point in a
subprocess and expects: exit 2, a short "configuration rejected" message whose problem line
names the field, the offending value and a fix, no traceback, and `cdktf.out/` untouched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.project_copy import ROOT, project_copy, snapshot

ACCOUNT = "123456789012"
CERTIFICATE = (
    f"arn:aws:acm:ap-northeast-1:{ACCOUNT}:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
)
USER_POOL = f"arn:aws:cognito-idp:ap-northeast-1:{ACCOUNT}:userpool/ap-northeast-1_AbCdEf123"
COGNITO = {
    "user_pool_arn": USER_POOL,
    "user_pool_client_id": "3abc4defg5hij6klm7nop8qrs",
    "user_pool_domain": "shop-auth",
}
PROJECT_ENTRIES = ["cdktf.out", "envs", "main.py", "modules", "stacks"]
TRIPWIRE = "tripwire: jsii imported"


@dataclass(frozen=True)
class Case:
    """One bad input: what to merge into which env file, and what the problem line says."""

    id: str
    overrides: dict[str, Any]
    field: str
    """The problem line starts with this (after the source): the field's path."""
    value: str
    """The offending value as the message quotes it."""
    hint: str
    """Part of the fix the message suggests."""
    env: str = "dev"
    cross_env: bool = False
    """Checks across environments name both environments instead of one source file."""
    problems: int = 1
    extra: tuple[str, ...] = ()
    """More substrings the same problem line must contain."""
    bug: str | None = None
    """A known project bug makes this case fail: it runs as a strict xfail until fixed."""


def svc(name: str, **settings: Any) -> dict[str, Any]:
    return {"services": {name: settings}}


CASES: tuple[Case, ...] = (
    # Network.
    Case(
        "cidr-overlaps-another-env",
        {"network": {"vpc_cidr": "10.0.0.0/25"}},
        "network.vpc_cidr",
        "stg (10.0.0.0/25)",
        "give each environment its own range",
        env="stg",
        extra=("overlaps dev (10.0.0.0/24)",),
    ),
    Case(
        "env-name-used-twice",
        {"name": "dev"},
        "name",
        "'dev' is used twice",
        "each environment needs its own name",
        env="stg",
    ),
    Case(
        "cidr-too-small-for-subnets",
        {"network": {"vpc_cidr": "10.0.0.0/28"}},
        "network.vpc_cidr",
        "10.0.0.0/28 is too small for 4 subnets",
        "use a /26 or larger",
    ),
    Case(
        "cidr-prefix-out-of-range",
        {"network": {"vpc_cidr": "10.0.0.0/29"}},
        "network.vpc_cidr",
        "got 10.0.0.0/29",
        "from /16 to /28",
    ),
    Case(
        "cidr-host-bits-set",
        {"network": {"vpc_cidr": "10.0.0.1/24"}},
        "network.vpc_cidr",
        "'10.0.0.1/24'",
        "host bits zero (for example '10.0.0.0/16')",
    ),
    Case(
        "az-not-in-region",
        {"region": "us-east-1"},
        "network.availability_zones",
        "'ap-northeast-1a'",
        "use zones named us-east-1<letter>",
        extra=("not in region us-east-1",),
    ),
    Case(
        "fewer-than-two-azs",
        {"network": {"availability_zones": ["ap-northeast-1a"]}},
        "network.availability_zones",
        "got ['ap-northeast-1a']",
        "need at least 2 availability zones",
    ),
    Case(
        "unknown-nat-mode",
        {"network": {"nat_mode": "dual"}},
        "network.nat_mode",
        "(got 'dual')",
        "'none', 'single' or 'per_az'",
    ),
    Case(
        "bad-region-code",
        {"region": "tokyo"},
        "region",
        "'tokyo'",
        "use a code such as 'ap-northeast-1'",
    ),
    # Services.
    Case(
        "fargate-cpu-not-a-size",
        svc("frontend", cpu=300),
        "services.frontend: cpu/memory_mib",
        "cpu=300",
        "use one of 256, 512",
    ),
    Case(
        "fargate-memory-not-allowed-for-cpu",
        svc("backend", cpu=256, memory_mib=4096),
        "services.backend: cpu/memory_mib",
        "got 4096",
        "cpu=256 allows memory_mib 512, 1024, 2048",
    ),
    Case(
        "container-port-out-of-range",
        svc("frontend", container_port=70000),
        "services.frontend",
        "got 70000",
        "container_port must be 1-65535",
    ),
    Case(
        "duplicate-container-port-on-one-alb",
        svc("admin", exposure="public", container_port=3000, path_patterns=["/admin/*"]),
        "services",
        "['frontend', 'admin'] all use container_port 3000",
        "give each service on one ALB its own port",
    ),
    Case(
        "two-default-routes-on-one-alb",
        svc("admin", exposure="public", container_port=3001),
        "services",
        "['frontend', 'admin'] are all the default route",
        "give all but one path_patterns or host_headers",
    ),
    Case(
        "job-named-like-a-service",
        {"jobs": {"frontend": {"command": ["true"]}}},
        "jobs",
        "'frontend' is used more than once",
        "rename one",
    ),
    Case(
        "autoscaling-max-below-min",
        svc("frontend", autoscaling={"min_capacity": 3, "max_capacity": 2}),
        "services.frontend.autoscaling",
        "max_capacity (2) must be >= min_capacity (3)",
        ">= 1",
    ),
    Case(
        "desired-count-outside-autoscaling",
        svc("frontend", desired_count=5),
        "services.frontend.autoscaling",
        "got 1 <= 5 <= 2",
        "need min_capacity <= desired_count <= max_capacity",
    ),
    Case(
        "allowed-caller-unknown",
        svc("backend", allowed_callers=["web"]),
        "services.backend.allowed_callers",
        "'web'",
        "known: frontend, backend",
    ),
    Case(
        "unknown-config-key-typo",
        svc("frontend", desired_cout=1),
        "services.frontend.desired_cout",
        "desired_cout",
        "unknown field; check its spelling",
    ),
    Case(
        "unknown-top-level-key-typo",
        {"netwrok": {"nat_mode": "none"}},
        "netwrok",
        "netwrok",
        "unknown field; check its spelling against envs/schema.py",
    ),
    Case(
        "wildcard-iam-action",
        svc("backend", task_role_statements=[{"actions": ["s3:*"], "resources": ["*"]}]),
        "services.backend.task_role_statements.0",
        "'s3:*'",
        "name specific actions such as 's3:GetObject'",
    ),
    Case(
        "secret-not-an-arn",
        svc("backend", secrets={"DB_PASSWORD": "db-password"}),
        "services.backend.secrets",
        "'db-password'",
        "arn:aws:ssm:<region>:<account>:parameter/",
    ),
    Case(
        "health-check-interval-out-of-limits",
        svc("frontend", health_check={"interval_seconds": 400}),
        "services.frontend.health_check",
        "got 400",
        "interval_seconds must be 5-300",
    ),
    Case(
        "service-name-not-a-name",
        {"services": {"Api": {"container_port": 9000, "path_patterns": ["/api/*"]}}},
        "services.Api.name",
        "'Api'",
        "lowercase letters, digits and '-'",
    ),
    # Load balancers.
    Case(
        "cognito-without-https",
        {"public_alb": {"cognito": COGNITO}},
        "public_alb.cognito",
        "Cognito authentication requires HTTPS",
        "set certificate_arn or remove cognito",
    ),
    Case(
        "certificate-arn-malformed",
        {"public_alb": {"certificate_arn": "arn:aws:acm:ap-northeast-1:123:certificate/x"}},
        "public_alb.certificate_arn",
        "'arn:aws:acm:ap-northeast-1:123:certificate/x'",
        "arn:aws:acm:<region>:<12-digit account>:certificate/<uuid>",
    ),
    Case(
        "certificate-in-another-region",
        {"internal_alb": {"certificate_arn": CERTIFICATE.replace("ap-northeast-1", "us-east-1")}},
        "internal_alb.certificate_arn",
        "in us-east-1",
        "from its own region ap-northeast-1",
    ),
    Case(
        "ssl-policy-unknown",
        {"public_alb": {"certificate_arn": CERTIFICATE, "ssl_policy": "ELBSecurityPolicy-TLS99"}},
        "public_alb.ssl_policy",
        "'ELBSecurityPolicy-TLS99'",
        "use ELBSecurityPolicy-TLS13-1-2-2021-06, ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    ),
    Case(
        "ssl-policy-legacy-tls",
        {"public_alb": {"certificate_arn": CERTIFICATE, "ssl_policy": "ELBSecurityPolicy-2016-08"}},
        "public_alb.ssl_policy",
        "'ELBSecurityPolicy-2016-08'",
        "use ELBSecurityPolicy-TLS13-1-2-2021-06 or another TLS 1.2+ policy",
    ),
    Case(
        "alb-name-too-long",
        # fargate-<16 chars>-internal is 33 characters; so is the frontend's target group.
        {"name": "developmentenv01"},
        "project/name",
        "'fargate-developmentenv01-internal' (33 characters)",
        "shorten the project or environment name",
        problems=2,
    ),
    # Egress and endpoints.
    Case(
        "external-image-with-nat-none",
        {
            "network": {"nat_mode": "none"},
            "endpoints": {"interface": ["sqs"]},
            "services": {
                "frontend": {"image": {"external": "docker.io/library/nginx:1.27"}},
                "backend": {"enable_execute_command": False},
            },
        },
        "services.frontend",
        "'docker.io/library/nginx:1.27'",
        "set network.nat_mode to 'single' or 'per_az'",
        extra=("network.nat_mode is 'none'", "remove image.external"),
    ),
    Case(
        "job-borrowing-external-image-with-nat-none",
        {
            "network": {"nat_mode": "none"},
            "endpoints": {"interface": ["sqs"]},
            "services": {
                "backend": {
                    "image": {"external": "docker.io/library/nginx:1.27"},
                    "enable_execute_command": False,
                }
            },
        },
        "jobs.migrate",
        "pulling image 'docker.io/library/nginx:1.27'",
        "set network.nat_mode to 'single' or 'per_az'",
        problems=4,  # backend, and the worker and two jobs that run its image
    ),
    Case(
        "exec-with-nat-none-and-no-ssmmessages",
        {"network": {"nat_mode": "none"}, "endpoints": {"interface": ["sqs"]}},
        "services.backend",
        "ssmmessages",
        "add 'ssmmessages' to endpoints.interface",
    ),
    Case(
        "unknown-interface-endpoint",
        {"endpoints": {"interface": ["ssm", "s3"]}},
        "endpoints.interface",
        "['s3']",
        "choose from ecr.api",
    ),
    Case(
        "s3-allowed-bucket-bad-name",
        {"endpoints": {"s3_allowed_buckets": ["Shop..Uploads"]}},
        "endpoints.s3_allowed_buckets",
        "'Shop..Uploads'",
        "must not contain two adjacent periods",
    ),
    # Jobs.
    Case(
        "schedule-cron-five-fields",
        {"jobs": {"nightly-report": {"schedule": {"expression": "cron(0 3 * * *)"}}}},
        "jobs.nightly-report.schedule.expression",
        "'cron(0 3 * * *)'",
        "cron needs 6 fields",
    ),
    Case(
        "schedule-time-zone-unknown",
        {"jobs": {"nightly-report": {"schedule": {"timezone": "Asia/Tokio"}}}},
        "jobs.nightly-report.schedule.timezone",
        "'Asia/Tokio'",
        "e.g. 'UTC', 'Asia/Tokyo'",
    ),
    Case(
        "job-same-image-as-unknown-service",
        {"jobs": {"migrate": {"same_image_as": "api"}}},
        "jobs.migrate.same_image_as",
        "'api'",
        "known: frontend, backend",
    ),
    # State, tags, logs.
    Case(
        "state-bucket-bad-name",
        {"state": {"bucket": "My_Bucket"}},
        "state.bucket",
        "'My_Bucket'",
        "may contain only lowercase letters, digits",
    ),
    Case(
        "reserved-tag",
        {"tags": {"Environment": "development"}},
        "tags",
        "['Environment']",
        "remove them from tags",
    ),
    Case(
        "log-retention-not-accepted",
        {"ecs": {"log_retention_days": 10}},
        "ecs.log_retention_days",
        "retention of 10 days",
        "use one of 1, 3, 5",
    ),
)

# Workload model (issue #15): commands, borrowed images, containers, storage, queues.
WORKER = {"exposure": "none", "desired_count": 1}
NGINX = "public.ecr.aws/nginx/nginx:1.27"
CASES += (
    Case(
        "service-same-image-as-unknown",
        svc("worker", **WORKER, same_image_as="api"),
        "services.worker.same_image_as",
        "'api' is not another service",
        "known: frontend, backend",
    ),
    Case(
        "service-same-image-as-chain",
        {
            "services": {
                "worker": {**WORKER, "same_image_as": "backend"},
                "mailer": {**WORKER, "same_image_as": "worker"},
            }
        },
        "services.mailer.same_image_as",
        "'worker' itself runs 'backend''s image",
        "same_image_as 'backend'",
    ),
    Case(
        "service-same-image-as-other-architecture",
        svc("worker", **WORKER, same_image_as="backend", cpu_architecture="ARM64"),
        "services.worker.cpu_architecture",
        "ARM64 differs from 'backend''s X86_64",
        "set cpu_architecture 'X86_64'",
    ),
    Case(
        "sidecar-cpu-does-not-fit",
        svc("backend", sidecars={"proxy": {"image": NGINX, "cpu": 1024}}),
        "services.backend.sidecars",
        "cpu adds up to 1024 units but the task has 512",
        "lower them or raise cpu",
    ),
    Case(
        "sidecar-memory-does-not-fit",
        svc("backend", sidecars={"proxy": {"image": NGINX, "memory_reservation_mib": 2000}}),
        "services.backend.sidecars",
        "memory adds up to 2000 MiB (proxy 2000) but the task has 1024 MiB",
        "raise memory_mib",
    ),
    Case(
        "container-start-order-cycle",
        svc(
            "backend",
            depends_on=[{"container": "proxy"}],
            sidecars={"proxy": {"image": NGINX, "depends_on": [{"container": "backend"}]}},
        ),
        "services.backend.depends_on",
        "start order has a cycle",
        "break one dependency",
    ),
    Case(
        "container-waits-for-healthy-without-check",
        svc(
            "backend",
            depends_on=[{"container": "proxy", "condition": "HEALTHY"}],
            sidecars={"proxy": {"image": NGINX}},
        ),
        "services.backend.depends_on",
        "'proxy' has no health check",
        "give it a health check or use START",
    ),
    Case(
        "firelens-on-a-job",
        {"jobs": {"migrate": {"sidecar_presets": ["firelens"]}}},
        "jobs.migrate.sidecar_presets",
        "'firelens' is for services",
        "remove it",
    ),
    Case(
        "queue-producer-does-not-exist",
        svc("worker", queue={"producers": ["billing"]}),
        "services.worker.queue.producers",
        "'billing' is not another service or job",
        "known: frontend, backend, migrate, nightly-report",
    ),
    Case(
        "queue-visibility-timeout-too-long",
        svc("worker", queue={"visibility_timeout_seconds": 50000}),
        "services.worker.queue",
        "got 50000",
        "must be 0-43200",
    ),
    Case(
        "queue-scaling-without-container-insights",
        {"ecs": {"container_insights": "disabled"}},
        "services.worker.queue.scaling",
        "ecs.container_insights is 'disabled'",
        "set it to 'enabled'",
    ),
    Case(
        "bucket-grant-to-missing-workload",
        {"buckets": {"uploads": {"grants": {"billing": "read"}}}},
        "buckets.uploads.grants",
        "'billing' is not a service or job",
        "known: frontend, backend, worker",
    ),
    Case(
        "resource-grant-unsupported-arn",
        svc("backend", resource_grants=[{"arn": "arn:aws:rds:ap-northeast-1:1:db:x"}]),
        "services.backend.resource_grants.0.arn",
        "'arn:aws:rds:ap-northeast-1:1:db:x'",
        "is not a DynamoDB table, SQS queue, S3 bucket or SNS topic ARN",
    ),
    Case(
        "ephemeral-storage-below-fargate-minimum",
        svc("backend", ephemeral_storage_gib=10),
        "services.backend.ephemeral_storage_gib",
        "got 10",
        "Fargate allows 21-200 GiB",
    ),
    Case(
        "destination-to-a-public-cidr",
        svc("backend", destinations={"db": {"cidr": "0.0.0.0/0", "ports": [5432]}}),
        "services.backend.destinations.db.cidr",
        "'0.0.0.0/0' is not a private range",
        "name private destinations here",
    ),
    Case(
        "efs-without-transit-encryption",
        {
            "file_systems": {"shared": {}},
            "services": {
                "backend": {
                    "efs_mounts": [
                        {
                            "file_system": "shared",
                            "container_path": "/d",
                            "transit_encryption": False,
                        }
                    ]
                }
            },
        },
        "services.backend.efs_mounts.0.transit_encryption",
        "only with transit encryption",
        "set it to true",
    ),
)


def run_main(project: Path, tripwire: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """`python main.py` in the copy, without bytecode caches (env files change every second)
    and with `jsii` shadowed by a module that fails: loading the provider is a failure."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(tripwire)}
    env.pop("CDKTF_OUTDIR", None)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "main.py"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=60,
    )
    return result, time.perf_counter() - start


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the project code per module, with a previous synth in cdktf.out/."""
    copy = project_copy(tmp_path_factory.mktemp("catalogue"))
    previous = copy / "cdktf.out"
    (previous / "stacks" / "dev").mkdir(parents=True)
    (previous / "stacks" / "dev" / "cdk.tf.json").write_text('{"previous": "synth"}\n')
    (previous / "manifest.json").write_text('{"version": "previous"}\n')
    return copy


@pytest.fixture(scope="module")
def tripwire(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose `jsii` package raises on import (cdktf and the provider need jsii)."""
    directory = tmp_path_factory.mktemp("tripwire")
    (directory / "jsii").mkdir()
    (directory / "jsii" / "__init__.py").write_text(
        f"raise ImportError({TRIPWIRE + ' while the config is being validated'!r})\n"
    )
    return directory


@pytest.fixture(scope="module")
def timings() -> Iterator[list[float]]:
    """Wall time of every catalogue run; the total is printed when the module is done."""
    measured: list[float] = []
    yield measured
    if measured:
        print(f"\nbad-input catalogue: {len(measured)} runs, {sum(measured):.2f} s in total")


def appended(case: Case) -> str:
    return (
        f"\n# bad-input catalogue: {case.id}\n"
        "from envs import merge  # noqa: E402\n\n"
        f"OVERRIDES = merge(OVERRIDES, {case.overrides!r})\n"
    )


def test_catalogue_is_large_and_ids_are_unique() -> None:
    assert len(CASES) >= 20
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.xfail(reason=case.bug, strict=True)] if case.bug else [],
        )
        for case in CASES
    ],
)
def test_bad_input_is_rejected_clearly(
    project: Path, tripwire: Path, timings: list[float], case: Case
) -> None:
    env_file = project / "envs" / f"{case.env}.py"
    original = env_file.read_bytes()
    before = snapshot(project / "cdktf.out")
    env_file.write_bytes(original + appended(case).encode())
    try:
        result, seconds = run_main(project, tripwire)
    finally:
        env_file.write_bytes(original)
    timings.append(seconds)

    output = result.stdout + result.stderr
    assert TRIPWIRE not in output, "the AWS provider was loaded to reject a config"
    assert "Traceback" not in output, output
    assert result.returncode == 2, output
    assert result.stdout == ""
    head, *problems = result.stderr.rstrip("\n").split("\n")
    plural = "s" if case.problems != 1 else ""
    assert head == f"configuration rejected ({case.problems} problem{plural}):", result.stderr
    assert len(problems) == case.problems, result.stderr
    assert all(line.startswith("  - ") for line in problems), result.stderr
    source = "" if case.cross_env else f"envs/{case.env}.py: "
    assert all(line.startswith(f"  - {source}") for line in problems), result.stderr
    matching = [
        line
        for line in problems
        if line.startswith(f"  - {source}{case.field}: ")
        and all(part in line for part in (case.value, case.hint, *case.extra))
    ]
    assert matching, f"no problem line names {case.field} with {case.value!r}:\n{result.stderr}"

    assert snapshot(project / "cdktf.out") == before
    assert sorted(p.name for p in project.iterdir()) == PROJECT_ENTRIES
    assert not list(project.rglob("__pycache__"))


def test_copy_is_valid_again_after_the_catalogue(project: Path) -> None:
    """Every case restored its env file: the copy's config is the repo's and still valid."""
    for name in ("dev", "stg", "prod"):
        relative = Path("envs") / f"{name}.py"
        assert (project / relative).read_bytes() == (ROOT / relative).read_bytes()
    result = subprocess.run(
        [sys.executable, "main.py", "--check"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "configuration valid: dev, stg, prod"
