"""Release impact of a Terraform plan, per service, as Markdown for a PR comment.

    terraform show -json plan.tfplan > plan.json
    python -m ops release-impact --env dev --plan plan.json

Per service: whether its task template changes (a new revision and a rolling deployment follow
`terraform apply`: the deploy workflow runs `python -m ops deploy --env ENV --service SVC`),
an estimated rollout time, and a warning for every load balancer, listener, listener rule or
target group the plan would replace.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ops.aws import environment
from ops.common import EXIT_OK, OpsError, handle
from ops.release_contract import template_parameter_name

REPLACED_TYPES = ("aws_lb", "aws_lb_listener", "aws_lb_listener_rule", "aws_lb_target_group")
START_ALLOWANCE_SECONDS = 60
"""Fargate provisioning, image pull and container start: a rough allowance per task wave."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `release-impact` subcommand."""
    parser = subparsers.add_parser(
        "release-impact",
        help="what a Terraform plan means for releases (Markdown for the PR comment)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--env", required=True, help="environment the plan is for")
    parser.add_argument("--plan", required=True, type=Path, help="`terraform show -json` output")
    parser.set_defaults(handler=handle(run_release_impact))


def read_plan(path: Path) -> Mapping[str, Any]:
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OpsError(
            f"--plan {path}: no such file; create it with terraform show -json"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise OpsError(f"--plan {path} is not a `terraform show -json` document: {error}") from None
    if not isinstance(plan, Mapping) or not isinstance(plan.get("resource_changes", []), list):
        raise OpsError(f"--plan {path} has no resource_changes list; is it terraform show -json?")
    return plan


def _replaced(change: Mapping[str, Any]) -> bool:
    actions = change.get("change", {}).get("actions", [])
    return "delete" in actions and "create" in actions


def estimate_seconds(service: Any) -> int:
    """Start allowance + time to pass the health check (+ grace) + draining the old tasks."""
    check = service.health_check
    healthy = check.healthy_threshold * check.interval_seconds
    behind_alb = service.exposure in ("public", "internal")  # no ALB: none, service_connect
    grace = service.health_check_grace_period_seconds if behind_alb else 0
    draining = service.deregistration_delay_seconds if behind_alb else 0
    return int(START_ALLOWANCE_SECONDS + max(healthy, grace) + draining)


def impact(env: Any, plan: Mapping[str, Any]) -> str:
    changes = plan.get("resource_changes", [])
    templates: dict[str, str] = {}
    for change in changes:
        if change.get("type") != "aws_ssm_parameter":
            continue
        after = change.get("change", {}).get("after") or {}
        actions = change.get("change", {}).get("actions", [])
        if actions and actions != ["no-op"] and actions != ["read"]:
            templates[str(after.get("name") or "")] = "/".join(actions)
    lines = [f"### Release impact: {env.name}", ""]
    lines += ["| service | template | rollout estimate |", "|---|---|---|"]
    for service in env.services:
        name = template_parameter_name(env.resource_prefix, service.name)
        action = templates.get(name)
        if action is None:
            verdict = "unchanged: no new revision"
        else:
            verdict = (
                f"**{action}**: a new revision and a rolling deployment follow the apply "
                f"(`python -m ops deploy --env {env.name} --service {service.name}`)"
            )
        lines.append(f"| {service.name} | {verdict} | ~{estimate_seconds(service)} s |")
    warnings = [
        f"- :warning: `{c['address']}` ({c['type']}) will be **replaced**: traffic to the "
        "services behind it is interrupted while it is recreated"
        for c in changes
        if c.get("type") in REPLACED_TYPES and _replaced(c)
    ]
    lines += ["", *(warnings or ["No load balancer, listener, rule or target group is replaced."])]
    return "\n".join(lines) + "\n"


def run_release_impact(args: argparse.Namespace) -> int:
    env = environment(args.env)
    print(impact(env, read_plan(args.plan)), end="")
    return EXIT_OK
