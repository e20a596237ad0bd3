"""Config for one-off and scheduled jobs: standalone ECS tasks with no service."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import StrictBool, StrictInt

from envs.schema.alarms import MISSED_RUN_MAX_HOURS, JobAlarmsConfig
from envs.schema.common import Strict, between
from envs.schema.schedule_expression import RATE, ScheduleExpression, TimeZone
from envs.schema.schedule_expression import check_schedule_expression as check_schedule_expression
from envs.schema.workload import WorkloadConfig

# Scheduler's own limit on retries of a failed RunTask (provider: internal/service/scheduler/
# schedule.go, maximum_retry_attempts IntBetween(0, 185)); event age 60-86400 seconds likewise.
RETRY_ATTEMPTS = between(0, 185)
EVENT_AGE_SECONDS = between(60, 86400)


UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
DEFAULT_CRON_WINDOW_HOURS = 25
"""Missed-run window of a cron() job: daily plus an hour of slack."""


def rate_interval_seconds(expression: str) -> int | None:
    """Seconds between runs of a rate() expression; None for cron() and at()."""
    match = RATE.fullmatch(expression)
    if match is None:
        return None
    return int(match["value"]) * UNIT_SECONDS[match["unit"].removesuffix("s")]


class ScheduleConfig(Strict):
    """Run the job on a schedule with EventBridge Scheduler."""

    expression: ScheduleExpression
    """rate(...), cron(...) (6 fields, EventBridge syntax) or at(...)."""
    timezone: TimeZone = "UTC"
    """IANA time zone the expression is evaluated in, e.g. Asia/Tokyo."""
    enabled: StrictBool = True
    """False: the schedule exists but does not fire."""
    retry_attempts: Annotated[StrictInt, RETRY_ATTEMPTS] = 2
    """Retries when RunTask fails."""
    maximum_event_age_seconds: Annotated[StrictInt, EVENT_AGE_SECONDS] = 3600
    """Give up on an invocation after this many seconds."""
    dead_letter_queue: StrictBool = True
    """Send invocations that fail all retries to an SQS queue."""


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
