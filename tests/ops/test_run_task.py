"""`python -m ops run-task` against moto's ECS, EC2 and CloudWatch Logs, served in-process.

moto starts Fargate tasks RUNNING and reports them STOPPED (exit code 0) on the first read. The
`driver` fixture scripts each task's lifecycle instead: moto's state manager advances a task one
status per DescribeTasks ("manual" progression, once per call), the task's transitions are
replaced by the script's statuses, and as the task reaches RUNNING / leaves it / is STOPPED the
driver writes its log events and outcome (exit code, stop code, reasons) into moto's backends,
which live in this process because ThreadedMotoServer serves from a thread.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.retries.standard import ExponentialBackoff
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.ecs.models import EC2ContainerServiceBackend, Task
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.logs.models import logs_backends
from moto.moto_api import state_manager
from moto.server import ThreadedMotoServer

from ops import run_task
from ops.__main__ import main
from tests.constants import REGION, ROOT

LOG_GROUP = "/ecs/fargate-dev/migrate"
STAMP = r"\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\] "
FAST = ["--poll-interval", "0.01", "--timeout", "10"]
HEAVY_MODULES = {"boto3", "botocore", "cdktf", "jsii", "cdktf_cdktf_provider_aws"}


# --------------------------------------------------------------------------- moto


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def aws(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Point boto3 (here and in subprocesses) at moto for this module; reset moto afterwards."""
    nowhere = tmp_path_factory.mktemp("no-aws-config")
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            patch.delenv(name)
        patch.setenv("AWS_ENDPOINT_URL", moto_url)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_CONFIG_FILE", str(nowhere / "config"))
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(nowhere / "credentials"))
        # Not the spec's region: the spec's region must win, or RunTask finds no cluster.
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.setenv("AWS_RETRY_MODE", "standard")
        patch.setenv("AWS_MAX_ATTEMPTS", "3")
        patch.setenv("NO_PROXY", "127.0.0.1")
        # Client creation dominates a run's time; the first run creates them as the CLI does.
        patch.setattr(run_task, "aws_clients", functools.cache(run_task.aws_clients))
        yield moto_url
    reset = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()


@dataclass
class Script:
    """How every task started during a test behaves."""

    statuses: Sequence[str] = ("PROVISIONING", "PENDING", "RUNNING", "DEPROVISIONING", "STOPPED")
    exit_code: int | None = 0
    stop_code: str = "EssentialContainerExited"
    stopped_reason: str = "Essential container in task exited"
    container_reason: str | None = None
    logs_while_running: Sequence[str] = ()
    logs_after_running: Sequence[str] = ()


@dataclass
class Driver:
    """Installs the script on tasks moto starts; records RunTask requests as sent on the wire."""

    script: Script = field(default_factory=Script)
    requests: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    logged: dict[str, set[str]] = field(default_factory=dict)
    run_task_errors: list[tuple[str, int]] = field(default_factory=list)
    describe_error: str | None = None
    failures: list[dict[str, str]] = field(default_factory=list)

    def install(self, task: Task) -> None:
        statuses = list(self.script.statuses)
        task._transitions = list(itertools.pairwise(statuses))
        task.status = statuses[0]
        for container in task.containers:
            container.exitCode = None  # type: ignore[assignment]  # none until it exits
        self.logged[task.id] = set()
        self.tasks.append(task)

    def observe(self, task: Task) -> None:
        """Called after each DescribeTasks advanced the task: act on its new status."""
        status = task.last_status
        if status == "RUNNING":
            self._log(task, "running", self.script.logs_while_running)
        elif status != "STOPPED" and "running" in self.logged[task.id]:
            self._log(task, "after", self.script.logs_after_running)
        if status == "STOPPED":
            task.desired_status = "STOPPED"
            task.stop_code = self.script.stop_code  # type: ignore[attr-defined]
            task.stopped_reason = self.script.stopped_reason
            for container in task.containers:
                container.last_status = "STOPPED"
                container.exitCode = self.script.exit_code  # type: ignore[assignment]
                container.reason = self.script.container_reason  # type: ignore[attr-defined]

    def _log(self, task: Task, phase: str, lines: Sequence[str]) -> None:
        if phase in self.logged[task.id]:
            return
        self.logged[task.id].add(phase)
        backend = logs_backends[task._account_id][task.region_name]
        stream = f"migrate/migrate/{task.id}"
        if stream not in backend.groups[LOG_GROUP].streams:
            backend.create_log_stream(LOG_GROUP, stream)
        now = int(time.time() * 1000)
        events = [{"timestamp": now + i, "message": line} for i, line in enumerate(lines)]
        if events:
            backend.put_log_events(LOG_GROUP, stream, events)


@pytest.fixture
def driver(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Driver]:
    driver = Driver()
    backend_run_task = EC2ContainerServiceBackend.run_task
    backend_describe_tasks = EC2ContainerServiceBackend.describe_tasks
    response_run_task = EC2ContainerServiceResponse.run_task

    def run_task_api(self: EC2ContainerServiceResponse) -> ActionResult:
        driver.requests.append(json.loads(self.body))
        if driver.run_task_errors:
            error_type, status = driver.run_task_errors.pop(0)
            error = JsonRESTError(error_type, "injected by the test")
            error.code = status
            raise error
        if driver.failures:
            return ActionResult({"tasks": [], "failures": driver.failures})
        return response_run_task(self)

    def run(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> list[Task]:
        tasks = backend_run_task(self, *args, **kwargs)
        for task in tasks:
            driver.install(task)
        return tasks

    def describe(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> list[Task]:
        if driver.describe_error:
            raise JsonRESTError(driver.describe_error, "injected by the test")
        tasks = backend_describe_tasks(self, *args, **kwargs)
        for task in tasks:
            driver.observe(task)
        return tasks

    monkeypatch.setattr(EC2ContainerServiceResponse, "run_task", run_task_api)
    monkeypatch.setattr(EC2ContainerServiceBackend, "run_task", run)
    monkeypatch.setattr(EC2ContainerServiceBackend, "describe_tasks", describe)
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 1})
    yield driver
    state_manager.unset_transition("ecs::task")


@dataclass
class Platform:
    spec: dict[str, Any]
    spec_file: Path


@pytest.fixture(scope="module")
def platform(aws: str, tmp_path_factory: pytest.TempPathFactory) -> Platform:
    """A cluster, task definition and log group in moto, and the spec file describing them."""
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/24")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto's ENIs need it
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.128/26")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="jobs", Description="jobs", VpcId=vpc)["GroupId"]
    ecs = boto3.client("ecs", region_name=REGION)
    cluster = ecs.create_cluster(clusterName="fargate-dev")["cluster"]["clusterArn"]
    task_definition = ecs.register_task_definition(
        family="fargate-dev-migrate",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "migrate", "image": "app:1", "essential": True, "cpu": 256, "memory": 512}
        ],
    )["taskDefinition"]
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName=LOG_GROUP)
    spec = {
        "cluster_arn": cluster,
        "task_definition_arn": task_definition["taskDefinitionArn"],
        "task_definition_family": "fargate-dev-migrate",
        "container_name": "migrate",
        "subnets": [subnet],
        "security_groups": [group],
        "assign_public_ip": "DISABLED",
        "capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": 1, "base": 0}],
        "log_group": LOG_GROUP,
        "log_stream_prefix": "migrate",
        "region": REGION,
    }
    spec_file = tmp_path_factory.mktemp("specs") / "outputs.json"
    write_outputs(spec_file, {"migrate": spec, "seed": {**spec, "container_name": "seed"}})
    return Platform(spec=spec, spec_file=spec_file)


def write_outputs(path: Path, specs: dict[str, Any]) -> None:
    """Save specs as `terraform output -json` prints them, beside another output."""
    document = {
        "run_task_specs": {"sensitive": False, "type": "dynamic", "value": specs},
        "vpc_id": {"sensitive": False, "type": "string", "value": "vpc-123"},
    }
    path.write_text(json.dumps(document))


def run_cli(
    capsys: pytest.CaptureFixture[str], *args: str, job: str = "migrate"
) -> tuple[int, str, str]:
    """`python -m ops run-task --env dev --job JOB ARGS`, in-process."""
    code = main(["run-task", "--env", "dev", "--job", job, *args])
    out, err = capsys.readouterr()
    return code, out, err


def transitions(stderr: str) -> list[str]:
    return re.findall(rf"^{STAMP}task [0-9a-f-]+: (\w+ -> \w+)$", stderr, flags=re.MULTILINE)


# --------------------------------------------------------------------------- following a task


def test_success_prints_transitions_and_each_log_line_once(
    platform: Platform, driver: Driver, capsys: pytest.CaptureFixture[str]
) -> None:
    driver.script = Script(
        logs_while_running=["Operations to perform:", "  Apply all migrations: app"],
        logs_after_running=["  Applying app.0001_initial... OK"],
    )
    code, out, err = run_cli(
        capsys,
        "--spec-file",
        str(platform.spec_file),
        "--env-var",
        "DJANGO_SETTINGS=app.settings",
        "--env-var",
        "QUERY=a=b",
        *FAST,
        "--",
        "python",
        "manage.py",
        "migrate",
        "--noinput",
    )

    assert code == 0, err
    assert out.splitlines() == [
        "Operations to perform:",
        "  Apply all migrations: app",
        "  Applying app.0001_initial... OK",
    ]
    assert transitions(err) == [
        "PROVISIONING -> PENDING",
        "PENDING -> RUNNING",
        "RUNNING -> DEPROVISIONING",
        "DEPROVISIONING -> STOPPED",
    ]
    assert "container migrate exited with code 0" in err
    assert "Traceback" not in err
    (request,) = driver.requests
    assert request["overrides"] == {
        "containerOverrides": [
            {
                "name": "migrate",
                "command": ["python", "manage.py", "migrate", "--noinput"],
                "environment": [
                    {"name": "DJANGO_SETTINGS", "value": "app.settings"},
                    {"name": "QUERY", "value": "a=b"},
                ],
            }
        ]
    }
    assert request["cluster"] == platform.spec["cluster_arn"]
    assert request["taskDefinition"] == platform.spec["task_definition_arn"]
    assert request["count"] == 1
    assert request["startedBy"] == "ops-run-task"
    assert request["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 0}
    ]
    assert "launchType" not in request
    assert request["networkConfiguration"] == {
        "awsvpcConfiguration": {
            "subnets": platform.spec["subnets"],
            "securityGroups": platform.spec["security_groups"],
            "assignPublicIp": "DISABLED",
        }
    }
    assert re.fullmatch(r"ops-[0-9a-f]{32}", request["clientToken"])


def test_nonzero_exit_code_of_the_container_is_the_exit_status(
    platform: Platform, driver: Driver, capsys: pytest.CaptureFixture[str]
) -> None:
    driver.script = Script(exit_code=7, logs_while_running=["django.db.utils.OperationalError"])

    code, out, err = run_cli(capsys, "--spec-file", str(platform.spec_file), *FAST)

    assert code == 7
    assert out == "django.db.utils.OperationalError\n"
    assert "container migrate exited with code 7" in err
    assert "overrides" in driver.requests[0]
    assert driver.requests[0]["overrides"]["containerOverrides"] == [{"name": "migrate"}]


def test_task_that_stopped_before_the_container_ran_reports_why(
    platform: Platform, driver: Driver, capsys: pytest.CaptureFixture[str]
) -> None:
    pull_error = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
    driver.script = Script(
        statuses=("PROVISIONING", "PENDING", "STOPPED"),
        exit_code=None,
        stop_code="TaskFailedToStart",
        stopped_reason=pull_error,
        container_reason=f"{pull_error}: app:1 not found",
    )

    code, out, err = run_cli(capsys, "--spec-file", str(platform.spec_file), *FAST)

    assert code == run_task.EXIT_NOT_STARTED == 125
    assert out == ""
    assert transitions(err) == ["PROVISIONING -> PENDING", "PENDING -> STOPPED"]
    assert "error: task stopped before container migrate exited with a code" in err
    assert "stopCode: TaskFailedToStart" in err
    assert f"stoppedReason: {pull_error}" in err
    assert f"container reason: {pull_error}: app:1 not found" in err
    assert "note: no log stream migrate/migrate/" in err


def test_timeout_leaves_the_task_running_and_says_how_to_stop_it(
    platform: Platform, driver: Driver, capsys: pytest.CaptureFixture[str]
) -> None:
    driver.script = Script(
        statuses=("PROVISIONING", "PENDING", "RUNNING"), logs_while_running=["still migrating"]
    )
    started = time.monotonic()

    code, out, err = run_cli(
        capsys,
        "--spec-file",
        str(platform.spec_file),
        "--timeout",
        "0.3",
        "--poll-interval",
        "0.02",
    )

    assert code == run_task.EXIT_TIMEOUT == 124
    assert out == "still migrating\n"  # followed while RUNNING, not only after the stop
    # The task never stops by itself: only the 0.3 s timeout ends the wait (bound loose for load).
    assert 0.3 <= time.monotonic() - started < 30
    (task,) = driver.tasks
    assert "error: timed out after 0.3s waiting for task" in err
    assert "(last status RUNNING); the task is still running" in err
    cluster = platform.spec["cluster_arn"]
    assert f"aws ecs stop-task --region {REGION} --cluster {cluster} --task {task.task_arn}" in err
    assert task.desired_status == "RUNNING"


def test_stop_on_timeout_stops_the_task(
    platform: Platform, driver: Driver, capsys: pytest.CaptureFixture[str]
) -> None:
    driver.script = Script(statuses=("PROVISIONING", "RUNNING"))

    code, _, err = run_cli(
        capsys, "--spec-file", str(platform.spec_file), "--timeout", "0.1", "--stop-on-timeout"
    )

    assert code == 124
    assert "requested its stop (--stop-on-timeout)" in err
    (task,) = driver.tasks
    assert task.desired_status == "STOPPED"
    assert task.stopped_reason == "ops run-task: timed out"


# --------------------------------------------------------------------------- idempotency


def test_a_throttled_run_task_is_retried_with_the_same_token_and_starts_one_task(
    platform: Platform, driver: Driver, capsys: pytest.CaptureFixture[str]
) -> None:
    driver.run_task_errors = [("ThrottlingException", 400)]

    code, _, err = run_cli(capsys, "--spec-file", str(platform.spec_file), *FAST)

    assert code == 0, err
    first, retry = driver.requests
    assert first == retry
    assert len(driver.tasks) == 1


def test_server_errors_on_every_attempt_suggest_re_attaching_with_the_token(
    platform: Platform, driver: Driver, capsys: pytest.CaptureFixture[str]
) -> None:
    driver.run_task_errors = [("ServerException", 500)] * 3

    code, _, err = run_cli(capsys, "--spec-file", str(platform.spec_file), *FAST)

    assert code == run_task.EXIT_AWS_ERROR
    assert len(driver.requests) == 3
    assert len({request["clientToken"] for request in driver.requests}) == 1
    token = driver.requests[0]["clientToken"]
    assert "error: ECS RunTask refused: ServerException: injected by the test" in err
    assert f"rerun with --client-token {token} to re-attach to it" in err


def test_client_token_from_the_command_line_is_sent_and_printed(
    platform: Platform, driver: Driver, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cli(capsys, "--spec-file", str(platform.spec_file), *FAST)
    code, _, err = run_cli(
        capsys, "--spec-file", str(platform.spec_file), "--client-token", "deploy-42", *FAST
    )

    assert code == 0
    generated, given = (request["clientToken"] for request in driver.requests)
    assert given == "deploy-42"
    assert generated.startswith("ops-")
    assert "rerun with --client-token deploy-42 to re-attach to this task" in err


def test_invalid_client_token_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run-task", "--env", "dev", "--job", "migrate", "--client-token", "has space"])
    assert exited.value.code == 2
    assert "invalid client token 'has space'" in capsys.readouterr().err


# --------------------------------------------------------------------------- AWS refusals


def test_run_task_failures_are_reported(
    platform: Platform, driver: Driver, capsys: pytest.CaptureFixture[str]
) -> None:
    driver.failures = [{"arn": "arn:aws:ecs:subnet", "reason": "RESOURCE:ENI", "detail": "no IPs"}]

    code, _, err = run_cli(capsys, "--spec-file", str(platform.spec_file), *FAST)

    assert code == run_task.EXIT_AWS_ERROR
    assert (
        "error: ECS did not start the task:\n  - arn:aws:ecs:subnet: RESOURCE:ENI (no IPs)" in err
    )
    assert driver.tasks == []


def test_run_task_rejected_by_ecs_is_reported(
    platform: Platform, driver: Driver, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    gone = {
        **platform.spec,
        "task_definition_arn": "fargate-dev-missing:1",
        "task_definition_family": "fargate-dev-missing",
    }
    write_outputs(tmp_path / "gone.json", {"migrate": gone})

    code, _, err = run_cli(capsys, "--spec-file", str(tmp_path / "gone.json"), *FAST)

    assert code == run_task.EXIT_AWS_ERROR
    assert "error: ECS RunTask refused: ClientException" in err
    assert "Traceback" not in err


def test_losing_the_task_while_polling_says_how_to_stop_it(
    platform: Platform, driver: Driver, capsys: pytest.CaptureFixture[str]
) -> None:
    driver.describe_error = "AccessDeniedException"

    code, _, err = run_cli(capsys, "--spec-file", str(platform.spec_file), *FAST)

    assert code == run_task.EXIT_AWS_ERROR
    (task,) = driver.tasks
    assert f"error: lost track of task {task.task_arn}: An error occurred (AccessDenied" in err
    assert f"aws ecs stop-task --region {REGION} --cluster " in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- specs


def test_unknown_job_names_it_and_lists_the_known_jobs(
    platform: Platform, driver: Driver, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "--spec-file", str(platform.spec_file), job="migrat")

    assert code == 2
    assert err == (
        f"error: unknown job 'migrat' in spec file {platform.spec_file}; "
        "known jobs: migrate, seed\n"
    )
    assert driver.requests == []


def test_missing_spec_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "--spec-file", str(tmp_path / "nope.json"))

    assert code == 2
    assert f"error: spec file {tmp_path / 'nope.json'} does not exist" in err


def test_stack_never_synthesized(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "--stack-dir", str(tmp_path))

    assert code == 2
    assert f"error: no synthesized stack in {tmp_path}: run `python main.py --env dev`" in err


def test_terraform_not_installed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cdk.tf.json").write_text("{}")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    code, _, err = run_cli(capsys, "--stack-dir", str(tmp_path))

    assert code == 2
    assert "error: terraform is not on PATH: install Terraform, or pass --spec-file" in err


needs_terraform = pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform")


def terraform_type(value: Any) -> Any:
    """The Terraform type expression `terraform output -json` stores for a JSON value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return ["tuple", [terraform_type(item) for item in value]]
    return ["object", {key: terraform_type(item) for key, item in value.items()}]


def local_stack(directory: Path, outputs: dict[str, Any] | None) -> Path:
    """A stack dir with local state (no backend to reach) holding `outputs`."""
    directory.mkdir()
    (directory / "cdk.tf.json").write_text("{}")
    if outputs is not None:
        state = {
            "version": 4,
            "terraform_version": "1.5.0",
            "serial": 1,
            "lineage": "6f1f7c9e-0000-4000-8000-000000000000",
            "outputs": outputs,
            "resources": [],
        }
        (directory / "terraform.tfstate").write_text(json.dumps(state))
    return directory


@needs_terraform
def test_stack_without_the_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    stack = local_stack(tmp_path / "dev", None)

    code, _, err = run_cli(capsys, "--stack-dir", str(stack))

    assert code == 2
    assert "has no output run_task_specs (outputs: none)" in err


@needs_terraform
def test_specs_from_terraform_output(
    platform: Platform, driver: Driver, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    specs = {"migrate": platform.spec}
    output = {"value": specs, "type": terraform_type(specs)}
    stack = local_stack(tmp_path / "dev", {"run_task_specs": output})

    code, _, err = run_cli(capsys, "--stack-dir", str(stack), *FAST)

    assert code == 0, err
    assert "starting job migrate of dev" in err
    assert driver.requests[0]["taskDefinition"] == platform.spec["task_definition_arn"]


def test_spec_documents_accepted() -> None:
    spec = {"cluster_arn": "c", "container_name": "x"}
    full = {"run_task_specs": {"value": {"migrate": spec}, "type": "dynamic"}}
    encoded = {"run_task_specs": {"value": json.dumps({"migrate": spec}), "type": "string"}}
    for document in (full, encoded, {"migrate": spec}):
        assert run_task.specs_from_document(document, "test") == {"migrate": spec}


def test_incomplete_spec_names_the_missing_keys() -> None:
    with pytest.raises(run_task.OpsError) as caught:
        run_task.select_job({"migrate": {"cluster_arn": "c", "subnets": []}}, "migrate", "f.json")
    assert str(caught.value).startswith(
        "spec of job 'migrate' in f.json lacks task_definition_arn, container_name, subnets, "
        "security_groups"
    )


def test_launch_type_without_a_capacity_provider_strategy() -> None:
    raw = {
        "cluster_arn": "c",
        "task_definition_arn": "t",
        "container_name": "x",
        "subnets": ["s"],
        "security_groups": ["g"],
    }
    default = run_task.build_run_task_request(run_task.JobSpec.parse("j", raw, "f"), [], {}, "t")
    ec2 = run_task.JobSpec.parse("j", {**raw, "launch_type": "EC2"}, "f")
    assert default["launchType"] == "FARGATE"
    assert "capacityProviderStrategy" not in default
    assert run_task.build_run_task_request(ec2, [], {}, "t")["launchType"] == "EC2"


def test_env_var_needs_key_and_value(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run-task", "--env", "dev", "--job", "migrate", "--env-var", "NOVALUE"])
    assert exited.value.code == 2
    assert "expected KEY=VALUE, got 'NOVALUE'" in capsys.readouterr().err


# --------------------------------------------------------------------------- the real command


def python_m_ops(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_subprocess_exit_code_logs_and_no_traceback(platform: Platform, driver: Driver) -> None:
    driver.script = Script(exit_code=42, logs_while_running=["seeding", "failed: duplicate key"])

    args = ["--env", "dev", "--job", "migrate", "--spec-file", str(platform.spec_file), *FAST]
    result = python_m_ops("run-task", *args, "--", "python", "manage.py", "seed")

    assert result.returncode == 42, result.stderr
    assert result.stdout == "seeding\nfailed: duplicate key\n"
    assert transitions(result.stderr)[-1] == "DEPROVISIONING -> STOPPED"
    assert "Traceback" not in result.stderr
    assert driver.requests[0]["overrides"]["containerOverrides"][0]["command"] == [
        "python",
        "manage.py",
        "seed",
    ]


def test_subprocess_bad_job_exits_2_without_traceback(tmp_path: Path) -> None:
    write_outputs(tmp_path / "outputs.json", {"migrate": {}})

    spec_file = str(tmp_path / "outputs.json")
    result = python_m_ops("run-task", "--env", "dev", "--job", "nope", "--spec-file", spec_file)

    assert result.returncode == 2
    assert result.stderr == (
        f"error: unknown job 'nope' in spec file {spec_file}; known jobs: migrate\n"
    )


def test_the_ops_package_loads_no_sdk_or_cdktf() -> None:
    check = (
        "import sys; from ops.__main__ import build_parser; build_parser(); "
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(result.stdout.replace("'", '"')))
    assert "ops" in loaded
    assert loaded & HEAVY_MODULES == set()


# --------------------------------------------------------------------------- refusals (issue 12)


def test_terminal_escape_sequences_are_stripped_from_log_lines(
    platform: Platform, driver: Driver, capsys: pytest.CaptureFixture[str]
) -> None:
    driver.script = Script(
        logs_while_running=[
            "\x1b[31mred\x1b[0m text",
            "title\x1b]0;pwned\x07 kept",
            "clear\x1b[2J\x1b[H screen",
            "link \x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\",
            "bell\x07 and \x9b31m8-bit csi and\rcarriage",
        ]
    )
    code, out, err = run_cli(capsys, "--spec-file", str(platform.spec_file), *FAST)
    assert code == 0, err
    assert out.splitlines() == [
        "red text",
        "title kept",
        "clear screen",
        "link here",
        "bell and 8-bit csi andcarriage",
    ]
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out


def test_spec_of_another_environment_is_refused_before_any_aws_call(
    platform: Platform, driver: Driver, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    prod_cluster = platform.spec["cluster_arn"].replace("fargate-dev", "fargate-prod")
    cases = {
        "cluster": {**platform.spec, "cluster_arn": prod_cluster},
        "declared": {**platform.spec, "environment": "prod"},
    }
    for name, spec in cases.items():
        spec_file = tmp_path / f"{name}.json"
        write_outputs(spec_file, {"migrate": spec})
        code, out, err = run_cli(capsys, "--spec-file", str(spec_file), *FAST)
        assert code == 2, (name, err)
        assert "belongs to environment" in err and "not --env dev" in err, err
        assert "Traceback" not in err and out == ""
    assert driver.requests == []
    same = tmp_path / "same.json"
    write_outputs(same, {"migrate": {**platform.spec, "environment": "dev"}})
    code, _, err = run_cli(capsys, "--spec-file", str(same), *FAST)
    assert code == 0, err


@pytest.mark.parametrize("value", ["ENABLED", True])
def test_assign_public_ip_is_refused(value: Any) -> None:
    raw = {**VALID_RAW, "assign_public_ip": value}
    with pytest.raises(run_task.OpsError) as caught:
        run_task.JobSpec.parse("migrate", raw, "f.json")
    assert "assign_public_ip is ENABLED, which this tool refuses" in str(caught.value)


VALID_RAW: dict[str, Any] = {
    "cluster_arn": "arn:aws:ecs:ap-northeast-1:123456789012:cluster/fargate-dev",
    "task_definition_arn": "t",
    "container_name": "x",
    "subnets": ["s"],
    "security_groups": ["g"],
}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "capacity_provider_strategy",
            [{"capacity_provider": "FARGATE", "weight": "abc"}],
            "weight",
        ),
        ("capacity_provider_strategy", [{"capacity_provider": "FARGATE", "base": 1.5}], "base"),
        (
            "capacity_provider_strategy",
            [{"capacity_provider": "FARGATE", "weight": True}],
            "weight",
        ),
        (
            "capacity_provider_strategy",
            [{"capacity_provider": "FARGATE", "weight": 1001}],
            "0-1000",
        ),
        ("capacity_provider_strategy", "FARGATE", "must be a list of objects"),
        ("log_group", ["a"], "log_group must be a string"),
        ("log_stream_prefix", 7, "log_stream_prefix must be a string"),
        ("region", {"a": 1}, "region must be a string"),
        ("region", "mars-1", "region must be an AWS region code"),
        ("launch_type", "SPOT", "launch_type must be one of"),
        ("environment", 3, "environment must be a string"),
        ("subnets", "subnet-1", "subnets must be a list of strings"),
        ("assign_public_ip", "maybe", "assign_public_ip must be DISABLED"),
        ("container_name", "\x1b]0;x\x07", None),
    ],
)
def test_every_spec_field_is_type_checked(field: str, value: Any, message: str | None) -> None:
    raw = {**VALID_RAW, field: value}
    if message is None:  # a printable-safe string is a valid name; nothing to refuse
        run_task.JobSpec.parse("migrate", raw, "f.json")
        return
    with pytest.raises(run_task.OpsError) as caught:
        run_task.JobSpec.parse("migrate", raw, "f.json")
    assert message in str(caught.value)
    assert "\x1b" not in str(caught.value)


def test_malformed_spec_files_exit_2_without_traceback(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    weight = tmp_path / "weight.json"
    write_outputs(
        weight,
        {
            "migrate": {
                **VALID_RAW,
                "capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": "x"}],
            }
        },
    )
    for spec_file, message in (
        (deep, "nests too deeply"),
        (binary, "is not UTF-8 text"),
        (weight, "must be a whole number 0-1000"),
    ):
        result = python_m_ops(
            "run-task", "--env", "dev", "--job", "migrate", "--spec-file", str(spec_file)
        )
        assert result.returncode == 2, result.stderr
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def test_printable_keeps_text_and_tabs() -> None:
    assert run_task.printable("a\tb ü ✓") == "a\tb ü ✓"
    assert run_task.printable("\x1bPsecret\x1b\\done\x1b_apc\x1b\\!") == "done!"
