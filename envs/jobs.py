"""Config for one-off and scheduled jobs: standalone ECS tasks with no service."""

from __future__ import annotations

import math

from pydantic import field_validator, model_validator

from envs.alarms import MISSED_RUN_MAX_HOURS, JobAlarmsConfig
from envs.common import Strict
from envs.expressions import check_schedule_expression, check_time_zone, rate_interval_seconds
from envs.services import WorkloadConfig

DEFAULT_CRON_WINDOW_HOURS = 25


class ScheduleConfig(Strict):
    """Run the job on a schedule with EventBridge Scheduler."""

    expression: str
    """rate(...), cron(...) (6 fields, EventBridge syntax) or at(...)."""
    timezone: str = "UTC"
    """IANA time zone the expression is evaluated in, e.g. Asia/Tokyo."""
    enabled: bool = True
    """False: the schedule exists but does not fire."""
    retry_attempts: int = 2
    """Retries when RunTask fails (0-185)."""
    maximum_event_age_seconds: int = 3600
    """Give up on an invocation after this many seconds (60-86400)."""
    dead_letter_queue: bool = True
    """Send invocations that fail all retries to an SQS queue."""

    @field_validator("expression")
    @classmethod
    def _expression(cls, value: str) -> str:
        return check_schedule_expression(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_time_zone(value)

    @model_validator(mode="after")
    def _limits(self) -> ScheduleConfig:
        problems = []
        if not 0 <= self.retry_attempts <= 185:
            problems.append(f"retry_attempts must be 0-185; got {self.retry_attempts}")
        if not 60 <= self.maximum_event_age_seconds <= 86400:
            problems.append(
                f"maximum_event_age_seconds must be 60-86400; got {self.maximum_event_age_seconds}"
            )
        if problems:
            raise ValueError("schedule: " + "; ".join(problems))
        return self


class JobConfig(WorkloadConfig):
    """A standalone task: run on demand with `python -m ops run-task`, or on a schedule."""

    same_image_as: str | None = None
    """Run the image of this service instead of `image` (e.g. migrations)."""
    command: tuple[str, ...] = ()
    """Default command; `ops run-task ... -- <command>` overrides it."""
    schedule: ScheduleConfig | None = None
    """Run on a schedule with EventBridge Scheduler; unset: on demand only."""
    alarms: JobAlarmsConfig = JobAlarmsConfig()
    """Failed-run notifications, the missed-run alarm and the dead-letter queue alarm."""

    @property
    def missed_run_window_hours(self) -> int | None:
        """Hours without a log line after which the missed-run alarm fires (None: no alarm).

        Default: twice a rate() interval (at least 1 hour), 25 hours for cron() (daily plus an
        hour of slack), none for at() (one run only) or a disabled schedule.
        """
        schedule = self.schedule
        if schedule is None or not schedule.enabled or schedule.expression.startswith("at("):
            return None
        if self.alarms.missed_run_window_hours is not None:
            return self.alarms.missed_run_window_hours
        interval = rate_interval_seconds(schedule.expression)
        if interval is None:
            return DEFAULT_CRON_WINDOW_HOURS
        return min(max(1, math.ceil(2 * interval / 3600)), MISSED_RUN_MAX_HOURS)
