"""Config for scheduled scaling: change a service's capacity bounds at set times.

Application Auto Scaling scheduled actions take at(), rate() and 6-field cron() expressions in
the same syntax as EventBridge Scheduler
(https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html),
so the same check applies; names are at most 256 characters (PutScheduledAction API).
"""

from __future__ import annotations

import re

from pydantic import model_validator

from envs.schema.common import Strict
from envs.schema.schedule_expression import ScheduleExpression, TimeZone

ACTION_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


def capacity_problems(min_capacity: int, max_capacity: int) -> list[str]:
    """What is wrong with an autoscaler's `min_capacity`..`max_capacity` (at least 0, and
    at least 1 task at most), for target tracking on metrics and on a queue's backlog."""
    problems = []
    if min_capacity < 0:
        problems.append(f"min_capacity must be >= 0; got {min_capacity}")
    if max_capacity < max(min_capacity, 1):
        problems.append(
            f"max_capacity ({max_capacity}) must be >= min_capacity ({min_capacity}) and >= 1"
        )
    return problems


class ScheduledScalingConfig(Strict):
    """At `expression`, set the autoscaler's bounds to `min_capacity`..`max_capacity`
    (e.g. dev to 0 at night and back in the morning)."""

    name: str
    """Short label, unique per service (lowercase letters, digits, '-'), e.g. `night`."""
    expression: ScheduleExpression
    """cron(...) (6 fields), rate(...) or at(...)."""
    timezone: TimeZone = "UTC"
    """IANA time zone the expression is evaluated in."""
    min_capacity: int
    """Fewest tasks from then on."""
    max_capacity: int
    """Most tasks from then on."""

    @model_validator(mode="after")
    def _bounds(self) -> ScheduledScalingConfig:
        problems = []
        if not ACTION_NAME.fullmatch(self.name):
            problems.append(
                f"name {self.name!r} must be 1-63 lowercase letters, digits or '-', "
                "starting with a letter"
            )
        if self.min_capacity < 0 or self.max_capacity < self.min_capacity:
            problems.append(
                f"need 0 <= min_capacity <= max_capacity; got {self.min_capacity}, "
                f"{self.max_capacity}"
            )
        if problems:
            raise ValueError("schedules: " + "; ".join(problems))
        return self
