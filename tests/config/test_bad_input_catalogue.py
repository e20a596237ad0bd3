"""A catalogue of bad environment files, each fed through `python main.py` as a user runs it.

Every case edits one env file in a copy of the project, runs the real entry point and
expects: exit 2, a short "configuration rejected" message whose problem line names the field,
the offending value and a fix, no traceback, and `cdktf.out/` untouched.

A case runs main.py in a child forked from a server that has already imported pydantic and the
envs models (tests/forked_main.py): a whole `python main.py` is mostly that start-up. What the
user sees from the real command is proved by `test_forked_runs_match_the_real_command`, which
runs a sample of cases as true subprocesses and compares status, stdout and stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.constants import ACCOUNT, CERTIFICATE, USER_POOL
from tests.project_copy import EXAMPLE_ENVS, ROOT, example_copy, snapshot
from tests.variants import NGINX

COGNITO = {
    "user_pool_arn": USER_POOL,
    "user_pool_client_id": "3abc4defg5hij6klm7nop8qrs",
    "user_pool_domain": "shop-auth",
}
PROJECT_ENTRIES = ["cdktf.out", "envs", "main.py", "modules", "ops", "stacks"]
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
    edits: tuple[tuple[str, str, str | None], ...] = ()
    """File edits instead of (or besides) overrides: (path, old, new). `old` empty: append
    `new` (creating the file); `new` None: delete the file; else replace `old` once."""
    args: tuple[str, ...] = ()
    """Arguments to `python main.py`."""
    source: str | None = None
    """What each problem line starts with before the field (default `envs/<env>.py`)."""


def svc(name: str, **settings: Any) -> dict[str, Any]:
    return {"services": {name: settings}}


def job(name: str, **settings: Any) -> dict[str, Any]:
    return {"jobs": {name: settings}}


def schedule(**settings: Any) -> dict[str, Any]:
    return job("nightly-report", schedule=settings)


def next_line(path: str) -> int:
    """The line number of text appended to one of the copy's files (its env value files are
    the frozen example's: `example_copy`)."""
    file = Path(path)
    frozen = EXAMPLE_ENVS / file.name
    if file.parent.name == "envs" and file.name != "__init__.py" and frozen.exists():
        return len(frozen.read_text().splitlines()) + 1
    return len((ROOT / path).read_text().splitlines()) + 1


ADMIN = {"exposure": "public", "container_port": 3001, "path_patterns": ["/admin/*"]}


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
        "use zones of us-east-1: us-east-1a, us-east-1b",
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
        "unknown field; check its spelling against envs/schema/",
    ),
    Case(
        "wildcard-iam-action",
        svc("backend", task_role_statements=[{"actions": ["s3:*"], "resources": ["*"]}]),
        "services.backend.task_role_statements.0",
        "'s3:*'",
        "name specific actions such as 's3:GetObject'",
    ),
    Case(
        "wildcard-inside-iam-action",
        svc(
            "backend",
            task_role_statements=[
                {"actions": ["iam:Pass*"], "resources": [f"arn:aws:iam::{ACCOUNT}:role/app"]}
            ],
        ),
        "services.backend.task_role_statements.0",
        "'iam:Pass*'",
        "no '*' or '?' wildcards anywhere in an action",
    ),
    Case(
        "resource-star-for-a-scoped-action",
        svc("backend", task_role_statements=[{"actions": ["s3:GetObject"], "resources": ["*"]}]),
        "services.backend.task_role_statements.0",
        "['s3:GetObject']",
        "name the ARNs",
        extra=("RESOURCE_STAR_ACTIONS",),
    ),
    Case(
        "deploy-role-in-another-account",
        {"role_arn": "arn:aws:iam::210987654321:role/deploy"},
        "role_arn",
        "'arn:aws:iam::210987654321:role/deploy'",
        "use a role of 123456789012",
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
        "set public_alb.certificate_arn or domain.hosts, or remove cognito",
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
    # HTTPS names (envs/schema/domain.py).
    Case(
        "domain-host-outside-zone",
        {"domain": {"zone_name": "example.org", "hosts": {"frontend": ["app.example.net"]}}},
        "domain.hosts.frontend",
        "'app.example.net'",
        "use a name ending in .example.org or change zone_name",
    ),
    Case(
        "domain-more-names-than-acm-allows",
        {
            "domain": {
                "zone_name": "example.org",
                "hosts": {"frontend": [f"h{i}.example.org" for i in range(11)]},
            }
        },
        "domain.hosts",
        "11 host names",
        "ACM allows 10 per certificate",
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
        problems=2,  # ssmmessages, and kms for the exec session encryption
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
    # Strict types (a bool is not an int, a string is not a bool, 3000.0 is not a port).
    Case(
        "desired-count-is-a-bool",
        svc("frontend", desired_count=True),
        "services.frontend.desired_count",
        "got True",
        "expected an integer",
    ),
    Case(
        "container-port-is-a-float",
        svc("frontend", container_port=3000.0),
        "services.frontend.container_port",
        "got 3000.0",
        "expected an integer",
    ),
    Case(
        "bool-given-as-string",
        svc("backend", enable_execute_command="off"),
        "services.backend.enable_execute_command",
        "got 'off'",
        "expected True or False",
    ),
    Case(
        "log-retention-is-a-bool",
        {"ecs": {"log_retention_days": True}},
        "ecs.log_retention_days",
        "got True",
        "expected an integer",
    ),
    Case(
        "schedule-given-as-string",
        job("nightly-report", schedule="cron(0 3 * * ? *)"),
        "jobs.nightly-report.schedule",
        "got 'cron(0 3 * * ? *)'",
        "expected a dict of settings",
    ),
    Case(
        "path-patterns-given-as-string",
        svc("frontend", path_patterns="/api/*"),
        "services.frontend.path_patterns",
        "got '/api/*'",
        "expected a list",
    ),
    Case(
        "environment-value-is-a-number",
        svc("backend", environment={"PORT": 8080}),
        "services.backend.environment.PORT",
        "got 8080",
        "expected a string",
    ),
    Case(
        "capacity-weight-is-a-string",
        {"ecs": {"capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": "3"}]}},
        "ecs.capacity_provider_strategy.0.weight",
        "got '3'",
        "expected an integer",
    ),
    Case(
        "jobs-given-as-list",
        {"jobs": ["migrate", "nightly-report"]},
        "jobs",
        "got ['migrate', 'nightly-report']",
        "expected a dict of {name: settings}",
    ),
    # Env files that fail to load.
    Case(
        "env-file-syntax-error",
        {},
        str(next_line("envs/dev.py")),
        "unmatched ')'",
        "fix the syntax",
        edits=(("envs/dev.py", "", "x = )\n"),),
        source="envs/dev.py:",
        extra=("not valid Python",),
    ),
    Case(
        "env-file-name-error",
        {},
        str(next_line("envs/dev.py")),
        "NameError: name 'REGION' is not defined",
        "fix that line",
        edits=(("envs/dev.py", "", 'OVERRIDES["region"] = REGION\n'),),
        source="envs/dev.py:",
    ),
    Case(
        "env-file-imports-a-missing-module",
        {},
        "1",
        "No module named 'envs.helpers'",
        "fix that line",
        edits=(("envs/stg.py", '"""', 'from envs.helpers import SIZES\n"""'),),
        env="stg",
        source="envs/stg.py:",
    ),
    Case(
        "env-file-without-overrides",
        {},
        "OVERRIDES",
        "not defined",
        "add OVERRIDES = {\"name\": 'dev', ...}",
        edits=(("envs/dev.py", "OVERRIDES: dict[str, Any] = {", "SETTINGS: dict[str, Any] = {"),),
    ),
    Case(
        "env-overrides-not-a-dict",
        {},
        "OVERRIDES",
        "got list (['dev'])",
        'write OVERRIDES = {"name": ..., ...}',
        edits=(("envs/dev.py", "", 'OVERRIDES = ["dev"]\n'),),
        extra=("expected a dict of settings",),
    ),
    Case(
        "env-listed-without-file",
        {},
        "DEFAULT_ENVIRONMENTS",
        "lists 'qa' but envs/qa.py does not exist",
        "create envs/qa.py or remove 'qa' from the list",
        edits=(("envs/__init__.py", '("dev", "stg", "prod")', '("dev", "stg", "prod", "qa")'),),
        source="envs/__init__.py: ",
    ),
    Case(
        "env-file-not-listed",
        {},
        "DEFAULT_ENVIRONMENTS",
        "'qa' is not listed (dev, stg, prod) although envs/qa.py exists",
        "add 'qa' to the list",
        edits=(("envs/qa.py", "", 'OVERRIDES = {"name": "qa"}\n'),),
        args=("--env", "qa"),
        source="envs/__init__.py: ",
    ),
    Case(
        "env-without-file-on-command-line",
        {},
        "--env",
        "environment 'qa' has no file",
        "add envs/qa.py and list it in envs.DEFAULT_ENVIRONMENTS",
        args=("--env", "qa"),
        source="",
    ),
    Case(
        "base-mistake-reported-once",
        {},
        "services.frontend: cpu/memory_mib",
        "cpu=300",
        "use one of 256, 512",
        edits=(
            (
                "envs/base.py",
                '"container_port": 3000,',
                '"container_port": 3000, "cpu": 300,',
            ),
        ),
        source="envs/base.py: ",
    ),
    Case(
        "listener-rule-settings-on-a-worker",
        svc("worker", path_patterns=["/jobs/*"]),
        "services.worker.path_patterns",
        "exposure 'none' has no load balancer",
        "remove them or set exposure to 'public' or 'internal'",
    ),
    Case(
        # Run alone, an env file's own mistake on a field it does not set is still its own.
        "one-env-mistake-not-blamed-on-base",
        {"endpoints": {"interface": ["ssm", "secretsmanager"]}},
        "services.backend",
        "using its SQS queues needs the sqs VPC endpoint(s)",
        "add 'sqs' to endpoints.interface",
        env="stg",
        args=("--env", "stg"),
        source="envs/stg.py: ",
        problems=2,  # backend produces, worker consumes
    ),
    Case(
        "base-syntax-error-reported-once",
        {},
        str(next_line("envs/base.py")),
        "unmatched ')'",
        "fix the syntax",
        edits=(("envs/base.py", "", "x = )\n"),),
        source="envs/base.py:",
    ),
    Case(
        "base-name-error-reported-once",
        {},
        str(next_line("envs/base.py")),
        "NameError: name 'DEFAULT_CPU' is not defined",
        "fix that line",
        edits=(("envs/base.py", "", 'BASE["services"]["frontend"]["cpu"] = DEFAULT_CPU\n'),),
        source="envs/base.py:",
    ),
    # Jobs borrowing a service's image run on its architecture.
    Case(
        "job-architecture-differs-from-its-image",
        {
            "services": {"backend": {"cpu_architecture": "ARM64"}},
            "jobs": {"migrate": {"cpu_architecture": "X86_64"}},
        },
        "jobs.migrate.cpu_architecture",
        "X86_64 cannot run the image of 'backend', which is built for ARM64",
        "remove cpu_architecture from the job",
    ),
    # Generated AWS names: rules and uniqueness.
    Case(
        "env-named-like-the-bootstrap-stack",
        {"name": "state-bootstrap"},
        "name",
        "'state-bootstrap'",
        "choose another environment name",
        env="stg",
    ),
    Case(
        "state-bucket-in-two-regions",
        {"state": {"region": "us-east-1"}},
        "state.region",
        "state bucket 'fargate-platform-tfstate-example' is in ap-northeast-1 for dev but "
        "us-east-1 here",
        "use region ap-northeast-1 or another state.bucket",
        env="stg",
    ),
    Case(
        "job-named-exec-takes-the-exec-log-group",
        job("exec", command=["true"]),
        "jobs.exec.name",
        "'/ecs/fargate-dev/exec'",
        "rename the job",
        extra=("the ECS Exec log group",),
    ),
    Case(
        "account-wide-names-collide-across-envs",
        {
            "name": "dev-nightly",
            **job("report", command=["true"], schedule={"expression": "rate(1 day)"}),
        },
        "jobs.report.name",
        "IAM role 'fargate-dev-nightly-report-execution'",
        "rename the job",
        env="stg",
        extra=(
            "environment 'dev' already uses",
            "EventBridge schedule 'fargate-dev-nightly-report'",
        ),
    ),
    Case(
        "account-id-not-twelve-digits",
        {"account_id": "12345678901"},
        "account_id",
        "'12345678901'",
        "12 digits, as a string",
    ),
    Case(
        "load-balancer-name-starts-with-internal",
        {"project": "internal"},
        "project/name",
        "'internal-dev-public'",
        "not starting with 'internal-'",
        problems=2,  # both load balancers
    ),
    # Listener rule conditions.
    Case(
        "path-pattern-too-long",
        svc("admin", **{**ADMIN, "path_patterns": ["/" + "a" * 128]}),
        "services.admin.path_patterns",
        "'/" + "a" * 20,
        "use 1-128 characters",
    ),
    Case(
        "path-pattern-with-a-space",
        svc("admin", **{**ADMIN, "path_patterns": ["/admin area/*"]}),
        "services.admin.path_patterns",
        "'/admin area/*'",
        "is not accepted by an ALB",
    ),
    Case(
        "host-header-with-underscore",
        svc("admin", **{**ADMIN, "host_headers": ["admin_site.example.com"]}),
        "services.admin.host_headers",
        "'admin_site.example.com'",
        "letters, digits and -.*?",
    ),
    Case(
        "four-path-patterns-in-one-condition",
        svc("admin", **{**ADMIN, "path_patterns": ["/a", "/b", "/c", "/d"]}),
        "services.admin",
        "path_patterns has 4 values",
        "at most 3",
    ),
    Case(
        "six-values-in-one-rule",
        svc(
            "admin",
            **{
                **ADMIN,
                "path_patterns": ["/a", "/b", "/c"],
                "host_headers": ["a.io", "b.io", "c.io"],
            },
        ),
        "services.admin",
        "6 values",
        "at most 5 in all",
    ),
    # Tags.
    Case(
        "tag-key-with-aws-prefix",
        {"tags": {"aws:team": "web"}},
        "tags",
        "'aws:team'",
        "reserved for AWS; rename it",
    ),
    Case(
        "too-many-tags",
        {"tags": {f"Tag{i}": "x" for i in range(46)}},
        "tags",
        "47 tags",
        "keep at most 45",
    ),
    Case(
        "tag-value-too-long",
        {"tags": {"Owner": "x" * 257}},
        "tags",
        "value of 'Owner'",
        "at most 256 characters",
    ),
    # Health checks, capacity providers, counts.
    Case(
        "health-check-matcher-outside-200-499",
        svc("frontend", health_check={"matcher": "200-599"}),
        "services.frontend.health_check",
        "'200-599'",
        "matcher codes must be 200-499",
    ),
    Case(
        "health-check-timeout-equals-interval",
        svc("frontend", health_check={"interval_seconds": 10, "timeout_seconds": 10}),
        "services.frontend.health_check",
        "timeout_seconds (10)",
        "must be less than interval_seconds (10)",
    ),
    Case(
        "capacity-provider-weight-above-1000",
        {"ecs": {"capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": 1001}]}},
        "ecs.capacity_provider_strategy.0",
        "got 1001",
        "weight must be 0-1000",
    ),
    Case(
        "capacity-provider-base-above-100000",
        {
            "ecs": {
                "capacity_provider_strategy": [
                    {"capacity_provider": "FARGATE", "weight": 1, "base": 100001}
                ]
            }
        },
        "ecs.capacity_provider_strategy.0",
        "got 100001",
        "base must be 0-100000",
    ),
    Case(
        "negative-grace-period",
        svc("frontend", health_check_grace_period_seconds=-1),
        "services.frontend",
        "got -1",
        "health_check_grace_period_seconds must be 0-2147483647",
    ),
    Case(
        "desired-count-beyond-ecs-limit",
        svc("frontend", desired_count=5001, autoscaling=None),
        "services.frontend",
        "got 5001",
        "desired_count must be 0-5000",
    ),
    Case(
        "autoscaling-max-beyond-ecs-limit",
        svc("frontend", autoscaling={"max_capacity": 6000}),
        "services.frontend",
        "got 6000",
        "autoscaling.max_capacity must be at most 5000",
    ),
    # Schedules.
    Case(
        "cron-hour-out-of-range",
        schedule(expression="cron(0 25 * * ? *)"),
        "jobs.nightly-report.schedule.expression",
        "hours field '25'",
        "use values 0-23",
    ),
    Case(
        "cron-month-name-unknown",
        schedule(expression="cron(0 3 1 JANUARY ? *)"),
        "jobs.nightly-report.schedule.expression",
        "month field 'JANUARY'",
        "use values 1-12 or JAN-DEC",
    ),
    Case(
        "cron-two-question-marks",
        schedule(expression="cron(0 3 ? * ? *)"),
        "jobs.nightly-report.schedule.expression",
        "'cron(0 3 ? * ? *)'",
        "exactly one of day-of-month or day-of-week must be '?'",
    ),
    Case(
        "cron-no-question-mark",
        schedule(expression="cron(0 3 * * MON *)"),
        "jobs.nightly-report.schedule.expression",
        "'cron(0 3 * * MON *)'",
        "e.g. cron(0 3 * * ? *) or cron(0 3 ? * MON *)",
    ),
    Case(
        "at-date-that-does-not-exist",
        schedule(expression="at(2030-02-30T03:00:00)"),
        "jobs.nightly-report.schedule.expression",
        "'at(2030-02-30T03:00:00)' is not a real date and time",
        "use at(yyyy-mm-ddThh:mm:ss)",
    ),
    Case(
        "scheduler-retries-above-185",
        schedule(retry_attempts=186),
        "jobs.nightly-report.schedule",
        "got 186",
        "retry_attempts must be 0-185",
    ),
    # Regions, zones and VPC ranges.
    Case(
        "availability-zone-that-does-not-exist",
        {"network": {"availability_zones": ["ap-northeast-1a", "ap-northeast-1b"]}},
        "network.availability_zones",
        "['ap-northeast-1b']",
        "use zones of ap-northeast-1: ap-northeast-1a, ap-northeast-1c, ap-northeast-1d",
    ),
    Case(
        "region-that-does-not-exist",
        {"region": "ap-northeast-9"},
        "region",
        "'ap-northeast-9'",
        "did you mean 'ap-northeast-3'?",
        extra=("all regions: envs/schema/regions.json",),
    ),
    Case(
        "vpc-cidr-loopback",
        {"network": {"vpc_cidr": "127.0.0.0/24"}},
        "network.vpc_cidr",
        "127.0.0.0/24 is a loopback range",
        "use a private range (RFC 1918)",
    ),
    Case(
        "vpc-cidr-link-local",
        {"network": {"vpc_cidr": "169.254.0.0/24"}},
        "network.vpc_cidr",
        "169.254.0.0/24 is a link-local range",
        "such as 10.0.0.0/16",
    ),
    # Callers and the firewall.
    Case(
        "service-lists-itself-as-caller",
        svc("backend", allowed_callers=["frontend", "backend"]),
        "services.backend",
        "lists the service itself ('backend')",
        "remove it",
    ),
    Case(
        "allowed-callers-on-a-public-service",
        svc("frontend", allowed_callers=["backend"]),
        "services.frontend",
        "got exposure 'public'",
        "set exposure to 'internal' or remove allowed_callers",
    ),
    Case(
        "waf-rate-limit-below-minimum",
        {"waf": {"rate_limit_per_5_minutes": 9}},
        "waf",
        "got 9",
        "must be 10-2000000000",
    ),
    # Quotas that grow.
    Case(
        "elastic-ips-per-region-across-envs",
        {"network": {"nat_mode": "per_az"}},
        "network.nat_mode",
        "need 6 Elastic IPs (dev 1, stg 2, prod 3)",
        "raise the quota and set quotas.elastic_ips_per_region",
        env="stg",
        source="envs/prod.py: ",
    ),
    Case(
        "listener-rules-per-alb",
        {
            "quotas": {"rules_per_alb": 1},
            "services": {
                "admin": ADMIN,
                "docs": {**ADMIN, "container_port": 3002, "path_patterns": ["/docs/*"]},
            },
        },
        "services",
        "the public ALB needs 2 listener rules",
        "set quotas.rules_per_alb",
    ),
    Case(
        "target-groups-per-alb",
        {"quotas": {"target_groups_per_alb": 1}, "services": {"admin": ADMIN}},
        "services",
        "the public ALB needs 2 target groups",
        "set quotas.target_groups_per_alb",
    ),
    # Alarms and deployments.
    Case(
        "canary-without-load-balancer",
        svc("worker", exposure="none", deployment={"strategy": "canary"}),
        "services.worker.deployment.strategy",
        "'canary' shifts load balancer traffic",
        "use 'rolling' for exposure 'none'",
    ),
    Case(
        "alarm-subscription-not-an-email",
        {"alarms": {"subscriptions": [{"protocol": "email", "endpoint": "oncall"}]}},
        "alarms.subscriptions.0.endpoint",
        "'oncall' is not an email address",
        "(protocol email)",
    ),
)

# Workload model (issue #15): commands, borrowed images, containers, storage, queues.
WORKER = {"exposure": "none", "desired_count": 1}
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
        "ARM64 cannot run the image of 'backend', which is built for X86_64",
        "remove cpu_architecture from the service",
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

# Service Connect (issue #15): namespace, callers, names.
SC = {"exposure": "service_connect"}
CASES += (
    Case(
        "service-connect-job-caller",
        {"service_connect": {}, **svc("backend", **SC, allowed_callers=["frontend", "migrate"])},
        "services.backend.allowed_callers",
        "'migrate' is a job",
        "keep exposure 'internal' for a service jobs call",
        extra=("cannot be Service Connect clients",),
    ),
    Case(
        "service-connect-settings-on-public-service",
        svc("frontend", service_connect={"discovery_name": "web"}),
        "services.frontend.service_connect",
        "exposure 'public'",
        "set exposure to 'service_connect'",
    ),
    Case(
        "service-connect-caller-unknown",
        {"service_connect": {}, **svc("backend", **SC, allowed_callers=["frontend", "billing"])},
        "services.backend.allowed_callers",
        "'billing' is not another service or job",
        "known: frontend, backend",
    ),
    Case(
        "service-connect-namespace-missing",
        svc("backend", **SC),
        "services.backend.exposure",
        "'service_connect' needs the environment's Cloud Map namespace",
        "add `service_connect: {}` to the environment",
    ),
    Case(
        "service-connect-discovery-name-invalid",
        {"service_connect": {}, **svc("backend", **SC, service_connect={"discovery_name": "-Api"})},
        "services.backend.service_connect.discovery_name",
        "'-Api'",
        "lowercase letters, digits, '_' and '-', not starting with '-'",
    ),
    Case(
        "service-connect-discovery-name-taken",
        {
            "service_connect": {},
            "services": {
                "backend": SC,
                "worker": {
                    **SC,
                    "container_port": 9000,
                    "service_connect": {"discovery_name": "backend"},
                },
            },
        },
        "services",
        "['backend', 'worker'] all use Service Connect discovery_name 'backend'",
        "set service_connect.discovery_name on all but one",
    ),
    Case(
        "service-connect-namespace-name-invalid",
        {"service_connect": {"namespace_name": "shop internal"}},
        "service_connect.namespace_name",
        "'shop internal'",
        "letters, digits, '.', '_' and '-'",
    ),
)


def subprocess_env(tripwire: Path) -> dict[str, str]:
    """Without bytecode caches (env files change every second) and with `jsii` shadowed by a
    module that fails: loading the provider is a failure."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(tripwire)}
    env.pop("CDKTF_OUTDIR", None)
    return env


def run_subprocess(
    project: Path, tripwire: Path, args: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """`python main.py` in the copy, exactly as a user runs it."""
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env=subprocess_env(tripwire),
        timeout=60,
    )


class ForkedMain:
    """`python main.py` through tests/forked_main.py: one server per project copy."""

    def __init__(self, project: Path, tripwire: Path) -> None:
        self.project = project
        self.captured = project.parent / "captured"
        self.captured.mkdir()
        self.server = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "forked_main.py"), str(project)],
            cwd=project,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(project.parent / "server.log").open("wb"),
            text=True,
            env=subprocess_env(tripwire),
        )
        assert self.server.stdin is not None and self.server.stdout is not None
        self.requests, self.replies = self.server.stdin, self.server.stdout
        ready = self.replies.readline()
        log = (project.parent / "server.log").read_text()
        assert ready == "ready\n", f"fork server did not start: {ready!r}\n{log}"

    def run(self, args: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        out, err = self.captured / "stdout", self.captured / "stderr"
        request = {"args": list(args), "stdout": str(out), "stderr": str(err)}
        self.requests.write(json.dumps(request) + "\n")
        self.requests.flush()
        reply = json.loads(self.replies.readline())
        return subprocess.CompletedProcess(
            [sys.executable, "main.py", *args],
            reply["returncode"],
            out.read_text(),
            err.read_text(),
        )

    def close(self) -> None:
        self.requests.close()
        self.server.wait(timeout=30)


WORKERS = 2
"""Cases run this many at a time (the machine has two cores), each in its own copy."""


@dataclass(frozen=True)
class Outcome:
    """What one case's run did: the process and the copy's state after."""

    result: subprocess.CompletedProcess[str]
    output_unchanged: bool
    entries: list[str]
    caches: list[Path]


def prepared_copy(parent: Path) -> Path:
    """A copy of the project code on the frozen example envs, with a previous synth in
    cdktf.out/."""
    copy = example_copy(parent)
    previous = copy / "cdktf.out"
    (previous / "stacks" / "dev").mkdir(parents=True)
    (previous / "stacks" / "dev" / "cdk.tf.json").write_text('{"previous": "synth"}\n')
    (previous / "manifest.json").write_text('{"version": "previous"}\n')
    return copy


def run_case(
    project: Path, case: Case, run: Callable[[tuple[str, ...]], subprocess.CompletedProcess[str]]
) -> Outcome:
    """Edit the copy as the case says, run `python main.py` with `run`, restore every env file."""
    env_file = project / "envs" / f"{case.env}.py"
    envs_before = snapshot(project / "envs")
    before = snapshot(project / "cdktf.out")
    if case.overrides:
        env_file.write_bytes(env_file.read_bytes() + appended(case).encode())
    for relative, old, new in case.edits:
        path = project / relative
        if new is None:
            path.unlink()
        elif not old:
            path.write_text((path.read_text() if path.exists() else "") + new)
        else:
            assert old in path.read_text(), f"{relative} no longer contains {old!r}"
            path.write_text(path.read_text().replace(old, new, 1))
    try:
        result = run(case.args)
    finally:
        for path in (project / "envs").rglob("*"):
            if path.is_file() and str(path.relative_to(project / "envs")) not in envs_before:
                path.unlink()
        for relative, content in envs_before.items():
            (project / "envs" / relative).write_bytes(content)
    return Outcome(
        result=result,
        output_unchanged=snapshot(project / "cdktf.out") == before,
        entries=sorted(p.name for p in project.iterdir()),
        caches=list(project.rglob("__pycache__")),
    )


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """One copy of the project per worker."""
    return [prepared_copy(tmp_path_factory.mktemp("catalogue")) for _ in range(WORKERS)]


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
def outcomes(projects: list[Path], tripwire: Path) -> dict[str, Outcome]:
    """Every case run once, WORKERS at a time, each in a child of its copy's fork server."""

    def run_share(project: Path, cases: tuple[Case, ...]) -> dict[str, Outcome]:
        server = ForkedMain(project, tripwire)
        try:
            return {case.id: run_case(project, case, server.run) for case in cases}
        finally:
            server.close()

    shares = [CASES[index :: len(projects)] for index in range(len(projects))]
    with ThreadPoolExecutor(len(projects)) as pool:
        done = [
            outcome for share in pool.map(run_share, projects, shares) for outcome in share.items()
        ]
    return dict(done)


def appended(case: Case) -> str:
    return (
        f"\n# bad-input catalogue: {case.id}\n"
        "from envs import merge  # noqa: E402\n\n"
        f"OVERRIDES = merge(OVERRIDES, {case.overrides!r})\n"
    )


def test_catalogue_is_large_and_ids_are_unique() -> None:
    assert len(CASES) >= 80
    assert len({case.id for case in CASES}) == len(CASES)
    readme = (ROOT / "README.md").read_text()
    assert f"a catalogue of {len(CASES)} invalid configurations" in readme


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
def test_bad_input_is_rejected_clearly(outcomes: dict[str, Outcome], case: Case) -> None:
    outcome = outcomes[case.id]
    result = outcome.result
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
    if case.source is not None:
        source = case.source
    else:
        source = "" if case.cross_env else f"envs/{case.env}.py: "
    assert all(line.startswith(f"  - {source}") for line in problems), result.stderr
    matching = [
        line
        for line in problems
        if line.startswith(f"  - {source}{case.field}: ")
        and all(part in line for part in (case.value, case.hint, *case.extra))
    ]
    assert matching, f"no problem line names {case.field} with {case.value!r}:\n{result.stderr}"

    assert outcome.output_unchanged, "cdktf.out/ changed"
    assert outcome.entries == PROJECT_ENTRIES
    assert outcome.caches == []


def test_copies_are_valid_again_after_the_catalogue(
    projects: list[Path], outcomes: dict[str, Outcome], tmp_path: Path
) -> None:
    """Every case restored the files it edited: each copy's envs/ is a fresh copy's (the
    frozen example on the repo's code) and valid."""
    assert len(outcomes) == len(CASES)
    fresh = snapshot(example_copy(tmp_path) / "envs", skip="__pycache__")
    for project in projects:
        assert snapshot(project / "envs") == fresh
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


SUBPROCESS_SAMPLE = (
    "bad-region-code",
    "env-file-syntax-error",
    "env-listed-without-file",
    "env-without-file-on-command-line",
)
"""Cases run again as true subprocesses: an override, a syntax error in an env file (line
numbers), an edit to a module the fork server had imported, and a command-line argument."""


@pytest.mark.parametrize("case_id", SUBPROCESS_SAMPLE)
def test_forked_runs_match_the_real_command(
    projects: list[Path], tripwire: Path, outcomes: dict[str, Outcome], case_id: str
) -> None:
    """What the catalogue asserts on is what `python main.py` prints and returns."""
    case = next(case for case in CASES if case.id == case_id)
    real = run_case(projects[0], case, lambda args: run_subprocess(projects[0], tripwire, args))
    forked = outcomes[case_id]
    assert (real.result.returncode, real.result.stdout, real.result.stderr) == (
        forked.result.returncode,
        forked.result.stdout,
        forked.result.stderr,
    )
    assert (real.output_unchanged, real.entries, real.caches) == (
        forked.output_unchanged,
        forked.entries,
        forked.caches,
    )
