"""ECS Exec into a running task of a service (needs enable_execute_command on the service).

    python -m ops exec --env dev --service backend -- /bin/sh
    python -m ops exec --env dev --service backend --task 0123abcd -- ps aux

Runs `aws ecs execute-command` when the AWS CLI and the Session Manager plugin are installed;
otherwise prints that exact command and how to install the plugin (exit 127).
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys

from ops.aws import (
    EXIT_TOOL_MISSING,
    OpsError,
    check_service,
    connect,
    environment,
    error_code,
    handle,
)
from ops.release import describe_service, load_release

PLUGIN = "session-manager-plugin"
PLUGIN_DOCS = (
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-"
    "install-plugin.html"
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `exec` subcommand."""
    parser = subparsers.add_parser(
        "exec",
        help="run a command in a running task (ECS Exec)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--env", required=True, help="environment")
    parser.add_argument("--service", required=True, help="service name")
    parser.add_argument("--task", help="task id (default: the first running task)")
    parser.add_argument("command", nargs="+", metavar="-- COMMAND", help="command to run")
    parser.set_defaults(handler=handle(run_exec))


def run_exec(args: argparse.Namespace) -> int:
    env = environment(args.env)
    check_service(env, args.service)
    config = next(s for s in env.services if s.name == args.service)
    if not config.enable_execute_command:
        raise OpsError(
            f"ECS Exec is off for {args.service} in {env.name}: set services.{args.service}."
            f"enable_execute_command = True in envs/{env.name}.py and apply"
        )
    aws = connect(env)
    release = load_release(aws, args.service)
    template = release.template
    described = describe_service(aws, template)
    if described.get("enableExecuteCommand") is False:
        raise OpsError(
            f"{template.service} has ECS Exec off in AWS although the config enables it; "
            "apply the stack, then let a deployment replace the tasks",
            3,
        )
    try:
        arns = aws.client("ecs").list_tasks(
            cluster=template.cluster, serviceName=template.service, desiredStatus="RUNNING"
        )["taskArns"]
    except Exception as error:
        if error_code(error) is None:
            raise
        raise OpsError(f"listing tasks of {template.service} failed: {error}", 3) from None
    ids = [arn.rsplit("/", 1)[-1] for arn in arns]
    if not ids:
        raise OpsError(f"{template.service} has no running task", 3)
    task = args.task or ids[0]
    if task not in ids:
        raise OpsError(f"--task {task!r} is not a running task of {template.service}: {ids}")
    command = [
        "aws",
        "ecs",
        "execute-command",
        "--region",
        aws.region,
        "--cluster",
        template.cluster,
        "--task",
        task,
        "--container",
        template.container_name,
        "--interactive",
        "--command",
        shlex.join(args.command),
    ]
    if shutil.which(PLUGIN) and shutil.which("aws"):
        return subprocess.run(command, check=False).returncode
    print(
        f"the Session Manager plugin ({PLUGIN}) or the AWS CLI is not installed. Install the "
        f"plugin ({PLUGIN_DOCS}), then run:\n  {shlex.join(command)}",
        file=sys.stderr,
    )
    return EXIT_TOOL_MISSING
