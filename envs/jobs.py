"""Config for one-off and scheduled jobs: standalone ECS tasks with no service."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache

from pydantic import StrictBool, StrictInt, field_validator, model_validator

from envs.common import Strict
from envs.services import WorkloadConfig

RATE = re.compile(r"^rate\((?P<value>\d+) (?P<unit>minute|minutes|hour|hours|day|days)\)$")
CRON = re.compile(r"^cron\((?P<fields>[^()]+)\)$")
AT = re.compile(r"^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$")
CRON_FIELD = {
    "minutes": r"[0-9,\-*/]+",
    "hours": r"[0-9,\-*/]+",
    "day-of-month": r"[0-9,\-*/?LW]+",
    "month": r"[0-9A-Za-z,\-*/]+",
    "day-of-week": r"[0-9A-Za-z,\-*?L#/]+",
    "year": r"[0-9,\-*/]+",
}


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
        if len(fields) != len(CRON_FIELD):
            raise ValueError(
                f"{expression!r}: cron needs 6 fields (minutes hours day-of-month month "
                f"day-of-week year); got {len(fields)}"
            )
        for (name, pattern), value in zip(CRON_FIELD.items(), fields, strict=True):
            if not re.fullmatch(pattern, value):
                raise ValueError(f"{expression!r}: {name} field {value!r} is not valid")
        if "?" not in (fields[2], fields[4]):
            raise ValueError(
                f"{expression!r}: one of day-of-month or day-of-week must be '?', "
                "e.g. cron(0 3 * * ? *)"
            )
        return expression
    if AT.fullmatch(expression):
        return expression
    raise ValueError(
        f"{expression!r} is not a schedule expression; use rate(5 minutes), "
        "cron(0 3 * * ? *) or at(2030-01-01T00:00:00)"
    )


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
        if value not in _time_zones():
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. 'UTC', 'Asia/Tokyo')")
        return value

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
