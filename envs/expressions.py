"""Schedule expressions shared by EventBridge Scheduler (jobs) and Application Auto Scaling
scheduled actions (services): rate(), 6-field cron() and at()."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache

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


def check_time_zone(value: str) -> str:
    if value not in _time_zones():
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. 'UTC', 'Asia/Tokyo')")
    return value


UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_interval_seconds(expression: str) -> int | None:
    """Seconds between runs of a rate() expression; None for cron() and at()."""
    match = RATE.fullmatch(expression)
    if match is None:
        return None
    return int(match["value"]) * UNIT_SECONDS[match["unit"].removesuffix("s")]
