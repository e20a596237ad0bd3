"""A finding: which rule, where, when it fails, the problem and the fix."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class When(StrEnum):
    """When the trap springs."""

    PLAN = "plan"
    APPLY = "apply"
    RUN = "run time"


@dataclass(frozen=True)
class Finding:
    rule: str
    stack: str
    address: str
    """Terraform resource address, e.g. `aws_lb.public-alb_lb_4D3A5E1B`."""
    path: str
    """Construct path from the resource's `//.metadata.path` (empty when absent)."""
    when: When
    problem: str
    fix: str

    def render(self) -> str:
        where = f"{self.stack}: {self.address}" + (f" ({self.path})" if self.path else "")
        return f"{where}: [{self.rule}] fails at {self.when}: {self.problem}; fix: {self.fix}"
