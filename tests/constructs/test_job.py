"""One-off and scheduled jobs: task definitions, run-task specs, schedules and their roles."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from envs import ConfigError, merge
from envs.schema.schedule_expression import check_schedule_expression
from tests.example_envs import build_example
from tests.example_envs.dev import OVERRIDES as DEV
from tests.tf import (
    by_path,
    container_definitions,
    only,
    ref,
    resources,
    rule_set,
    shared_workloads_group,
)
from tests.variants import EXAMPLE

Json = dict[str, Any]


@pytest.fixture(scope="module")
def dev(synthesized: dict[str, Json]) -> Json:
    """In this module `dev` is the frozen example's dev (tests/variants.py EXAMPLE), where
    exact values are asserted; the user's own dev is covered by the invariant tests."""
    return synthesized[EXAMPLE]


def test_job_task_definition_reuses_the_backend_image(dev: Json) -> None:
    _, task = by_path(dev, "aws_ecs_task_definition", "job-migrate/workload/task-definition")
    assert task["family"] == "fargate-example-migrate"
    (container,) = container_definitions(task)
    repo, _ = by_path(dev, "aws_ecr_repository", "ecr-backend/repository")
    assert container["image"] == ref("aws_ecr_repository", repo, "repository_url") + ":latest"
    assert container["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert "portMappings" not in container
    assert container["logConfiguration"]["options"]["awslogs-stream-prefix"] == "migrate"
    # One repository per image: the jobs borrow the backend's.
    assert len(resources(dev, "aws_ecr_repository")) == 2


def test_job_security_groups_are_closed_and_jobs_reach_aws_through_the_workloads_group(
    dev: Json,
) -> None:
    """dev's jobs do not opt in to internet egress: their own group has no rule at all, and
    the spec hands RunTask the shared `workloads` group (443 to the endpoints and S3) too."""
    workloads, _ = by_path(dev, "aws_security_group", "endpoints/workloads/sg")
    specs = dev["output"]["run_task_specs"]["value"]
    for job in ("migrate", "nightly-report"):
        group = f"fargate-example-{job}-tasks"
        assert not [r for r in rule_set(dev, "ingress") if r[0] == group]
        assert not [r for r in rule_set(dev, "egress") if r[0] == group]
        assert ref("aws_security_group", workloads) in specs[job]["security_groups"]


def test_run_task_specs_output_is_complete(dev: Json) -> None:
    specs = dev["output"]["run_task_specs"]["value"]
    assert sorted(specs) == ["migrate", "nightly-report"]
    spec = specs["migrate"]
    cluster, _ = only(dev, "aws_ecs_cluster")
    task, _ = by_path(dev, "aws_ecs_task_definition", "job-migrate/workload/task-definition")
    group, _ = by_path(dev, "aws_security_group", "job-migrate/workload/tasks/sg")
    logs, _ = by_path(dev, "aws_cloudwatch_log_group", "job-migrate/workload/logs")
    assert spec == {
        "environment": EXAMPLE,
        "cluster_arn": ref("aws_ecs_cluster", cluster, "arn"),
        "task_definition_arn": ref("aws_ecs_task_definition", task, "arn"),
        "task_definition_family": "fargate-example-migrate",
        "container_name": "migrate",
        "subnets": dev["output"]["private_subnet_ids"]["value"],
        "security_groups": [ref("aws_security_group", group), shared_workloads_group(dev)],
        "assign_public_ip": "DISABLED",
        "capacity_provider_strategy": [
            {"capacity_provider": "FARGATE_SPOT", "weight": 3, "base": 0},
            {"capacity_provider": "FARGATE", "weight": 1, "base": 0},
        ],
        "log_group": ref("aws_cloudwatch_log_group", logs, "name"),
        "log_stream_prefix": "migrate",
        "region": "ap-northeast-1",
    }


def test_schedule_targets_run_task_with_the_job_network(dev: Json) -> None:
    _, schedule = only(dev, "aws_scheduler_schedule")
    task, _ = by_path(dev, "aws_ecs_task_definition", "job-nightly-report/workload/task-definition")
    group, _ = by_path(dev, "aws_security_group", "job-nightly-report/workload/tasks/sg")
    role, _ = by_path(dev, "aws_iam_role", "job-nightly-report/schedule/role")
    queue, dlq = by_path(dev, "aws_sqs_queue", "job-nightly-report/schedule/dlq")
    cluster, _ = only(dev, "aws_ecs_cluster")
    assert schedule["schedule_expression"] == "cron(0 3 * * ? *)"
    assert schedule["schedule_expression_timezone"] == "Asia/Tokyo"
    assert schedule["state"] == "ENABLED"
    target = schedule["target"]
    assert target["arn"] == ref("aws_ecs_cluster", cluster, "arn")
    assert target["role_arn"] == ref("aws_iam_role", role, "arn")
    assert target["ecs_parameters"]["task_definition_arn"] == ref(
        "aws_ecs_task_definition", task, "arn"
    )
    assert target["ecs_parameters"]["network_configuration"] == {
        "assign_public_ip": False,
        "security_groups": [ref("aws_security_group", group), shared_workloads_group(dev)],
        "subnets": dev["output"]["private_subnet_ids"]["value"],
    }
    assert target["retry_policy"] == {
        "maximum_event_age_in_seconds": 3600,
        "maximum_retry_attempts": 2,
    }
    assert target["dead_letter_config"] == {"arn": ref("aws_sqs_queue", queue, "arn")}
    assert dlq["sqs_managed_sse_enabled"] is True


def test_scheduler_role_may_only_run_the_family_and_pass_the_job_roles(dev: Json) -> None:
    role, body = by_path(dev, "aws_iam_role", "job-nightly-report/schedule/role")
    (trust,) = json.loads(body["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    _, policy = by_path(dev, "aws_iam_role_policy", "job-nightly-report/schedule/policy")
    assert policy["role"] == ref("aws_iam_role", role)
    caller = next(iter(dev["data"]["aws_caller_identity"]))
    account = f"${{data.aws_caller_identity.{caller}.account_id}}"
    execution, _ = by_path(dev, "aws_iam_role", "job-nightly-report/workload/execution-role")
    task_role, _ = by_path(dev, "aws_iam_role", "job-nightly-report/workload/task-role")
    queue, _ = by_path(dev, "aws_sqs_queue", "job-nightly-report/schedule/dlq")
    cluster, _ = only(dev, "aws_ecs_cluster")
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    assert statements == {
        "RunJobTask": {
            "Sid": "RunJobTask",
            "Effect": "Allow",
            "Action": "ecs:RunTask",
            "Resource": f"arn:aws:ecs:ap-northeast-1:{account}:task-definition/"
            "fargate-example-nightly-report:*",
            "Condition": {"ArnEquals": {"ecs:cluster": ref("aws_ecs_cluster", cluster, "arn")}},
        },
        "PassJobRoles": {
            "Sid": "PassJobRoles",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": [
                ref("aws_iam_role", execution, "arn"),
                ref("aws_iam_role", task_role, "arn"),
            ],
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        },
        "DeadLetters": {
            "Sid": "DeadLetters",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": ref("aws_sqs_queue", queue, "arn"),
        },
    }


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 hour)",
        "rate(15 minutes)",
        "cron(0 3 * * ? *)",
        "cron(0/15 9-17 ? * MON-FRI *)",
        "cron(0 0 L * ? *)",
        "at(2030-01-01T00:00:00)",
    ],
)
def test_valid_schedule_expressions(expression: str) -> None:
    assert check_schedule_expression(expression) == expression


@pytest.mark.parametrize(
    "expression,message",
    [
        ("rate(1 hours)", "use the singular unit for 1 and the plural otherwise"),
        ("rate(0 minutes)", "the rate must be at least 1"),
        ("rate(5 weeks)", "is not a schedule expression"),
        ("cron(0 3 * * *)", "cron needs 6 fields"),
        ("cron(0 3 * * MON *)", "one of day-of-month or day-of-week must be '?'"),
        ("cron(0 3! * * ? *)", "hours field '3!' is not valid"),
        ("every day at 3", "is not a schedule expression; use rate(5 minutes)"),
    ],
)
def test_invalid_schedule_expressions(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        check_schedule_expression(expression)


@pytest.mark.parametrize(
    "jobs,message",
    [
        (
            {"nightly-report": {"schedule": {"timezone": "Tokyo"}}},
            "jobs.nightly-report.schedule.timezone: 'Tokyo' is not an IANA time zone",
        ),
        (
            {"nightly-report": {"schedule": {"expression": "cron(0 3 * * *)"}}},
            "jobs.nightly-report.schedule.expression: 'cron(0 3 * * *)': cron needs 6 fields",
        ),
        (
            {"migrate": {"same_image_as": "api"}},
            "jobs.migrate.same_image_as: 'api' is not a service of this environment; known: "
            "frontend, backend",
        ),
        (
            {"backend": {"command": ["true"]}},
            "jobs: name 'backend' is used more than once (jobs and services share task definition "
            "families)",
        ),
        (
            {"migrate": {"cpu": 256, "memory_mib": 4096}},
            "jobs.migrate: cpu/memory_mib: cpu=256 allows memory_mib 512, 1024, 2048; got 4096",
        ),
    ],
)
def test_rejected_jobs(jobs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_example(merge(DEV, {"jobs": jobs}), source="envs/dev.py")
    assert message in caught.value.render()
