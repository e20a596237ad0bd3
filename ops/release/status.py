"""`ops status`: what each service runs and has released."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from ops.aws import Aws, check_service, connect, environment
from ops.common import (
    EXIT_OK,
)
from ops.release.ecs import describe_service, running_image
from ops.release.following import revision_of, stopped_tasks
from ops.release.parameters import aws_failure, load_release, release_history

EVENTS_SHOWN = 5


def service_status(aws: Aws, service: str) -> dict[str, Any]:
    """Everything `ops status` shows for one service, as plain JSON-able data."""
    release = load_release(aws, service)
    described = describe_service(aws, release.template)
    health: dict[str, dict[str, int]] = {}
    for balancer in described.get("loadBalancers", []):
        arn = balancer["targetGroupArn"]
        try:
            targets = aws.client("elbv2").describe_target_health(TargetGroupArn=arn)
        except Exception as error:
            raise aws_failure(error, f"reading the target health of {arn}") from None
        counts: dict[str, int] = {}
        for target in targets.get("TargetHealthDescriptions", []):
            state = target.get("TargetHealth", {}).get("State", "unknown")
            counts[state] = counts.get(state, 0) + 1
        health[arn.rsplit("/", 2)[-2]] = counts
    history = release_history(aws, service)
    return {
        "service": release.template.service,
        "desired": described.get("desiredCount", 0),
        "running": described.get("runningCount", 0),
        "pending": described.get("pendingCount", 0),
        "released_image": release.record.image,
        "released_by": release.record.released_by,
        "released_at": release.record.released_at,
        "release_version": history[-1][0] if history else None,
        "running_image": running_image(aws, described, release.template.container_name),
        "deployments": [
            {
                "id": d.get("id"),
                "status": d.get("status"),
                "rollout_state": d.get("rolloutState"),
                "revision": revision_of(str(d.get("taskDefinition", ""))),
                "desired": d.get("desiredCount", 0),
                "running": d.get("runningCount", 0),
                "pending": d.get("pendingCount", 0),
                "failed_tasks": d.get("failedTasks", 0),
            }
            for d in described.get("deployments", [])
        ],
        "target_health": health,
        "events": [
            {"at": _iso(e.get("createdAt")), "message": e.get("message")}
            for e in described.get("events", [])[:EVENTS_SHOWN]
        ],
        "stopped_tasks": [
            {key: task[key] for key in ("id", "stop_code", "reason")}
            for task in stopped_tasks(release, None)
        ],
    }


def _iso(value: Any) -> str | None:
    return str(value.isoformat()) if hasattr(value, "isoformat") else value


def run_status(args: argparse.Namespace) -> int:
    env = environment(args.env)
    names = [check_service(env, args.service)] if args.service else [s.name for s in env.services]
    aws = connect(env)
    report = {"environment": env.name, "services": {n: service_status(aws, n) for n in names}}
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
        return EXIT_OK
    print_status(report)
    return EXIT_OK


def print_status(report: Mapping[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=120)
    summary = Table(title=f"{report['environment']}: services", title_justify="left")
    for column in ("service", "desired", "running", "pending", "released", "running image"):
        summary.add_column(column)
    for name, status in report["services"].items():
        same = status["released_image"] == status["running_image"]
        summary.add_row(
            name,
            str(status["desired"]),
            str(status["running"]),
            str(status["pending"]),
            _short(status["released_image"]),
            _short(status["running_image"]) + ("" if same else "  (differs)"),
        )
    console.print(summary)
    for name, status in report["services"].items():
        deployments = Table(title=f"{name}: deployments", title_justify="left")
        for column in ("status", "rollout", "revision", "running/desired", "pending", "failed"):
            deployments.add_column(column)
        for d in status["deployments"]:
            deployments.add_row(
                str(d["status"]),
                str(d["rollout_state"]),
                str(d["revision"]),
                f"{d['running']}/{d['desired']}",
                str(d["pending"]),
                str(d["failed_tasks"]),
            )
        console.print(deployments)
        for group, counts in status["target_health"].items():
            states = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no targets"
            console.print(f"target group {group}: {states}")
        for event in status["events"]:
            console.print(f"event {event['at']}: {event['message']}", highlight=False)
        for task in status["stopped_tasks"]:
            console.print(f"stopped task {task['id']}: {task['reason']}", highlight=False)


def _short(image: str | None) -> str:
    """`name@sha256:0123456789ab` (12 hex digits) or `name:tag`."""
    if not image:
        return "-"
    name = image.rsplit("/", 1)[-1]
    base, separator, digest = name.partition("@")
    return f"{base}@{digest[:19]}" if separator else name
