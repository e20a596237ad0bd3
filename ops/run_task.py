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
import json
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops.common import (
    EXIT_AWS_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NOT_STARTED,
    EXIT_TIMEOUT,
    OpsError,
    default_outdir,
    handle,
    positive_seconds,
)
from ops.run_task_contract import LAUNCH_TYPES, REQUIRED_KEYS, SPECS_OUTPUT, STRATEGY_LIMITS

STARTED_BY = "ops-run-task"
TERRAFORM_TIMEOUT_SECONDS = 300
# Statuses in which the container has not started yet, so there are no logs to follow.
BEFORE_RUNNING = frozenset({"PROVISIONING", "PENDING", "ACTIVATING"})
ENV_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
# Terminal control a log line or an AWS message could carry: CSI (colours, cursor moves,
# screen clears), OSC (window titles, hyperlinks, clipboard writes), other two-byte ESC
# sequences, and C0/C1 control characters except tab (ECMA-48).
TERMINAL_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC, ended by BEL or ST (or cut off)
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[@-Z\\-_]?"  # other ESC sequences (and a lone ESC)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|[\x00-\x08\x0a-\x1f\x7f-\x9f]"  # remaining control characters (tab kept)
)
CLUSTER_ARN = re.compile(
    r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster/(?P<name>[A-Za-z0-9_-]{1,255})$"
)
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")


def printable(text: str) -> str:
    """`text` without terminal escape sequences or control characters (safe to print)."""
    return TERMINAL_ESCAPE.sub("", text)


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


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class JobSpec:
    """One entry of the `run_task_specs` output (ops/run_task_contract.RunTaskSpec), checked."""

    job: str
    cluster_arn: str
    task_definition_arn: str
    container_name: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    assign_public_ip: str = "DISABLED"
    capacity_provider_strategy: tuple[Mapping[str, Any], ...] = ()
    launch_type: str = "FARGATE"
    log_group: str | None = None
    log_stream_prefix: str | None = None
    region: str | None = None
    task_definition_family: str | None = None

    @classmethod
    def parse(cls, job: str, raw: Mapping[str, Any], source: str) -> JobSpec:
        """Validate one job's spec; errors name the job, the key and the source."""
        where = f"spec of job {job!r} in {source}"
        missing = [key for key in REQUIRED_KEYS if raw.get(key) in (None, "", [])]
        if missing:
            raise OpsError(
                f"{where} lacks {', '.join(missing)}; the Terraform output {SPECS_OUTPUT} "
                "must provide them (redeploy the stack, or fix the spec file)"
            )
        launch_type = _optional(raw, "launch_type", where) or "FARGATE"
        if launch_type not in LAUNCH_TYPES:
            raise OpsError(
                f"{where}: launch_type must be one of {', '.join(LAUNCH_TYPES)}, "
                f"got {launch_type!r}"
            )
        region = _optional(raw, "region", where)
        if region is not None and not REGION.fullmatch(region):
            raise OpsError(f"{where}: region must be an AWS region code, got {region!r}")
        _optional(raw, "environment", where)
        family = _optional(raw, "task_definition_family", where)
        task_definition_arn = _string(raw, "task_definition_arn", where)
        # ECS takes `family`, `family:revision` or the full ARN (RunTask's taskDefinition).
        named = task_definition_arn.rpartition("task-definition/")[2].partition(":")[0]
        if family is not None and named != family:
            raise OpsError(
                f"{where}: task_definition_arn {printable(task_definition_arn)!r} is not a "
                f"revision of task_definition_family {printable(family)!r}; use the spec the "
                "stack wrote (redeploy it), or fix the spec file"
            )
        return cls(
            job=job,
            cluster_arn=_string(raw, "cluster_arn", where),
            task_definition_arn=task_definition_arn,
            container_name=_string(raw, "container_name", where),
            subnets=_strings(raw, "subnets", where),
            security_groups=_strings(raw, "security_groups", where),
            assign_public_ip=_public_ip(raw.get("assign_public_ip", "DISABLED"), where),
            capacity_provider_strategy=_strategy(raw.get("capacity_provider_strategy"), where),
            launch_type=launch_type,
            log_group=_optional(raw, "log_group", where),
            log_stream_prefix=_optional(raw, "log_stream_prefix", where),
            region=region,
            task_definition_family=family,
        )

    def check_environment(self, env: str, raw: Mapping[str, Any], source: str) -> None:
        """Refuse a spec whose cluster belongs to another environment than `env`.

        The platform names each cluster `<project>-<env>` and writes `environment` into the
        spec; a spec from another stack (a prod output with --env dev) fails here, before any
        AWS call."""
        where = f"spec of job {self.job!r} in {source}"
        match = CLUSTER_ARN.fullmatch(self.cluster_arn)
        if match is None:
            raise OpsError(
                f"{where}: cluster_arn must be an ECS cluster ARN "
                f"(arn:aws:ecs:<region>:<account>:cluster/<name>), got {self.cluster_arn!r}"
            )
        cluster = match["name"]
        declared = raw.get("environment")
        if declared not in (None, env) or not cluster.endswith(f"-{env}"):
            owner = declared or cluster
            raise OpsError(
                f"{where}: cluster {cluster} belongs to environment {owner!r}, not --env {env}; "
                f"run with --env {declared or '<its environment>'}, or use the {env} stack's "
                "spec"
            )

    def log_stream(self, task_arn: str) -> str | None:
        """The awslogs stream `<prefix>/<container>/<task id>`, if the spec names a log group."""
        if not (self.log_group and self.log_stream_prefix):
            return None
        return f"{self.log_stream_prefix}/{self.container_name}/{task_id(task_arn)}"


def _string(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise OpsError(f"{where}: {key} must be a non-empty string, got {_show(value)}")
    return value


def _optional(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise OpsError(f"{where}: {key} must be a string, got {_show(value)}")
    return value


def _show(value: Any) -> str:
    """A short, printable rendering of a spec value for an error message."""
    text = printable(repr(value) if not isinstance(value, list | dict) else type(value).__name__)
    return text if len(text) <= 80 else f"{text[:80]}..."


def _strings(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key)
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise OpsError(f"{where}: {key} must be a list of strings, got {_show(value)}")
    return tuple(value)


def _public_ip(value: Any, where: str) -> str:
    """Only DISABLED: job tasks run in private subnets and are never given a public IP."""
    if value is False or value == "DISABLED":
        return "DISABLED"
    if value is True or value == "ENABLED":
        raise OpsError(
            f"{where}: assign_public_ip is ENABLED, which this tool refuses: tasks run in "
            "private subnets and reach AWS through NAT or VPC endpoints; set it to DISABLED"
        )
    raise OpsError(f"{where}: assign_public_ip must be DISABLED, got {_show(value)}")


def _strategy(value: Any, where: str) -> tuple[Mapping[str, Any], ...]:
    """snake_case (or camelCase) strategy items -> the ECS API's shape."""
    if not value:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise OpsError(f"{where}: capacity_provider_strategy must be a list of objects")
    strategy = []
    for item in value:
        provider = item.get("capacity_provider") or item.get("capacityProvider")
        if not isinstance(provider, str) or not provider:
            raise OpsError(f"{where}: capacity_provider_strategy item lacks capacity_provider")
        entry: dict[str, Any] = {"capacityProvider": provider}
        for key, (low, high) in STRATEGY_LIMITS.items():
            number = item.get(key)
            if number is None:
                continue
            if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
                raise OpsError(
                    f"{where}: capacity_provider_strategy {key} of {printable(provider)} must "
                    f"be a whole number {low}-{high}, got {_show(number)}"
                )
            entry[key] = number
        strategy.append(entry)
    return tuple(strategy)


def load_specs(args: argparse.Namespace) -> tuple[Mapping[str, Any], str]:
    """The specs mapping and a description of where it came from."""
    if args.spec_file:
        source = "stdin" if args.spec_file == "-" else f"spec file {args.spec_file}"
        return specs_from_document(read_spec_file(args.spec_file), source), source
    stack_dir = args.stack_dir or default_stack_dir(args.env)
    source = f"`terraform output -json` in {stack_dir}"
    return specs_from_document(terraform_outputs(stack_dir, args.env), source), source


def default_stack_dir(env: str) -> Path:
    """cdktf.out/stacks/<env> of this project ($CDKTF_OUTDIR replaces cdktf.out, as in main.py)."""
    return default_outdir() / "stacks" / env


def read_spec_file(name: str) -> Any:
    """Parse a JSON spec file ('-' reads stdin)."""
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OpsError(
            f"spec file {name} does not exist; save one with `terraform output -json > FILE` "
            "in the stack directory, or omit --spec-file to run terraform"
        ) from None
    except OSError as error:
        raise OpsError(f"cannot read spec file {name}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise OpsError(f"spec file {name} is not UTF-8 text (expected JSON)") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise OpsError(f"spec file {name} nests too deeply to be a run-task spec") from None
    except json.JSONDecodeError as error:
        raise OpsError(
            f"spec file {name} is not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg})"
        ) from None


def terraform_outputs(stack_dir: Path, env: str) -> Any:
    """`terraform output -json` of a synthesized, deployed stack."""
    if not (stack_dir / "cdk.tf.json").is_file():
        raise OpsError(
            f"no synthesized stack in {stack_dir}: run `python main.py --env {env}` and deploy "
            "it, or pass --spec-file FILE (a saved `terraform output -json`)"
        )
    terraform = shutil.which("terraform")
    if terraform is None:
        raise OpsError(
            "terraform is not on PATH: install Terraform, or pass --spec-file FILE "
            "(a saved `terraform output -json`)"
        )
    command = [terraform, "output", "-json", "-no-color"]
    try:
        result = subprocess.run(
            command,
            cwd=stack_dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TERRAFORM_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise OpsError(
            f"`terraform output -json` in {stack_dir} took over {TERRAFORM_TIMEOUT_SECONDS}s; "
            "check the state backend, or pass --spec-file FILE"
        ) from None
    if result.returncode != 0:
        raise OpsError(
            f"`terraform output -json` failed in {stack_dir} (exit {result.returncode}):\n"
            f"{_tail(result.stderr)}\n"
            "initialize and deploy the stack first (cdktf deploy / terraform init), "
            "or pass --spec-file FILE"
        )
    try:
        return json.loads(result.stdout)
    except (json.JSONDecodeError, RecursionError):
        raise OpsError(f"`terraform output -json` in {stack_dir} printed no JSON") from None


def _tail(text: str, lines: int = 15) -> str:
    kept = [line.rstrip() for line in TERMINAL_ESCAPE.sub("", text).splitlines() if line.strip()]
    return "\n".join(f"  {line}" for line in kept[-lines:]) or "  (no error output)"


def specs_from_document(document: Any, source: str) -> Mapping[str, Any]:
    """Accept a full `terraform output -json` document or the bare specs mapping."""
    if isinstance(document, Mapping) and SPECS_OUTPUT in document:
        document = document[SPECS_OUTPUT]
        if isinstance(document, Mapping) and "value" in document:
            document = document["value"]
        if isinstance(document, str):  # an output built with jsonencode()
            try:
                document = json.loads(document)
            except (json.JSONDecodeError, RecursionError):
                raise OpsError(f"{source}: {SPECS_OUTPUT} is a string but not JSON") from None
    elif _is_terraform_outputs(document):
        names = ", ".join(sorted(document)) or "none"
        raise OpsError(
            f"{source} has no output {SPECS_OUTPUT} (outputs: {names}); deploy a version of "
            "the stack that defines it"
        )
    if not isinstance(document, Mapping) or not all(
        isinstance(spec, Mapping) for spec in document.values()
    ):
        raise OpsError(
            f"{source} does not hold run-task specs: expected {{job name: spec object}} or "
            f"a `terraform output -json` document with {SPECS_OUTPUT}"
        )
    return document


def _is_terraform_outputs(document: Any) -> bool:
    """Does this look like `terraform output -json` (every value has `value` and `type`)?"""
    if not isinstance(document, Mapping):
        return False
    values = document.values()
    return all(isinstance(v, Mapping) and {"value", "type"} <= v.keys() for v in values)


def select_job(specs: Mapping[str, Any], job: str, source: str) -> JobSpec:
    """The validated spec of `job`; an unknown job lists the known ones."""
    if job not in specs:
        known = ", ".join(sorted(specs)) or "none"
        raise OpsError(f"unknown job {job!r} in {source}; known jobs: {known}")
    return JobSpec.parse(job, specs[job], source)


# --------------------------------------------------------------------------- ECS


def task_id(task_arn: str) -> str:
    """The id at the end of a task ARN."""
    return task_arn.rsplit("/", 1)[-1]


def build_run_task_request(
    spec: JobSpec, command: Sequence[str], environment: Mapping[str, str], token: str
) -> dict[str, Any]:
    """RunTask parameters: one task, awsvpc networking, the container's overrides."""
    override: dict[str, Any] = {"name": spec.container_name}
    if command:
        override["command"] = list(command)
    if environment:
        override["environment"] = [{"name": k, "value": v} for k, v in environment.items()]
    request: dict[str, Any] = {
        "cluster": spec.cluster_arn,
        "taskDefinition": spec.task_definition_arn,
        "count": 1,
        "startedBy": STARTED_BY,
        "clientToken": token,
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": list(spec.subnets),
                "securityGroups": list(spec.security_groups),
                "assignPublicIp": spec.assign_public_ip,
            }
        },
        "overrides": {"containerOverrides": [override]},
    }
    if spec.capacity_provider_strategy:
        request["capacityProviderStrategy"] = [dict(i) for i in spec.capacity_provider_strategy]
    else:
        request["launchType"] = spec.launch_type
    return request


def aws_clients(region: str | None) -> tuple[Any, Any]:
    """ECS and CloudWatch Logs clients from the standard AWS configuration."""
    import boto3
    from botocore.exceptions import BotoCoreError, NoRegionError

    try:
        session = boto3.session.Session(region_name=region)
        return session.client("ecs"), session.client("logs")
    except NoRegionError:
        raise OpsError(
            "no AWS region: add `region` to the job spec, pass --region, or set AWS_REGION",
            EXIT_AWS_ERROR,
        ) from None
    except BotoCoreError as error:
        raise OpsError(f"cannot set up AWS clients: {error}", EXIT_AWS_ERROR) from None


def start_task(ecs: Any, request: Mapping[str, Any]) -> dict[str, Any]:
    """Call RunTask (botocore retries it with the same client token); the started task."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    token = request["clientToken"]
    maybe_started = (
        f"\nif the request reached ECS a task may have started: rerun with --client-token "
        f"{token} to re-attach to it rather than start a second one"
    )
    try:
        response = ecs.run_task(**request)
    except ClientError as error:
        code, message = _error_code(error), _error_message(error)
        hint = ""
        if code == "ConflictException":
            hint = (
                f"\nclient token {token} was already used with other arguments; "
                "rerun the identical command, or drop --client-token"
            )
        elif error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
            hint = maybe_started
        raise OpsError(f"ECS RunTask refused: {code}: {message}{hint}", EXIT_AWS_ERROR) from None
    except NoCredentialsError as error:
        raise OpsError(f"ECS RunTask not sent: {error}", EXIT_AWS_ERROR) from None
    except BotoCoreError as error:
        raise OpsError(f"ECS RunTask failed: {error}{maybe_started}", EXIT_AWS_ERROR) from None
    except KeyboardInterrupt:
        raise OpsError(
            f"interrupted while starting the task{maybe_started}", EXIT_INTERRUPTED
        ) from None
    tasks = response.get("tasks") or []
    failures = response.get("failures") or []
    if failures or not tasks:
        details = "\n".join(
            f"  - {printable(str(f.get('arn', '?')))}: {printable(str(f.get('reason', '?')))}"
            + (f" ({f['detail']})" if f.get("detail") else "")
            for f in failures
        )
        raise OpsError(
            f"ECS did not start the task:\n{details or '  (no task and no failure reported)'}",
            EXIT_AWS_ERROR,
        )
    return dict(tasks[0])


def describe_task(ecs: Any, cluster: str, task_arn: str) -> dict[str, Any] | None:
    """The task's description, or None while ECS reports it MISSING (eventual consistency)."""
    response = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])
    tasks = response.get("tasks") or []
    return dict(tasks[0]) if tasks else None


def stop_command(ecs: Any, spec: JobSpec, task_arn: str) -> str:
    """The AWS CLI command that stops the task."""
    return shlex.join(
        [
            "aws",
            "ecs",
            "stop-task",
            "--region",
            ecs.meta.region_name,
            "--cluster",
            spec.cluster_arn,
            "--task",
            task_arn,
        ]
    )


def _error_code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def _error_message(error: Any) -> str:
    """The AWS error message on one line (an HTML error page would be long)."""
    message = " ".join(str(error.response.get("Error", {}).get("Message", error)).split())
    return message if len(message) <= 300 else f"{message[:300]}..."


# --------------------------------------------------------------------------- following


def say(message: str) -> None:
    """A timestamped progress line on stderr."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


class LogFollower:
    """Prints a CloudWatch log stream's events once each, following nextForwardToken."""

    def __init__(self, logs: Any, group: str, stream: str) -> None:
        self.group = group
        self.stream = stream
        self.found = False
        self._logs = logs
        self._token: str | None = None
        self._broken = False

    def fetch(self) -> None:
        """Print every event not printed yet; a missing stream is not an error."""
        from botocore.exceptions import ClientError

        while not self._broken:
            request = {"logGroupName": self.group, "logStreamName": self.stream}
            if self._token:
                request["nextToken"] = self._token
            try:
                page = self._logs.get_log_events(startFromHead=True, **request)
            except ClientError as error:
                if _error_code(error) != "ResourceNotFoundException":
                    say(f"cannot read logs ({_error_code(error)}: {_error_message(error)})")
                    self._broken = True
                return
            self.found = True
            for event in page.get("events", []):
                print(printable(str(event.get("message", "")).rstrip("\n")), flush=True)
            token = page.get("nextForwardToken")
            if not token or token == self._token:  # the same token back: end of the stream
                return
            self._token = token


@dataclass
class Follow:
    """Everything needed to watch one started task."""

    ecs: Any
    spec: JobSpec
    task_arn: str
    deadline: float
    poll_interval: float
    logs: LogFollower | None

    def until_stopped(self, task: Mapping[str, Any]) -> Mapping[str, Any]:
        """Poll DescribeTasks until STOPPED, printing transitions and logs; raises on timeout."""
        status = str(task.get("lastStatus", "UNKNOWN"))
        say(f"task {task_id(self.task_arn)}: {status}")
        while status != "STOPPED":
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TaskTimeout(status)
            time.sleep(min(self.poll_interval, remaining))
            task = describe_task(self.ecs, self.spec.cluster_arn, self.task_arn) or task
            previous, status = status, str(task.get("lastStatus", status))
            if status != previous:
                say(f"task {task_id(self.task_arn)}: {previous} -> {status}")
            if self.logs and status not in BEFORE_RUNNING:
                self.logs.fetch()
        if self.logs:
            self.logs.fetch()
            if not self.logs.found:
                say(
                    f"note: no log stream {self.logs.stream} in {self.logs.group} "
                    "(the container may not have started, or logged nothing)"
                )
        return task


class TaskTimeout(Exception):
    """The deadline passed while the task was still in `status`."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def exit_code_of(task: Mapping[str, Any], spec: JobSpec) -> int:
    """The container's exit code; OpsError(125) if it never produced one."""
    containers: list[Mapping[str, Any]] = task.get("containers") or []
    container: Mapping[str, Any] = next(
        (c for c in containers if c.get("name") == spec.container_name), {}
    )
    stop_code = task.get("stopCode") or "no stop code"
    say(
        f"task {task_id(str(task.get('taskArn', '')))} stopped ({stop_code}): "
        f"{printable(str(task.get('stoppedReason') or 'no reason given'))}"
    )
    code = container.get("exitCode")
    if code is None:
        lines = [
            f"task stopped before container {spec.container_name} exited with a code",
            f"  stopCode: {task.get('stopCode') or '-'}",
            f"  stoppedReason: {printable(str(task.get('stoppedReason') or '-'))}",
            f"  container reason: {printable(str(container.get('reason') or '-'))}",
        ]
        raise OpsError("\n".join(lines), EXIT_NOT_STARTED)
    say(f"container {spec.container_name} exited with code {code}")
    return int(code) if 0 <= int(code) <= 255 else 1  # a shell cannot report other codes


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
