"""An EventBridge event-pattern matcher for tests, for the operators our rules use.

moto's matcher (5.2) does not descend into arrays of objects (`detail.containers[].exitCode`),
which is exactly what the job-failure rule needs, so tests use this one. Semantics follow
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html: every key of
the pattern must match; a list of values matches when any value does; an array in the event
matches when any element does; `$or` matches when any branch does; operators `prefix`,
`anything-but` (one value or a list), `exists` and `numeric`.
"""

from __future__ import annotations

import operator
from typing import Any

MISSING = object()
NUMERIC = {
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
}


def _value_matches(value: Any, rule: Any) -> bool:
    if isinstance(rule, dict):
        (name, argument), *_ = rule.items()
        if name == "exists":
            return (value is not MISSING) is argument
        if value is MISSING:
            return False
        if name == "prefix":
            return isinstance(value, str) and value.startswith(argument)
        if name == "anything-but":
            excluded = argument if isinstance(argument, list) else [argument]
            return value not in excluded
        if name == "numeric":
            if not isinstance(value, int | float) or isinstance(value, bool):
                return False
            pairs = zip(argument[::2], argument[1::2], strict=True)
            return all(NUMERIC[op](value, bound) for op, bound in pairs)
        raise NotImplementedError(f"operator {name!r}")
    return value is not MISSING and value == rule


def _leaf_matches(value: Any, rules: list[Any]) -> bool:
    values = value if isinstance(value, list) else [value]
    if not values:
        values = [MISSING]
    return any(_value_matches(v, rule) for v in values for rule in rules)


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """Whether `event` matches `pattern`."""
    for key, rule in pattern.items():
        if key == "$or":
            if not any(matches(branch, event) for branch in rule):
                return False
            continue
        value = event.get(key, MISSING) if isinstance(event, dict) else MISSING
        if isinstance(rule, dict):
            candidates = value if isinstance(value, list) else [value]
            if not any(isinstance(c, dict) and matches(rule, c) for c in candidates):
                return False
        elif not _leaf_matches(value, rule):
            return False
    return True
