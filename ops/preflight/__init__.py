"""Preflight: find apply-time traps in the synthesized Terraform JSON before Terraform runs.

    python -m ops preflight                 # every stack in cdktf.out (or $CDKTF_OUTDIR)
    python -m ops preflight --env dev       # one or more stacks

Reads `cdktf.out/stacks/*/cdk.tf.json` only (no provider, no AWS, standard library) and judges
it generically, by resource type and reference, never by this project's construct names: it
works on any CDKTF/Terraform JSON app. Every rule cites where its limit comes from (the AWS
provider's source, hashicorp/terraform-provider-aws `internal/service/...`, or the AWS
documentation). Each finding names the resource address, the construct path, what fails and
when (plan / apply / run time), and the fix.

Warnings (printed, exit status unchanged) flag what synthesizes and plans but should not be
deployed as is, e.g. a domain under a reserved placeholder zone.

Exit status: 0 no findings (warnings allowed); 1 findings; 2 bad input (no cdktf.out, unknown
env).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from ops.common import EXIT_FAILED, handle
from ops.preflight.advisories import Advisory, advisories, placeholder
from ops.preflight.finding import Finding, When
from ops.preflight.model import Address, Model
from ops.preflight.rules import RULES, Rule
from ops.preflight.workloads import needs, reach, workloads
from ops.synth_reader import (
    Stack,
    add_stack_arguments,
    available,
    load_stack,
)

# Importing a rule family registers its rules (`@rule`): the order below is the order the rules
# run in, report findings in and are listed in by `--rules`.
# isort: off
from ops.preflight import ordering, exec_access, egress, names, quotas
from ops.preflight import validators, references, certificates, service_connect

# isort: on

RULE_FAMILIES = (
    ordering,
    exec_access,
    egress,
    names,
    quotas,
    validators,
    references,
    certificates,
    service_connect,
)

__all__ = [
    "EXIT_FINDINGS",
    "RULES",
    "Address",
    "Advisory",
    "Finding",
    "Model",
    "Rule",
    "When",
    "advisories",
    "load",
    "needs",
    "placeholder",
    "preflight",
    "reach",
    "register",
    "run",
    "summary",
    "workloads",
]


EXIT_FINDINGS = EXIT_FAILED


# --- the command ------------------------------------------------------------------------------


def preflight(stacks: Sequence[Stack]) -> list[Finding]:
    """Every finding of every rule over `stacks` (cross-stack rules see them all)."""
    models = [Model(stack) for stack in stacks]
    return [finding for rule_ in RULES for finding in rule_.check(models)]


def summary(
    findings: Sequence[Finding], stacks: Sequence[Stack], warnings: Sequence[Advisory] = ()
) -> str:
    """One line, e.g. for `make synth`."""
    names = ", ".join(stack.name for stack in stacks)
    warned = f", {len(warnings)} warning(s)" if warnings else ""
    if not findings:
        return f"preflight: {len(RULES)} rules, no findings{warned} ({names})"
    return (
        f"preflight: {len(findings)} finding(s){warned} from {len(RULES)} rules ({names}); "
        "run `python -m ops preflight` for details"
    )


def load(outdir: Any, envs: Sequence[str] | None) -> list[Stack]:
    names = envs or available(outdir)
    return [load_stack(outdir, name) for name in names]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "preflight",
        help="find apply-time traps in cdktf.out before Terraform runs",
        description=__doc__.splitlines()[0],
    )
    add_stack_arguments(parser)
    parser.add_argument("--rules", action="store_true", help="list the rules and their sources")
    parser.set_defaults(handler=handle(run))


def run(args: argparse.Namespace) -> int:
    if args.rules:
        for rule_ in RULES:
            print(f"{rule_.id}: {rule_.summary}\n    source: {rule_.source}")
        return 0
    stacks = load(args.outdir, args.env)
    findings = preflight(stacks)
    warnings = advisories(stacks)
    for finding in findings:
        print(finding.render())
    for warning in warnings:
        print(warning.render())
    print(summary(findings, stacks, warnings))
    return EXIT_FINDINGS if findings else 0
