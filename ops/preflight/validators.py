"""Rules: the provider's plan-time argument validators."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ops.preflight.finding import Finding, When
from ops.preflight.model import Model, as_list, literal
from ops.preflight.rules import per_stack, rule

# internal/service/logs/group.go: retention_in_days validation.IntInSlice(...)
LOG_RETENTION_DAYS = (
    0,
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


@rule(
    "provider-validators",
    "attribute values the provider validates at plan (or AWS at apply)",
    "internal/service/elbv2/target_group.go (health_check interval 5-300, timeout 2-120, "
    "thresholds 2-10, deregistration_delay 0-3600, stickiness cookie_duration 1-604800; AWS: "
    "timeout < interval, matcher 200-499), internal/service/elbv2/listener_rule.go (priority "
    "1-50000; AWS: at most 5 condition values per rule, path patterns <= 128 characters), "
    "internal/service/logs/group.go (retention_in_days), internal/service/scheduler/"
    "schedule.go (maximum_retry_attempts 0-185, maximum_event_age_in_seconds 60-86400)",
)
@per_stack
def _validators(model: Model) -> Iterator[Finding]:
    def bad(type_: str, name: str, when: When, problem: str, fix: str) -> Finding:
        return model.finding("provider-validators", type_, name, when, problem, fix)

    def outside(value: Any, low: int, high: int) -> bool:
        number = int(value) if isinstance(value, int | str) and str(value).isdigit() else None
        return number is not None and not low <= number <= high

    for name, group in model.items("aws_lb_target_group"):
        for check in as_list(group.get("health_check")):
            for key, low, high in (
                ("interval", 5, 300),
                ("timeout", 2, 120),
                ("healthy_threshold", 2, 10),
                ("unhealthy_threshold", 2, 10),
            ):
                if outside(check.get(key), low, high):
                    yield bad(
                        "aws_lb_target_group",
                        name,
                        When.PLAN,
                        f"health_check.{key} {check.get(key)} is outside {low}-{high}",
                        f"set health_check.{key} within {low}-{high}",
                    )
            interval, timeout = check.get("interval"), check.get("timeout")
            if isinstance(interval, int) and isinstance(timeout, int) and timeout >= interval:
                yield bad(
                    "aws_lb_target_group",
                    name,
                    When.APPLY,
                    f"health_check.timeout {timeout} is not below interval {interval}",
                    "make the timeout smaller than the interval",
                )
            matcher = literal(check.get("matcher"))
            if matcher is not None and check.get("protocol", "HTTP") in ("HTTP", "HTTPS"):
                codes = [int(c) for c in re.findall(r"\d+", matcher)]
                if not codes or any(not 200 <= c <= 499 for c in codes):
                    yield bad(
                        "aws_lb_target_group",
                        name,
                        When.APPLY,
                        f"health_check.matcher {matcher!r} is outside 200-499",
                        "use HTTP codes between 200 and 499",
                    )
        if outside(group.get("deregistration_delay"), 0, 3600):
            yield bad(
                "aws_lb_target_group",
                name,
                When.PLAN,
                f"deregistration_delay {group.get('deregistration_delay')} is outside 0-3600",
                "set 0-3600 seconds",
            )
        for sticky in as_list(group.get("stickiness")):
            if outside(sticky.get("cookie_duration"), 1, 604800):
                yield bad(
                    "aws_lb_target_group",
                    name,
                    When.PLAN,
                    f"stickiness.cookie_duration {sticky.get('cookie_duration')} is outside "
                    "1-604800",
                    "set 1-604800 seconds",
                )
    priorities: dict[tuple[str, int], str] = {}
    for name, body in model.items("aws_lb_listener_rule"):
        priority = body.get("priority")
        if outside(priority, 1, 50000):
            yield bad(
                "aws_lb_listener_rule",
                name,
                When.PLAN,
                f"priority {priority} is outside 1-50000",
                "use a priority in 1-50000",
            )
        listener = str(body.get("listener_arn"))
        if isinstance(priority, int):
            if (listener, priority) in priorities:
                yield bad(
                    "aws_lb_listener_rule",
                    name,
                    When.APPLY,
                    f"priority {priority} is also used by aws_lb_listener_rule."
                    f"{priorities[listener, priority]} on the same listener (PriorityInUse)",
                    "give each rule of a listener its own priority",
                )
            priorities[listener, priority] = name
        values = []
        for condition in as_list(body.get("condition")):
            for key in ("path_pattern", "host_header"):
                for block in as_list(condition.get(key)):
                    values += [str(v) for v in as_list(block.get("values"))]
        if len(values) > 5:
            yield bad(
                "aws_lb_listener_rule",
                name,
                When.APPLY,
                f"{len(values)} condition values (at most 5 per rule)",
                "split the rule in two",
            )
        for value in values:
            if len(value) > 128:
                yield bad(
                    "aws_lb_listener_rule",
                    name,
                    When.APPLY,
                    f"condition value {value[:40]!r}... is {len(value)} characters (max 128)",
                    "shorten it",
                )
    for name, group in model.items("aws_cloudwatch_log_group"):
        days = group.get("retention_in_days")
        if isinstance(days, int) and days not in LOG_RETENTION_DAYS:
            yield bad(
                "aws_cloudwatch_log_group",
                name,
                When.PLAN,
                f"retention_in_days {days} is not one of {LOG_RETENTION_DAYS}",
                "pick one of the allowed values",
            )
    for name, schedule in model.items("aws_scheduler_schedule"):
        for target in as_list(schedule.get("target")):
            for retry in as_list(target.get("retry_policy")):
                if outside(retry.get("maximum_retry_attempts"), 0, 185):
                    yield bad(
                        "aws_scheduler_schedule",
                        name,
                        When.PLAN,
                        f"maximum_retry_attempts {retry.get('maximum_retry_attempts')} is "
                        "outside 0-185",
                        "set 0-185",
                    )
                if outside(retry.get("maximum_event_age_in_seconds"), 60, 86400):
                    yield bad(
                        "aws_scheduler_schedule",
                        name,
                        When.PLAN,
                        f"maximum_event_age_in_seconds {retry.get('maximum_event_age_in_seconds')}"
                        " is outside 60-86400",
                        "set 60-86400",
                    )
