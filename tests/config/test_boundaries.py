"""Validation boundaries: the last accepted value is accepted and the first rejected one is
rejected with a message naming the field and the fix. In-process, no provider."""

from __future__ import annotations

from typing import Any

import pytest

from envs import ConfigError, load_environments, merge
from envs.schema.alb import WAF_RATE_LIMIT
from envs.schema.job import RETRY_ATTEMPTS
from main import main
from tests.example_envs import build_example
from tests.example_envs.dev import OVERRIDES as DEV

pytestmark = pytest.mark.invariant

RETRY_ATTEMPTS_MAX = RETRY_ATTEMPTS.high


def build(overrides: dict[str, Any]) -> Any:
    return build_example(merge(DEV, overrides), source="envs/dev.py")


def rejected(overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        build(overrides)
    return caught.value.render()


def test_allowed_callers_only_on_internal_services() -> None:
    build({"services": {"backend": {"exposure": "internal", "allowed_callers": ["frontend"]}}})
    message = rejected(
        {"services": {"backend": {"exposure": "public", "allowed_callers": ["frontend"]}}}
    )
    assert "services.backend" in message and "needs exposure 'internal'" in message


def test_a_service_cannot_list_itself_as_a_caller() -> None:
    message = rejected({"services": {"backend": {"allowed_callers": ["frontend", "backend"]}}})
    assert "allowed_callers lists the service itself ('backend')" in message


def test_health_check_timeout_must_be_below_the_interval() -> None:
    build(
        {"services": {"backend": {"health_check": {"interval_seconds": 15, "timeout_seconds": 14}}}}
    )
    message = rejected(
        {"services": {"backend": {"health_check": {"interval_seconds": 15, "timeout_seconds": 15}}}}
    )
    assert "timeout_seconds (15) must be less than interval_seconds" in message


@pytest.mark.parametrize("edge", [0, 1])
def test_waf_rate_limit_bounds(edge: int) -> None:
    low, high = WAF_RATE_LIMIT.low, WAF_RATE_LIMIT.high
    build({"waf": {"rate_limit_per_5_minutes": (low, high)[edge]}})
    too_far = (low - 1, high + 1)[edge]
    message = rejected({"waf": {"rate_limit_per_5_minutes": too_far}})
    assert f"rate_limit_per_5_minutes must be {low}-{high}; got {too_far}" in message


def test_scheduler_retries_maximum() -> None:
    schedule = {"expression": "cron(0 3 * * ? *)"}
    build(
        {
            "jobs": {
                "nightly-report": {"schedule": {**schedule, "retry_attempts": RETRY_ATTEMPTS_MAX}}
            }
        }
    )
    message = rejected(
        {
            "jobs": {
                "nightly-report": {
                    "schedule": {**schedule, "retry_attempts": RETRY_ATTEMPTS_MAX + 1}
                }
            }
        }
    )
    assert f"retry_attempts must be 0-{RETRY_ATTEMPTS_MAX}; got {RETRY_ATTEMPTS_MAX + 1}" in message


def test_an_environment_named_twice_runs_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert [env.name for env in load_environments(["dev", "dev"])] == ["dev"]
    assert main(["--check", "--env", "dev", "--env", "dev"]) == 0
    assert capsys.readouterr().out == "configuration valid: dev\n"


def test_none_removes_a_base_service_and_an_empty_dict_keeps_it() -> None:
    """An environment can drop a service (or job) the base defines; `{}` merges, so it keeps it."""
    kept = build({"services": {"frontend": {}}})
    assert "frontend" in [s.name for s in kept.services]
    env = build({"services": {"worker": None}, "jobs": {"migrate": None}})
    assert "worker" not in [s.name for s in env.services]
    assert "backend" in [s.name for s in env.services]
    assert "migrate" not in [j.name for j in env.jobs] and env.jobs
