"""Config for one-off and scheduled jobs: standalone ECS tasks with no service."""

from __future__ import annotations

import datetime
import math
import re
import zoneinfo
from dataclasses import dataclass
from functools import cache

from pydantic import StrictBool, StrictInt, field_validator, model_validator

from envs.alarms import MISSED_RUN_MAX_HOURS, JobAlarmsConfig
from envs.common import Strict
from envs.services import WorkloadConfig

# EventBridge Scheduler expressions: rate(), cron() with 6 fields, at().
# https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
RATE = re.compile(r"^rate\((?P<value>\d+) (?P<unit>minute|minutes|hour|hours|day|days)\)$")
CRON = re.compile(r"^cron\((?P<fields>[^()]+)\)$")
AT = re.compile(r"^at\((?P<when>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class CronField:
    """One cron field: its values' range, names, and the special forms it accepts."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    special: str = ""
    """A regex of the field's special forms (L, W, #, ?) that need no range check."""


CRON_FIELDS = (
    CronField("minutes", 0, 59),
    CronField("hours", 0, 23),
    CronField("day-of-month", 1, 31, special=r"\?|L|LW|\d{1,2}W"),
    CronField("month", 1, 12, names=MONTHS),
    CronField("day-of-week", 1, 7, names=WEEKDAYS, special=r"\?|L|[1-7]L|[1-7]#[1-5]"),
    CronField("year", 1970, 2199),
)
# Scheduler's own limit on retries of a failed RunTask (provider: internal/service/scheduler/
# schedule.go, maximum_retry_attempts IntBetween(0, 185)); event age 60-86400 seconds likewise.
RETRY_ATTEMPTS_MAX = 185
EVENT_AGE_SECONDS = (60, 86400)


def _cron_field_problem(field: CronField, text: str) -> str | None:
    """Why one cron field is invalid (None when it is valid)."""
    for item in text.split(","):
        if field.special and re.fullmatch(field.special, item):
            if item.endswith("W") and item[:-1].isdigit() and not 1 <= int(item[:-1]) <= 31:
                return f"{field.name} field {text!r} is not valid: {item!r} is outside 1-31"
            continue
        base, _, step = item.partition("/")
        if step and not (step.isdigit() and 1 <= int(step) <= field.high):
            return f"{field.name} field {text!r} is not valid: the step must be 1-{field.high}"
        if base == "*":
            continue
        for token in base.split("-", 1):
            value = field.names.index(token.upper()) + 1 if token.upper() in field.names else None
            if value is None and token.isdigit():
                value = int(token)
            if value is None or not field.low <= value <= field.high:
                names = f" or {field.names[0]}-{field.names[-1]}" if field.names else ""
                return (
                    f"{field.name} field {text!r} is not valid: use values "
                    f"{field.low}-{field.high}{names}"
                )
    return None


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_schedule_expression(expression: str) -> str:
    """EventBridge Scheduler's rate(), cron() (6 fields) and at() forms."""
    if (match := RATE.fullmatch(expression)) is not None:
        value, unit = int(match["value"]), match["unit"]
        if value < 1:
            raise ValueError(f"{expression!r}: the rate must be at least 1")
        if (value == 1) != (not unit.endswith("s")):
            raise ValueError(
                f"{expression!r}: use the singular unit for 1 and the plural otherwise, "
                "e.g. rate(1 hour), rate(5 minutes)"
            )
        return expression
    if (match := CRON.fullmatch(expression)) is not None:
        fields = match["fields"].split()
        if len(fields) != len(CRON_FIELDS):
            raise ValueError(
                f"{expression!r}: cron needs 6 fields (minutes hours day-of-month month "
                f"day-of-week year); got {len(fields)}"
            )
        for field, text in zip(CRON_FIELDS, fields, strict=True):
            if (problem := _cron_field_problem(field, text)) is not None:
                raise ValueError(f"{expression!r}: {problem}")
        if (fields[2] == "?") == (fields[4] == "?"):
            raise ValueError(
                f"{expression!r}: exactly one of day-of-month or day-of-week must be '?', "
                "e.g. cron(0 3 * * ? *) or cron(0 3 ? * MON *)"
            )
        return expression
    if (match := AT.fullmatch(expression)) is not None:
        try:
            datetime.datetime.fromisoformat(match["when"])
        except ValueError as error:
            raise ValueError(
                f"{expression!r} is not a real date and time ({error}); "
                "use at(yyyy-mm-ddThh:mm:ss), e.g. at(2030-01-01T00:00:00)"
            ) from None
        return expression
    raise ValueError(
        f"{expression!r} is not a schedule expression; use rate(5 minutes), "
        "cron(0 3 * * ? *) or at(2030-01-01T00:00:00)"
    )


def check_time_zone(value: str) -> str:
    if value not in _time_zones():
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. 'UTC', 'Asia/Tokyo')")
    return value


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

    expression: str
    """rate(...), cron(...) (6 fields, EventBridge syntax) or at(...)."""
    timezone: str = "UTC"
    """IANA time zone the expression is evaluated in, e.g. Asia/Tokyo."""
    enabled: StrictBool = True
    """False: the schedule exists but does not fire."""
    retry_attempts: StrictInt = 2
    """Retries when RunTask fails (0-185)."""
    maximum_event_age_seconds: StrictInt = 3600
    """Give up on an invocation after this many seconds (60-86400)."""
    dead_letter_queue: StrictBool = True
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
        if not 0 <= self.retry_attempts <= RETRY_ATTEMPTS_MAX:
            problems.append(
                f"retry_attempts must be 0-{RETRY_ATTEMPTS_MAX}; got {self.retry_attempts}"
            )
        low, high = EVENT_AGE_SECONDS
        if not low <= self.maximum_event_age_seconds <= high:
            problems.append(
                f"maximum_event_age_seconds must be {low}-{high}; "
                f"got {self.maximum_event_age_seconds}"
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
