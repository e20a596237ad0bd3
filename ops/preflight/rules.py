"""The rule registry: each rule family module registers its checks with `@rule`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ops.preflight.finding import Finding
from ops.preflight.model import Model

Check = Callable[[Sequence[Model]], Iterator[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    source: str
    check: Check


RULES: list[Rule] = []


def rule(id_: str, summary: str, source: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULES.append(Rule(id_, summary, source, check))
        return check

    return register


def per_stack(check: Callable[[Model], Iterator[Finding]]) -> Check:
    def run(models: Sequence[Model]) -> Iterator[Finding]:
        for model in models:
            yield from check(model)

    return run
