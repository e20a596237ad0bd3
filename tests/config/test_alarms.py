"""Alarm, deployment and scheduled-scaling config: each refusal names file, field, value, fix.
No provider."""

from __future__ import annotations

from typing import Any

import pytest

from envs import ConfigError, merge
from tests.example_envs import build_example
from tests.example_envs.dev import OVERRIDES as DEV
from tests.variants import CERTIFICATE, USER_POOL

COGNITO = {"user_pool_arn": USER_POOL, "user_pool_client_id": "abc123", "user_pool_domain": "auth"}


def rejected(overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        build_example(merge(DEV, overrides), source="envs/dev.py")
    return caught.value.render()


def frontend(settings: dict[str, Any]) -> dict[str, Any]:
    return {"services": {"frontend": settings}}


@pytest.mark.parametrize(
    "overrides,expected",
    [
        (
            {"alarms": {"subscriptions": [{"protocol": "email", "endpoint": "oncall"}]}},
            "envs/dev.py: alarms.subscriptions.0.endpoint: 'oncall' is not an email address",
        ),
        (
            {
                "alarms": {
                    "subscriptions": [{"protocol": "https", "endpoint": "http://hooks.example"}]
                }
            },
            "'http://hooks.example' is not a URL starting with https://",
        ),
        (
            {"alarms": {"elb_5xx_per_minute": -1}},
            "envs/dev.py: alarms: elb_5xx_per_minute must be >= 0 or null; got -1",
        ),
        (
            frontend({"alarms": {"period_seconds": 90}}),
            "services.frontend.alarms: period_seconds must be a multiple of 60; got 90",
        ),
        (
            frontend({"alarms": {"period_seconds": 600, "evaluation_periods": 145}}),
            "period_seconds x evaluation_periods = 87000 s; CloudWatch allows at most 86400 s",
        ),
        (
            frontend({"alarms": {"datapoints_to_alarm": 6}}),
            "datapoints_to_alarm must be 1-evaluation_periods (5); got 6",
        ),
        (
            frontend({"alarms": {"latency_threshold_seconds": None, "rollback_on": ["latency"]}}),
            "services.frontend.alarms: rollback_on: latency is switched off in this block",
        ),
        (
            frontend({"alarms": {"cpu_high_percent": 120}}),
            "cpu_high_percent must be 1-100; got 120",
        ),
        (
            {
                "services": {
                    "worker": {"exposure": "none", "alarms": {"rollback_on": ["unhealthy_hosts"]}}
                }
            },
            "services.worker.alarms.rollback_on: unhealthy_hosts watches load balancer metrics "
            "and the service has exposure 'none'; remove it",
        ),
        (
            {"services": {"worker": {"exposure": "none", "deployment": {"strategy": "canary"}}}},
            "services.worker.deployment.strategy: 'canary' shifts load balancer traffic and "
            "needs exposure 'public' or 'internal'; use 'rolling' for exposure 'none'",
        ),
        (
            frontend({"deployment": {"strategy": "blue_green", "bake_time_minutes": 1441}}),
            "services.frontend.deployment: bake_time_minutes must be 0-1440; got 1441",
        ),
        (
            frontend({"deployment": {"strategy": "linear", "step_percent": 2}}),
            "step_percent must be 3.0-100.0; got 2.0",
        ),
        (
            frontend({"deployment": {"strategy": "canary", "canary_percent": 0}}),
            "canary_percent must be 0.1-100.0; got 0.0",
        ),
        (
            frontend(
                {
                    "deployment": {"strategy": "linear"},
                    "autoscaling": {"requests_per_target": 100},
                }
            ),
            "services.frontend.autoscaling.requests_per_target: with deployment.strategy "
            "'linear' ECS moves traffic between two target groups",
        ),
        (
            frontend({"deployment": {"strategy": "sideways"}}),
            "services.frontend.deployment.strategy: Input should be 'rolling', 'blue_green', "
            "'linear' or 'canary'",
        ),
        (
            {
                "public_alb": {"certificate_arn": CERTIFICATE, "cognito": COGNITO},
                **frontend({"deployment": {"strategy": "blue_green"}}),
            },
            "envs/dev.py: services.frontend.deployment.strategy: 'blue_green' is not supported "
            "behind a listener with Cognito authentication",
        ),
        (
            {
                "project": "fargate-platform",
                "services": {
                    "storefront": {
                        "container_port": 8081,
                        "path_patterns": ["/shop/*"],
                        "deployment": {"strategy": "blue_green"},
                    }
                },
            },
            "services.storefront.name: the alternate target group of service 'storefront' would "
            "be named 'fargate-platform-dev-storefront-g' (33 characters) but AWS allows 32; "
            "shorten the service name",
        ),
        (
            frontend(
                {
                    "deployment": {"strategy": "blue_green"},
                    "path_patterns": ["/a/*", "/b/*", "/c/*"],
                    "host_headers": ["a.example.com", "b.example.com"],
                }
            ),
            "services.frontend.deployment.strategy: the deployment's test rule would need 6 "
            "condition values (path_patterns + host_headers + the x-deployment-test header) "
            "but an ALB rule allows 5",
        ),
        (
            {"jobs": {"nightly-report": {"alarms": {"missed_run_window_hours": 169}}}},
            "jobs.nightly-report.alarms: missed_run_window_hours must be 1-168",
        ),
        (
            frontend(
                {
                    "autoscaling": {
                        "schedules": [
                            {
                                "name": "night",
                                "expression": "cron(0 22 * * *)",
                                "min_capacity": 0,
                                "max_capacity": 0,
                            }
                        ]
                    }
                }
            ),
            "cron needs 6 fields",
        ),
        (
            frontend(
                {
                    "autoscaling": {
                        "schedules": [
                            {
                                "name": "a",
                                "expression": "rate(1 day)",
                                "min_capacity": 2,
                                "max_capacity": 1,
                            },
                            {
                                "name": "a",
                                "expression": "rate(1 day)",
                                "min_capacity": 0,
                                "max_capacity": 1,
                            },
                        ]
                    }
                }
            ),
            "need 0 <= min_capacity <= max_capacity; got 2, 1",
        ),
    ],
)
def test_rejected_with_field_value_and_fix(overrides: dict[str, Any], expected: str) -> None:
    assert expected in rejected(overrides)


def test_duplicate_schedule_names_are_refused() -> None:
    schedule = {"expression": "rate(1 day)", "min_capacity": 0, "max_capacity": 1}
    message = rejected(
        frontend(
            {"autoscaling": {"schedules": [{"name": "a", **schedule}, {"name": "a", **schedule}]}}
        )
    )
    assert "schedules: name 'a' is used more than once" in message


def test_rollback_defaults_follow_the_load_balancer() -> None:
    env = build_example(
        merge(DEV, {"services": {"worker": {"exposure": "none"}}}), source="envs/dev.py"
    )
    services = {s.name: s for s in env.services}
    assert services["frontend"].alarms.rollback_alarms(load_balanced=True) == (
        "target_5xx_rate",
        "latency",
    )
    assert services["worker"].alarms.rollback_alarms(load_balanced=False) == ()


@pytest.mark.parametrize(
    "schedule,hours",
    [
        ({"expression": "rate(15 minutes)"}, 1),
        ({"expression": "rate(3 hours)"}, 6),
        ({"expression": "rate(7 days)"}, 168),
        ({"expression": "cron(0 3 * * ? *)"}, 25),
        ({"expression": "at(2030-01-01T00:00:00)"}, None),
        ({"expression": "rate(1 hour)", "enabled": False}, None),
    ],
)
def test_missed_run_window_follows_the_schedule(
    schedule: dict[str, Any], hours: int | None
) -> None:
    env = build_example(
        merge(DEV, {"jobs": {"nightly-report": {"schedule": schedule}}}), source="envs/dev.py"
    )
    job = next(j for j in env.jobs if j.name == "nightly-report")
    assert job.missed_run_window_hours == hours
