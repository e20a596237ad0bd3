"""EventBridge Scheduler's expression and time-zone grammar, checked once for every schedule
(job schedules in envs/schema/job.py, scheduled scaling in envs/schema/scaling.py).
No other envs imports."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from dataclasses import dataclass
from functools import cache
from typing import Annotated

from pydantic import AfterValidator

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


ScheduleExpression = Annotated[str, AfterValidator(check_schedule_expression)]
"""A rate(), cron() (6 fields) or at() expression."""
TimeZone = Annotated[str, AfterValidator(check_time_zone)]
"""An IANA time zone name."""
