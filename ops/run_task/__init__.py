"""Run a one-off ECS task ("job") of an environment and follow it until it stops.

    python -m ops run-task --env dev --job migrate -- python manage.py migrate
    python -m ops run-task --env prod --job migrate --env-var DRY_RUN=1 --timeout 600
    terraform output -json | python -m ops run-task --env dev --job migrate --spec-file -

Job specs come from the stack's Terraform output `run_task_specs` (job name -> cluster, task
definition, container, network, capacity providers, log group, region): read from
--spec-file (a saved `terraform output -json`, or just the specs object), otherwise from
`terraform output -json` in cdktf.out/stacks/<env> (or --stack-dir).

The task's status changes and its CloudWatch log lines are printed while it runs (progress
on stderr, log lines on stdout). AWS credentials and endpoints come from the usual AWS
configuration (profiles, AWS_* variables, AWS_ENDPOINT_URL). The region is --region if given,
else the spec's `region` (where the cluster lives; an unrelated AWS_REGION in the shell does
not override it), else the AWS configuration's region.

Idempotency: each invocation sends one ECS client token: --client-token, or a fresh random
one printed before the task starts. Every retry of the RunTask call within the invocation
(botocore retries throttling, 5xx and connection errors) resends that same token, so ECS
starts at most one task per invocation. ECS remembers a token per cluster for up to 24 hours:
rerunning the whole command with the same --client-token and the same arguments re-attaches
to the task the first run started instead of starting a second one (e.g. after the operator's
connection dropped); the same token with different arguments is rejected.

Exit status: the container's exit code once the task stops; 2 bad input (spec, job or
arguments); 3 AWS refused to start the task or could not be reached; 124 timed out (the task
keeps running unless --stop-on-timeout); 125 the task stopped before the container ran (e.g.
image pull failed); 130 interrupted (the task keeps running).
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import time
import uuid
from pathlib import Path

from ops.common import (
    EXIT_AWS_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NOT_STARTED,
    EXIT_TIMEOUT,
    OpsError,
    handle,
    positive_seconds,
)
from ops.run_task.ecs import (
    aws_clients,
    build_run_task_request,
    describe_task,
    start_task,
    stop_command,
)
from ops.run_task.follow import Follow, LogFollower, TaskTimeout, exit_code_of, say
from ops.run_task.specs import JobSpec, load_specs, select_job, specs_from_document, task_id
from ops.run_task.terminal import printable

__all__ = [
    "EXIT_AWS_ERROR",
    "EXIT_NOT_STARTED",
    "EXIT_TIMEOUT",
    "Follow",
    "JobSpec",
    "LogFollower",
    "OpsError",
    "TaskTimeout",
    "aws_clients",
    "build_run_task_request",
    "describe_task",
    "exit_code_of",
    "load_specs",
    "printable",
    "register",
    "say",
    "select_job",
    "specs_from_document",
    "start_task",
    "stop_command",
    "task_id",
]


ENV_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")


# --------------------------------------------------------------------------- arguments


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `run-task` subcommand."""
    parser = subparsers.add_parser(
        "run-task",
        help="run a one-off ECS task (job) and follow it until it stops",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--env", required=True, type=env_name, help="environment, e.g. dev")
    parser.add_argument("--job", required=True, help="job name, a key of run_task_specs")
    parser.add_argument(
        "--spec-file",
        metavar="FILE",
        help="`terraform output -json` document or specs object ('-' for stdin); "
        "default: run `terraform output -json` in the stack directory",
    )
    parser.add_argument(
        "--stack-dir",
        type=Path,
        metavar="DIR",
        help="where to run terraform (default: cdktf.out/stacks/<env>)",
    )
    parser.add_argument(
        "--env-var",
        action="append",
        type=env_var,
        default=[],
        dest="env_vars",
        metavar="KEY=VALUE",
        help="environment variable for the container (repeatable)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=3600.0,
        metavar="SECONDS",
        help="give up waiting after this long (default: 3600)",
    )
    parser.add_argument(
        "--poll-interval",
        type=positive_seconds,
        default=5.0,
        metavar="SECONDS",
        help="seconds between status polls (default: 5)",
    )
    parser.add_argument(
        "--client-token",
        type=client_token,
        metavar="TOKEN",
        help="ECS idempotency token; reuse one to re-attach to the task it started "
        "(default: a fresh random token per invocation)",
    )
    parser.add_argument(
        "--stop-on-timeout", action="store_true", help="stop the task when --timeout expires"
    )
    parser.add_argument("--region", help="AWS region (default: the spec's region)")
    parser.add_argument(
        "command",
        nargs="*",
        metavar="-- COMMAND",
        help="container command override (default: the task definition's command)",
    )
    parser.set_defaults(handler=run)


def env_name(text: str) -> str:
    """An environment name: also a directory name, so no path separators."""
    if not ENV_NAME.match(text):
        raise argparse.ArgumentTypeError(f"invalid environment name {text!r}")
    return text


def env_var(text: str) -> tuple[str, str]:
    """KEY=VALUE -> (KEY, VALUE); the value may be empty or contain '='."""
    name, separator, value = text.partition("=")
    if not separator or not name.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return name, value


def client_token(text: str) -> str:
    """An ECS RunTask client token: 1-64 printable ASCII characters, no spaces."""
    if not 1 <= len(text) <= 64 or any(not 33 <= ord(char) <= 126 for char in text):
        raise argparse.ArgumentTypeError(
            f"invalid client token {text!r}: use 1-64 printable ASCII characters, no spaces"
        )
    return text


def new_client_token() -> str:
    """A fresh token for one invocation (every retry within it reuses the token)."""
    return f"ops-{uuid.uuid4().hex}"


# --------------------------------------------------------------------------- entry point


def _run(args: argparse.Namespace) -> int:
    specs, source = load_specs(args)
    spec = select_job(specs, args.job, source)
    spec.check_environment(args.env, specs[args.job], source)
    token = args.client_token or new_client_token()
    environment = dict(args.env_vars)
    request = build_run_task_request(spec, args.command, environment, token)
    ecs, logs = aws_clients(args.region or spec.region)
    deadline = time.monotonic() + args.timeout
    say(
        f"starting job {spec.job} of {args.env}: {spec.task_definition_arn} on "
        f"{spec.cluster_arn} ({ecs.meta.region_name})"
        + (f", command: {shlex.join(args.command)}" if args.command else "")
        + (f", env: {', '.join(environment)}" if environment else "")
    )
    say(f"client token {token} (rerun with --client-token {token} to re-attach to this task)")
    task = start_task(ecs, request)
    task_arn = str(task["taskArn"])
    stream = spec.log_stream(task_arn)
    follower = LogFollower(logs, spec.log_group, stream) if spec.log_group and stream else None
    if follower is None:
        say("note: the spec names no log_group/log_stream_prefix; not following logs")
    follow = Follow(ecs, spec, task_arn, deadline, args.poll_interval, follower)
    try:
        stopped = follow.until_stopped(task)
    except TaskTimeout as timeout:
        return _timed_out(args, follow, timeout.status)
    except KeyboardInterrupt:
        raise OpsError(
            f"interrupted; task {task_arn} keeps running. Stop it with:\n"
            f"  {stop_command(ecs, spec, task_arn)}",
            EXIT_INTERRUPTED,
        ) from None
    except Exception as error:
        if not _is_aws_error(error):
            raise
        raise OpsError(
            f"lost track of task {task_arn}: {error}\nit may still be running; stop it with:\n"
            f"  {stop_command(ecs, spec, task_arn)}",
            EXIT_AWS_ERROR,
        ) from None
    return exit_code_of(stopped, spec)


run = handle(_run)
"""The `run-task` handler: exit code of the job, or of the failure."""


def _is_aws_error(error: Exception) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(error, BotoCoreError | ClientError)


def _timed_out(args: argparse.Namespace, follow: Follow, status: str) -> int:
    """Report (and with --stop-on-timeout, stop) a task that outlived --timeout."""
    arn = follow.task_arn
    waited = f"timed out after {args.timeout:g}s waiting for task {arn} (last status {status})"
    if args.stop_on_timeout:
        try:
            follow.ecs.stop_task(
                cluster=follow.spec.cluster_arn, task=arn, reason="ops run-task: timed out"
            )
        except Exception as error:
            if not _is_aws_error(error):
                raise
            print(f"error: {waited}; stopping it failed: {error}", file=sys.stderr)
        else:
            print(f"error: {waited}; requested its stop (--stop-on-timeout)", file=sys.stderr)
            return EXIT_TIMEOUT
    print(
        f"error: {waited}; the task is still running. Stop it with:\n"
        f"  {stop_command(follow.ecs, follow.spec, arn)}",
        file=sys.stderr,
    )
    return EXIT_TIMEOUT
