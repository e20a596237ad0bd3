"""Job specs: read from Terraform outputs or a spec file, validated into `JobSpec`."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.common import (
    OpsError,
    default_outdir,
)
from ops.run_task.terminal import TERMINAL_ESCAPE, printable
from ops.run_task_contract import LAUNCH_TYPES, REQUIRED_KEYS, SPECS_OUTPUT, STRATEGY_LIMITS

TERRAFORM_TIMEOUT_SECONDS = 300
CLUSTER_ARN = re.compile(
    r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster/(?P<name>[A-Za-z0-9_-]{1,255})$"
)
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")


def task_id(task_arn: str) -> str:
    """The id at the end of a task ARN."""
    return task_arn.rsplit("/", 1)[-1]


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
