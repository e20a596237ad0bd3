"""CloudWatch Logs of a service or job, with task ids; `--follow` picks up new tasks' streams.

    python -m ops logs --env dev --service backend --since 15m --filter ERROR
    python -m ops logs --env dev --job migrate --follow

Lines print as `[<task id>] <message>`. Ctrl-C stops following (exit 0).
"""

from __future__ import annotations

import argparse
import re
import time
from datetime import timedelta
from typing import Any

from ops.aws import EXIT_OK, OpsError, connect, environment, error_code, handle, now
from ops.release_contract import log_group_name

DURATION = re.compile(r"^(\d+)([smhd])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
FOLLOW_INTERVAL_SECONDS = 2.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `logs` subcommand."""
    parser = subparsers.add_parser(
        "logs",
        help="CloudWatch Logs of a service or job",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--env", required=True, help="environment")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--service", help="service name")
    which.add_argument("--job", help="job name")
    parser.add_argument(
        "--since", type=duration, default=timedelta(minutes=15), help="e.g. 30s, 15m, 2h, 1d"
    )
    parser.add_argument("--follow", action="store_true", help="keep printing new lines")
    parser.add_argument("--filter", metavar="PATTERN", help="CloudWatch Logs filter pattern")
    parser.set_defaults(handler=handle(run_logs))


def duration(text: str) -> timedelta:
    match = DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"expected a duration like 30s, 15m, 2h or 1d; got {text!r}"
        )
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def run_logs(args: argparse.Namespace) -> int:
    env = environment(args.env)
    kind, name = ("service", args.service) if args.service else ("job", args.job)
    known = [w.name for w in (env.services if kind == "service" else env.jobs)]
    if name not in known:
        raise OpsError(
            f"--{kind} {name!r} is not a {kind} of {env.name} (envs/{env.name}.py); "
            f"{kind}s: {', '.join(known) or 'none'}"
        )
    aws = connect(env)
    group = log_group_name(env.resource_prefix, name)
    start_ms = int((now() - args.since).timestamp() * 1000)
    seen: set[str] = set()
    try:
        while True:
            start_ms = _print_new(aws.client("logs"), group, name, args.filter, start_ms, seen)
            if not args.follow:
                return EXIT_OK
            time.sleep(FOLLOW_INTERVAL_SECONDS)
    except KeyboardInterrupt:
        return EXIT_OK


def _print_new(
    logs: Any, group: str, prefix: str, pattern: str | None, start_ms: int, seen: set[str]
) -> int:
    """Print events since `start_ms` not printed yet; the start time for the next poll."""
    request: dict[str, Any] = {
        "logGroupName": group,
        "logStreamNamePrefix": f"{prefix}/",
        "startTime": start_ms,
    }
    if pattern:
        request["filterPattern"] = pattern
    latest = start_ms
    try:
        for page in logs.get_paginator("filter_log_events").paginate(**request):
            for event in sorted(page.get("events", []), key=lambda e: e["timestamp"]):
                if event["eventId"] in seen:
                    continue
                seen.add(event["eventId"])
                task = str(event.get("logStreamName", "")).rsplit("/", 1)[-1]
                print(f"[{task}] {str(event['message']).rstrip()}", flush=True)
                latest = max(latest, int(event["timestamp"]))
    except Exception as error:
        if error_code(error) == "ResourceNotFoundException":
            raise OpsError(f"log group {group} does not exist; apply the stack first", 3) from None
        if error_code(error) is None:
            raise
        raise OpsError(f"reading {group} failed: {error}", 3) from None
    return latest  # the same millisecond again next time: seen ids drop the repeats
