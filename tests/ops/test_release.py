"""Releases: the no-drift contract in the synthesized JSON, and every release command against
moto's server on 127.0.0.1 (ECS, ECR, SSM, CloudWatch Logs, ELBv2, STS).

moto's ECS does not roll deployments: `Rollouts` patches its backend (served from a thread of
this process) so that UpdateService starts an IN_PROGRESS deployment of the new revision, and
each DescribeServices advances it as the test's script says (steady, circuit breaker, stuck).
Each environment is seeded the way `terraform apply` would leave it, from the session synth:
`${...}` references are resolved to the names/ARNs Terraform would produce.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto.ecs.models import EC2ContainerServiceBackend, ecs_backends
from moto.logs.models import logs_backends
from moto.server import ThreadedMotoServer

from envs import DEFAULT_ENVIRONMENTS, load_environments
from envs.schema.release import ReleaseConfig
from ops import aws as ops_aws
from ops import ecs_exec, release
from ops.__main__ import main
from ops.release_contract import (
    IMAGE_PLACEHOLDER,
    ReleaseRecord,
    ReleaseTemplate,
    release_parameter_name,
    template_parameter_name,
)
from tests.constants import ACCOUNT, REGION
from tests.constants import ROOT as PROJECT

FAST = ["--poll-interval", "0.01", "--timeout", "5"]
# The user's dev and stg (the simulated AWS holds what they synthesize): names derive from them.
PREFIXES = {env.name: env.resource_prefix for env in load_environments()}
DEV_PREFIX, STG_PREFIX = PREFIXES["dev"], PREFIXES["stg"]
DEV_CONFIG = next(env for env in load_environments() if env.name == "dev")
# Read from the user's dev rather than named: a service other than `backend` that runs its own
# image (it keeps its release while backend's changes), and one without ECS Exec.
OTHER = next(
    s.name
    for s in DEV_CONFIG.services
    if s.name != "backend" and DEV_CONFIG.image_owner(s).name == s.name
)
NO_EXEC = next(s.name for s in DEV_CONFIG.services if not s.enable_execute_command)
REFERENCE = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}")
CIRCUIT_BREAKER = "ECS deployment circuit breaker: tasks failed to start."
LAST_WORDS = "panic: DATABASE_URL is not set"


# --------------------------------------------------------------------------- synth side


def resolver(stack: dict[str, Any]) -> Any:
    """Replace `${type.name.attr}` with what Terraform would: names, role ARNs, repo URLs."""

    def resolve(match: re.Match[str]) -> str:
        kind, name, attribute = match.groups()
        resource = stack["resource"][kind][name]
        if attribute == "name":
            return str(resource["name"])
        if attribute == "repository_url":
            return f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{resource['name']}"
        if attribute == "dns_name":
            return f"{resource['name']}.{REGION}.elb.amazonaws.com"
        if kind == "aws_iam_role" and attribute == "arn":
            return f"arn:aws:iam::{ACCOUNT}:role/{resource['name']}"
        if kind == "aws_s3_bucket" and attribute == "bucket":  # prefix + a 26-character suffix
            return f"{resource['bucket_prefix']}{'0' * 26}"
        if kind == "aws_sqs_queue" and attribute == "url":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{resource['name']}"
        raise AssertionError(f"unexpected reference {match.group(0)}")

    return lambda text: REFERENCE.sub(resolve, text)


def by_name(stack: dict[str, Any], kind: str, field_: str, value: str) -> dict[str, Any]:
    return next(r for r in stack["resource"][kind].values() if r.get(field_) == value)


def terraform_task_definition(stack: dict[str, Any], family: str) -> dict[str, Any]:
    """The synthesized aws_ecs_task_definition as RegisterTaskDefinition input (ECS names)."""
    resource = by_name(stack, "aws_ecs_task_definition", "family", family)
    request = {
        "family": resource["family"],
        "networkMode": resource["network_mode"],
        "requiresCompatibilities": resource["requires_compatibilities"],
        "cpu": resource["cpu"],
        "memory": resource["memory"],
        "executionRoleArn": resource["execution_role_arn"],
        "taskRoleArn": resource["task_role_arn"],
        "runtimePlatform": {
            "operatingSystemFamily": resource["runtime_platform"]["operating_system_family"],
            "cpuArchitecture": resource["runtime_platform"]["cpu_architecture"],
        },
        "containerDefinitions": json.loads(resource["container_definitions"]),
    }
    if resource.get("volume"):
        request["volumes"] = [{"name": v["name"]} for v in resource["volume"]]
    return request


def template_of(stack: dict[str, Any], prefix: str, service: str) -> ReleaseTemplate:
    parameter = by_name(
        stack, "aws_ssm_parameter", "name", template_parameter_name(prefix, service)
    )
    return ReleaseTemplate.from_json(parameter["insecure_value"])


@pytest.mark.invariant
@pytest.mark.parametrize("env_name", DEFAULT_ENVIRONMENTS)
def test_template_is_the_terraform_task_definition_but_the_image(
    synthesized: dict[str, Any], env_name: str
) -> None:
    """No drift: what `ops deploy` renders equals the Terraform task definition, field by
    field, except the image (so a release changes nothing Terraform manages)."""
    env = next(e for e in load_environments() if e.name == env_name)
    stack = synthesized[env_name]
    for service in env.services:
        template = template_of(stack, env.resource_prefix, service.name)
        expected = terraform_task_definition(stack, f"{env.resource_prefix}-{service.name}")
        image = expected["containerDefinitions"][0]["image"]
        assert template.task_definition["containerDefinitions"][0]["image"] == IMAGE_PLACEHOLDER
        rendered = template.render(image)
        assert rendered.keys() == expected.keys()
        for key in expected:
            assert rendered[key] == expected[key], (env_name, service.name, key)


@pytest.mark.parametrize(
    ("variant", "service", "sharing", "own_image"),
    [("sidecars", "backend", "warmup", "proxy"), ("connect", "backend", "cron", "shipper")],
)
def test_release_swaps_every_container_on_the_services_image(
    synthesized: dict[str, Any], variant: str, service: str, sharing: str, own_image: str
) -> None:
    """A sidecar with `same_image_as` its own service runs the released image too; a sidecar
    with an image of its own keeps it."""
    stack = synthesized[variant]
    template = template_of(stack, f"fargate-{variant}", service)
    expected = terraform_task_definition(stack, f"fargate-{variant}-{service}")
    before = {c["name"]: c["image"] for c in expected["containerDefinitions"]}
    released = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/x@sha256:" + "0" * 64
    rendered = {c["name"]: c["image"] for c in template.render(released)["containerDefinitions"]}
    assert rendered[service] == released
    assert rendered[sharing] == released
    assert rendered[own_image] == before[own_image] != released


@pytest.mark.invariant
@pytest.mark.parametrize("env_name", DEFAULT_ENVIRONMENTS)
def test_terraform_never_fights_the_release(synthesized: dict[str, Any], env_name: str) -> None:
    """Every service ignores task_definition; every release record ignores its value and
    starts as the configured image; templates are plain Strings a plan shows."""
    env = next(e for e in load_environments() if e.name == env_name)
    stack = synthesized[env_name]
    for service in env.services:
        ecs = by_name(stack, "aws_ecs_service", "name", f"{env.resource_prefix}-{service.name}")
        assert "task_definition" in ecs["lifecycle"]["ignore_changes"]
        record = by_name(
            stack,
            "aws_ssm_parameter",
            "name",
            release_parameter_name(env.resource_prefix, service.name),
        )
        assert record["lifecycle"]["ignore_changes"] == ["insecure_value"]
        family = f"{env.resource_prefix}-{service.name}"
        configured = terraform_task_definition(stack, family)["containerDefinitions"][0]["image"]
        assert ReleaseRecord.from_json(record["insecure_value"]).image == configured
        template = by_name(
            stack,
            "aws_ssm_parameter",
            "name",
            template_parameter_name(env.resource_prefix, service.name),
        )
        assert template["type"] == "String" and "lifecycle" not in template


@pytest.mark.invariant
@pytest.mark.parametrize("env_name", DEFAULT_ENVIRONMENTS)
def test_release_policy_is_least_privilege(synthesized: dict[str, Any], env_name: str) -> None:
    """The release policy passes exactly the workloads' two roles, to ECS tasks only, and
    writes only the release parameters (never a template)."""
    env = next(e for e in load_environments() if e.name == env_name)
    stack = synthesized[env_name]
    policy = next(iter(stack["resource"]["aws_iam_policy"].values()))
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    for statement in statements.values():
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert all("*" not in action for action in actions)
    workload_roles = {
        f"{env.resource_prefix}-{s.name}-{kind}"
        for s in env.services
        for kind in ("execution", "task")
    }
    roles = sorted(
        f"${{aws_iam_role.{name}.arn}}"
        for name, role in stack["resource"]["aws_iam_role"].items()
        if role["name"] in workload_roles
    )
    assert sorted(statements["PassWorkloadRoles"]["Resource"]) == roles
    assert statements["PassWorkloadRoles"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }
    # Every ARN in this stack's region (never `arn:aws:<service>:*:`): tasks of its cluster.
    caller = "${data.aws_caller_identity.caller.account_id}"
    (cluster_id,) = stack["resource"]["aws_ecs_cluster"]
    assert statements["DescribeTasks"]["Resource"] == (
        f"arn:aws:ecs:{env.region}:{caller}:task/${{aws_ecs_cluster.{cluster_id}.name}}/*"
    )
    assert statements["ListTasks"]["Condition"] == {
        "ArnEquals": {"ecs:cluster": f"${{aws_ecs_cluster.{cluster_id}.arn}}"}
    }
    source = env.release.promote_from
    if source is None:
        assert "ReadPromotionSource" not in statements
        assert "DescribePromotionSource" not in statements
    else:  # ops promote reads the source's release history and services, in its region only
        origin = next(e for e in load_environments() if e.name == source)
        at = f"{origin.region}:{origin.account_id}"
        assert statements["ReadPromotionSource"]["Action"] == [
            "ssm:GetParameter",
            "ssm:GetParameterHistory",
        ]
        assert statements["ReadPromotionSource"]["Resource"] == (
            f"arn:aws:ssm:{at}:parameter/{origin.resource_prefix}/release/*"
        )
        assert statements["DescribePromotionSource"]["Action"] == ["ecs:DescribeServices"]
        assert statements["DescribePromotionSource"]["Resource"] == (
            f"arn:aws:ecs:{at}:service/{origin.resource_prefix}/*"
        )
    arns = [
        arn
        for statement in statements.values()
        for arn in (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
    ]
    assert not [arn for arn in arns if arn.split(":")[3:4] == ["*"]]
    writers = [s for s in statements.values() if "ssm:PutParameter" in s["Action"]]
    assert len(writers) == 1
    written = {
        stack["resource"]["aws_ssm_parameter"][ref.split(".")[1]]["name"]
        for ref in writers[0]["Resource"]
    }
    assert written == {release_parameter_name(env.resource_prefix, s.name) for s in env.services}


# --------------------------------------------------------------------------- moto


@dataclass
class Rollouts:
    """Scripted deployments: `outcome` is steady, fail or stuck for the next UpdateService."""

    outcome: str = "steady"
    updates: list[str] = field(default_factory=list)
    polls_to_finish: int = 2
    _progress: dict[str, int] = field(default_factory=dict)

    def on_update(self, backend: Any, service: Any, task_definition: str, old: str) -> None:
        self.updates.append(task_definition)
        deployment = {
            **service.deployments[0],
            "id": f"ecs-svc/{len(self.updates)}",
            "status": "PRIMARY",
            "taskDefinition": task_definition,
            "rolloutState": "IN_PROGRESS",
            "rolloutStateReason": "ECS deployment in progress.",
            "runningCount": 0,
            "pendingCount": service.desired_count,
            "failedTasks": 0,
        }
        previous = {**service.deployments[0], "status": "ACTIVE", "taskDefinition": old}
        service.deployments = [deployment, previous]
        service.events = [
            {
                "id": f"e{len(self.updates)}",
                "createdAt": datetime.now(UTC),
                "message": f"(service {service.name}) has started 1 tasks.",
            }
        ]
        self._progress[service.name] = 0
        self._outcome = self.outcome
        self._backend = backend

    def on_describe(self, service: Any) -> None:
        if not service.deployments:
            return
        if service.name not in self._progress:
            # Never updated here: steady, as `terraform apply` (wait_for_steady_state) left it.
            first = service.deployments[0]
            desired = first.get("desiredCount", service.desired_count)
            first.update(rolloutState="COMPLETED", runningCount=desired, pendingCount=0)
            service.running_count, service.pending_count = desired, 0
            return
        self._progress[service.name] += 1
        if self._progress[service.name] < self.polls_to_finish or self._outcome == "stuck":
            return
        new, *rest = service.deployments
        if self._outcome == "steady":
            new.update(rolloutState="COMPLETED", runningCount=new["desiredCount"], pendingCount=0)
            service.deployments = [new]
            service.running_count, service.pending_count = new["desiredCount"], 0
        else:
            old = rest[0]
            task = start_task(self._backend, service.cluster_name, new["taskDefinition"])
            self._backend.stop_task(
                service.cluster_name, task.task_arn, "Essential container in task exited"
            )
            task_id = task.task_arn.rsplit("/", 1)[-1]
            logs = logs_backends[ACCOUNT][REGION]
            group, stream = f"/ecs/{service.cluster_name}/backend", f"backend/backend/{task_id}"
            logs.create_log_stream(group, stream)
            stamp = int(datetime.now(UTC).timestamp() * 1000)
            logs.put_log_events(group, stream, [{"timestamp": stamp, "message": LAST_WORDS}])
            new.update(rolloutState="FAILED", rolloutStateReason=CIRCUIT_BREAKER, failedTasks=1)
            new["status"] = "ACTIVE"
            old.update(status="PRIMARY")
            service.task_definition = old["taskDefinition"]
            service.deployments = [old, new]
        del self._progress[service.name]


def start_task(backend: Any, cluster: str, task_definition: str) -> Any:
    """A Fargate task in moto's backend (as a service would start it)."""
    service = next(iter(backend.services.values()))
    return backend.run_task(
        cluster,
        task_definition,
        1,
        None,
        "ecs-svc/x",
        None,
        "FARGATE",
        networking_configuration=service.network_configuration,
    )[0]


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def rollouts(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rollouts]:
    script = Rollouts()
    original_update = EC2ContainerServiceBackend.update_service
    original_describe = EC2ContainerServiceBackend.describe_services

    def update_service(self: Any, properties: dict[str, Any]) -> Any:
        name = properties["service"].split("/")[-1]
        old = self._get_service(properties.get("cluster", "default"), name).task_definition
        new = properties.get("task_definition")
        service = original_update(self, properties)
        if new:
            script.on_update(self, service, service.task_definition, old)
        return service

    def describe_services(self: Any, cluster: str, names: list[str]) -> Any:
        result, failures = original_describe(self, cluster, names)
        for service in result:
            script.on_describe(service)
        return result, failures

    nowhere = tmp_path_factory.mktemp("no-aws-config")
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            patch.delenv(name)
        for name, value in {
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": str(nowhere / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(nowhere / "credentials"),
            "NO_PROXY": "127.0.0.1",
        }.items():
            patch.setenv(name, value)
        # Creating botocore clients dominates a command's time: share them across commands
        # (same endpoint and credentials; the CLI creates each once per run anyway).
        clients: dict[tuple[str, str], Any] = {}
        create = ops_aws.Aws.client

        def shared_client(self: ops_aws.Aws, name: str) -> Any:
            if (name, self.region) not in clients:
                clients[name, self.region] = create(self, name)
            return clients[name, self.region]

        patch.setattr(ops_aws.Aws, "client", shared_client)
        patch.setattr(EC2ContainerServiceBackend, "update_service", update_service)
        patch.setattr(EC2ContainerServiceBackend, "describe_services", describe_services)
        # Fargate task definitions size the task, not the container; moto sums containers.
        patch.setattr(
            EC2ContainerServiceBackend,
            "_calculate_task_resource_requirements",
            staticmethod(lambda definition: {"CPU": 0, "MEMORY": 0, "PORTS": [], "PORTS_UDP": []}),
        )
        yield script
    reset_moto(moto_url)


def reset_moto(url: str) -> None:
    reset = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()


def client(name: str) -> Any:
    return boto3.client(name, region_name=REGION)


def push(repository: str, tag: str) -> str:
    """Push an image manifest (content differs by tag) and return its digest."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "digest": f"sha256:{tag.encode().hex():0<64}",
            "size": 1,
            "mediaType": "application/vnd.docker.container.image.v1+json",
        },
        "layers": [],
    }
    body = json.dumps(manifest)
    digest = f"sha256:{hashlib.sha256(body.encode()).hexdigest()}"
    client("ecr").put_image(
        repositoryName=repository, imageManifest=body, imageTag=tag, imageDigest=digest
    )
    return digest


@pytest.fixture(scope="module")
def seeded(rollouts: Rollouts, synthesized: dict[str, Any]) -> dict[str, dict[str, str]]:
    return seed(synthesized)


def seed(synthesized: dict[str, Any]) -> dict[str, dict[str, str]]:
    """dev and stg as `terraform apply` leaves them; image tags 1.0.0, 1.1.0, 2.0.0 pushed."""
    digests: dict[str, dict[str, str]] = {}
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="tasks", Description="t", VpcId=vpc)["GroupId"]
    for env in load_environments(("dev", "stg")):
        stack = synthesized[env.name]
        resolve = resolver(stack)
        prefix = env.resource_prefix
        client("ecs").create_cluster(clusterName=prefix)
        for service in env.services:
            family = f"{prefix}-{service.name}"
            definition = json.loads(resolve(json.dumps(terraform_task_definition(stack, family))))
            arn = client("ecs").register_task_definition(**definition)["taskDefinition"][
                "taskDefinitionArn"
            ]
            client("ecs").create_service(
                cluster=prefix,
                serviceName=family,
                taskDefinition=arn,
                desiredCount=service.desired_count,
                enableExecuteCommand=service.enable_execute_command,
                networkConfiguration={
                    "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}
                },
            )
            for parameter in (
                template_parameter_name(prefix, service.name),
                release_parameter_name(prefix, service.name),
            ):
                value = by_name(stack, "aws_ssm_parameter", "name", parameter)["insecure_value"]
                client("ssm").put_parameter(Name=parameter, Value=resolve(value), Type="String")
            repository = f"{prefix}/{service.name}"
            client("ecr").create_repository(repositoryName=repository)
            digests[f"{env.name}/{service.name}"] = {
                tag: push(repository, tag) for tag in ("latest", "1.0.0", "1.1.0", "2.0.0")
            }
            client("logs").create_log_group(logGroupName=f"/ecs/{prefix}/{service.name}")
    return digests


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def service_state(env: str, service: str) -> dict[str, Any]:
    described = client("ecs").describe_services(
        cluster=PREFIXES[env], services=[f"{PREFIXES[env]}-{service}"]
    )["services"][0]
    return described  # type: ignore[no-any-return]


def running_image(env: str, service: str) -> str:
    arn = service_state(env, service)["taskDefinition"]
    definition = client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]
    return str(definition["containerDefinitions"][0]["image"])


def record(env: str, service: str) -> tuple[int, ReleaseRecord]:
    parameter = client("ssm").get_parameter(Name=release_parameter_name(PREFIXES[env], service))
    return int(parameter["Parameter"]["Version"]), ReleaseRecord.from_json(
        parameter["Parameter"]["Value"]
    )


def revisions(env: str, service: str) -> int:
    return len(
        client("ecs").list_task_definitions(familyPrefix=f"{PREFIXES[env]}-{service}")[
            "taskDefinitionArns"
        ]
    )


DEPLOY_BACKEND = ("deploy", "--env", "dev", "--service", "backend", "--image")
ROOT = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{DEV_PREFIX}/backend"


def test_deploy_resolves_the_tag_records_registers_and_waits_for_steady(
    seeded: dict[str, dict[str, str]],
    rollouts: Rollouts,
    capsys: pytest.CaptureFixture[str],
    synthesized: dict[str, Any],
) -> None:
    rollouts.outcome = "steady"
    digest = seeded["dev/backend"]["1.0.0"]
    code, _, err = run(
        capsys, "deploy", "--env", "dev", "--service", "backend", "--image", "1.0.0", *FAST
    )
    assert code == 0, err
    assert running_image("dev", "backend") == f"{ROOT}@{digest}"
    assert f"is steady on {DEV_PREFIX}-backend:2" in err
    assert f"event: (service {DEV_PREFIX}-backend) has started 1 tasks." in err
    _, released = record("dev", "backend")
    assert released.image == f"{ROOT}@{digest}" and released.action == "deploy"
    assert released.previous_image == f"{ROOT}:latest"
    assert released.released_by == f"arn:aws:sts::{ACCOUNT}:user/moto"
    # No drift, on the wire: the registered revision is the Terraform task definition with
    # only the image changed.
    stack = synthesized["dev"]
    expected = json.loads(
        resolver(stack)(json.dumps(terraform_task_definition(stack, f"{DEV_PREFIX}-backend")))
    )
    expected["containerDefinitions"][0]["image"] = f"{ROOT}@{digest}"
    arn = service_state("dev", "backend")["taskDefinition"]
    registered = client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]
    for key, value in expected.items():
        assert release.matches(value, registered[key]), key


def test_deploy_rerun_is_idempotent(
    seeded: dict[str, dict[str, str]], rollouts: Rollouts, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, *DEPLOY_BACKEND, "1.0.0", *FAST)
    before = (record("dev", "backend")[0], revisions("dev", "backend"), len(rollouts.updates))
    code, _, err = run(
        capsys, "deploy", "--env", "dev", "--service", "backend", "--image", "1.0.0", *FAST
    )
    assert code == 0, err
    assert "already runs" in err
    assert (
        record("dev", "backend")[0],
        revisions("dev", "backend"),
        len(rollouts.updates),
    ) == before


def test_circuit_breaker_failure_exits_1_with_reasons_and_restores_the_record(
    seeded: dict[str, dict[str, str]], rollouts: Rollouts, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, *DEPLOY_BACKEND, "1.0.0", *FAST)
    rollouts.outcome = "fail"
    try:
        code, _, err = run(
            capsys, "deploy", "--env", "dev", "--service", "backend", "--image", "2.0.0", *FAST
        )
    finally:
        rollouts.outcome = "steady"
    assert code == 1
    assert f"failed and was rolled back: {CIRCUIT_BREAKER}" in err
    assert "Essential container in task exited" in err
    assert f"| {LAST_WORDS}" in err
    assert record("dev", "backend")[1].image == f"{ROOT}@{seeded['dev/backend']['1.0.0']}"
    assert running_image("dev", "backend") == f"{ROOT}@{seeded['dev/backend']['1.0.0']}"


def test_missing_image_is_refused_before_any_write(
    seeded: dict[str, dict[str, str]], rollouts: Rollouts, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (record("dev", "backend")[0], revisions("dev", "backend"))
    code, _, err = run(
        capsys, "deploy", "--env", "dev", "--service", "backend", "--image", "9.9.9", *FAST
    )
    assert code == 4
    assert f"image 9.9.9 does not exist in {ROOT}" in err
    assert (record("dev", "backend")[0], revisions("dev", "backend")) == before


@pytest.mark.parametrize("wrong", ["account", "region"])
def test_wrong_credentials_are_refused_before_any_write(
    seeded: dict[str, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    wrong: str,
) -> None:
    if wrong == "account":
        dev = next(e for e in load_environments() if e.name == "dev")
        other = dev.model_copy(update={"account_id": "999999999999"})
        monkeypatch.setattr(release, "environment", lambda name: other)
        expected = f"credentials belong to account {ACCOUNT} but dev lives in 999999999999"
    else:
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        expected = "points at region us-east-1 but dev lives in ap-northeast-1"
    before = (record("dev", "backend")[0], revisions("dev", "backend"))
    code, _, err = run(
        capsys, "deploy", "--env", "dev", "--service", "backend", "--image", "1.1.0", *FAST
    )
    assert code == 2
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err
    assert (record("dev", "backend")[0], revisions("dev", "backend")) == before


def test_timeout_exits_124_with_the_command_to_inspect(
    seeded: dict[str, dict[str, str]], rollouts: Rollouts, capsys: pytest.CaptureFixture[str]
) -> None:
    rollouts.outcome = "stuck"
    try:
        code, _, err = run(
            capsys,
            "deploy",
            "--env",
            "dev",
            "--service",
            "backend",
            "--image",
            "1.1.0",
            "--poll-interval",
            "0.01",
            "--timeout",
            "0.2",
        )
    finally:
        rollouts.outcome = "steady"
        run(capsys, *DEPLOY_BACKEND, "1.0.0", *FAST)
    assert code == 124
    assert "the deployment goes on" in err
    assert "python -m ops status --env dev --service backend" in err


def test_ctrl_c_says_the_deployment_keeps_going(
    seeded: dict[str, dict[str, str]],
    rollouts: Rollouts,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rollouts.outcome = "stuck"

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(release.time, "sleep", interrupt)
    try:
        code, _, err = run(
            capsys, "deploy", "--env", "dev", "--service", "backend", "--image", "1.1.0", *FAST
        )
    finally:
        rollouts.outcome = "steady"
        monkeypatch.undo()
        run(capsys, *DEPLOY_BACKEND, "1.0.0", *FAST)
    assert code == 130
    assert "keeps going" in err and "python -m ops status --env dev --service backend" in err


def test_rollback_returns_to_the_previous_release(
    seeded: dict[str, dict[str, str]], rollouts: Rollouts, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, *DEPLOY_BACKEND, "1.0.0", *FAST)[0] == 0
    assert run(capsys, *DEPLOY_BACKEND, "1.1.0", *FAST)[0] == 0
    code, _, err = run(capsys, "rollback", "--env", "dev", "--service", "backend", *FAST)
    assert code == 0, err
    assert running_image("dev", "backend") == f"{ROOT}@{seeded['dev/backend']['1.0.0']}"
    assert record("dev", "backend")[1].action == "rollback"


def test_promote_runs_exactly_the_source_digest_and_the_rule_is_enforced(
    seeded: dict[str, dict[str, str]], rollouts: Rollouts, capsys: pytest.CaptureFixture[str]
) -> None:
    stg_repo = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{STG_PREFIX}/backend"
    code, _, err = run(
        capsys, "deploy", "--env", "stg", "--service", "backend", "--image", "2.0.0", *FAST
    )
    assert code == 4 and "never released to backend in dev" in err
    run(capsys, *DEPLOY_BACKEND, "1.1.0", *FAST)
    code, _, err = run(
        capsys, "promote", "--from", "dev", "--to", "stg", "--service", "backend", *FAST
    )
    assert code == 0, err
    digest = seeded["dev/backend"]["1.1.0"]
    assert running_image("stg", "backend") == f"{stg_repo}@{digest}"
    assert record("stg", "backend")[1].source == "dev"
    code, _, err = run(capsys, "promote", "--from", "prod", "--to", "stg", "--service", "backend")
    assert code == 2 and "stg takes releases from dev, not prod" in err


def test_status_json_reports_released_and_running(
    seeded: dict[str, dict[str, str]], rollouts: Rollouts, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, *DEPLOY_BACKEND, "1.1.0", *FAST)
    code, out, err = run(capsys, "status", "--env", "dev", "--json")
    assert code == 0, err
    report = json.loads(out)["services"]
    backend = report["backend"]
    assert (
        backend["released_image"]
        == backend["running_image"]
        == f"{ROOT}@{seeded['dev/backend']['1.1.0']}"
    )
    assert backend["deployments"][0]["status"] == "PRIMARY"
    assert backend["deployments"][0]["rollout_state"] == "COMPLETED"
    assert report[OTHER]["released_image"].endswith(f"{DEV_PREFIX}/{OTHER}:latest")
    code, out, _ = run(capsys, "status", "--env", "dev", "--service", "backend")
    assert code == 0 and "dev: services" in out and "backend: deployments" in out


def test_logs_prints_task_ids_and_filters(
    seeded: dict[str, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    logs = client("logs")
    group = f"/ecs/{DEV_PREFIX}/backend"
    import time as clock

    for task, message in (("aaa111", "GET /health 200"), ("bbb222", "ERROR db timeout")):
        stream = f"backend/backend/{task}"
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": int(clock.time() * 1000), "message": message}],
        )
    code, out, _ = run(capsys, "logs", "--env", "dev", "--service", "backend", "--since", "5m")
    assert code == 0
    assert "[aaa111] GET /health 200" in out and "[bbb222] ERROR db timeout" in out
    code, out, _ = run(capsys, "logs", "--env", "dev", "--service", "backend", "--filter", "ERROR")
    assert out.strip() == "[bbb222] ERROR db timeout"


def test_exec_without_the_plugin_prints_the_exact_command(
    seeded: dict[str, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = ecs_backends[ACCOUNT][REGION]
    arn = service_state("dev", "backend")["taskDefinition"]
    task = start_task(backend, f"{DEV_PREFIX}", arn)
    monkeypatch.setattr(ecs_exec.shutil, "which", lambda name: None)
    code, _, err = run(capsys, "exec", "--env", "dev", "--service", "backend", "--", "ls", "-l")
    backend.stop_task(f"{DEV_PREFIX}", task.task_arn, "test over")
    assert code == 127
    assert (
        f"aws ecs execute-command --region {REGION} --cluster {DEV_PREFIX} --task {task.id} "
        "--container backend --interactive --command 'ls -l'"
    ) in err
    code, _, err = run(capsys, "exec", "--env", "dev", "--service", NO_EXEC, "--", "ls")
    assert code == 2 and "enable_execute_command" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["deploy", "--env", "no-such-env", "--service", "backend", "--image", "1"],
            "'no-such-env' is not an environment",
        ),
        (
            ["deploy", "--env", "dev", "--service", "nope", "--image", "1"],
            "'nope' is not a service of dev",
        ),
        (
            ["deploy", "--env", "dev", "--service", "backend", "--image", "bad image"],
            "is not a tag",
        ),
        (
            ["rollback", "--env", "dev", "--service", "backend", "--to", "latest"],
            "neither a sha256",
        ),
        (["promote", "--from", "dev", "--to", "dev", "--service", "backend"], "both 'dev'"),
        (["logs", "--env", "dev", "--job", "nope"], "'nope' is not a job of dev"),
        (["release-impact", "--env", "dev", "--plan", "/nonexistent.json"], "no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    seeded: dict[str, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err


def test_release_impact_reports_template_changes_and_replacements(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = next(e for e in load_environments() if e.name == "dev")
    plan = {
        "resource_changes": [
            {
                "address": "aws_ssm_parameter.t",
                "type": "aws_ssm_parameter",
                "change": {
                    "actions": ["update"],
                    "after": {"name": template_parameter_name(dev.resource_prefix, "backend")},
                },
            },
            {
                "address": "aws_lb_target_group.tg",
                "type": "aws_lb_target_group",
                "change": {"actions": ["delete", "create"], "after": {}},
            },
        ]
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    code, out, _ = run(capsys, "release-impact", "--env", "dev", "--plan", str(path))
    assert code == 0
    cells = [line.split("|") for line in out.splitlines() if line.startswith("| ")]
    rows = {cell[1].strip(): "|".join(cell) for cell in cells[1:]}
    assert (
        "**update**" in rows["backend"]
        and "ops deploy --env dev --service backend" in rows["backend"]
    )
    others = [s.name for s in dev.services if s.name != "backend"]
    assert others and all("unchanged" in rows[name] for name in others), rows
    assert "`aws_lb_target_group.tg` (aws_lb_target_group) will be **replaced**" in out
    backend = next(s for s in dev.services if s.name == "backend")
    # 60 s start allowance + max(2 x 15 s healthy, 60 s grace) + 60 s deregistration delay
    check = backend.health_check
    healthy = max(
        check.healthy_threshold * check.interval_seconds, backend.health_check_grace_period_seconds
    )
    assert f"~{60 + healthy + backend.deregistration_delay_seconds} s" in rows["backend"]


def test_release_commands_import_no_heavy_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from ops.__main__ import build_parser; build_parser(); "
        "heavy = ('boto3', 'botocore', 'rich', 'cdktf', 'pydantic'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_release_workflow_deploys_dev_then_promotes_through_protected_environments() -> None:
    """The reusable workflow: dev deploy, then stg and prod promotions in order, each in its
    GitHub environment with its own OIDC release role; only contents: read + id-token: write."""
    import yaml

    path = str(PROJECT / ".github" / "workflows" / "release.yml")
    with open(path, encoding="utf-8") as handle:
        workflow = yaml.safe_load(handle)
    assert set(workflow[True]) == {"workflow_call"}
    jobs = workflow["jobs"]
    expected = {
        "dev": (None, 'python -m ops deploy --env dev --service "$SERVICE" --image "$IMAGE"'),
        "stg": ("dev", 'python -m ops promote --from dev --to stg --service "$SERVICE"'),
        "prod": ("stg", 'python -m ops promote --from stg --to prod --service "$SERVICE"'),
    }
    for name, (needs, command) in expected.items():
        job = jobs[name]
        assert job["environment"] == name and job.get("needs") == needs
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        steps = job["steps"]
        role = next(s for s in steps if "configure-aws-credentials" in s.get("uses", ""))
        # The caller's environment `name` holds that environment's release role.
        assert role["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
        assert steps[-1]["run"] == command


def test_critical_scan_findings_are_refused_where_a_clean_scan_is_required(
    seeded: dict[str, dict[str, str]],
    moto_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dev = next(e for e in load_environments() if e.name == "dev")
    strict = dev.model_copy(update={"release": ReleaseConfig(require_clean_scan=True)})
    monkeypatch.setattr(release, "environment", lambda name: strict)
    findings = {
        "results": [
            {
                "registryId": ACCOUNT,
                "repositoryName": f"{DEV_PREFIX}/backend",
                "imageId": {"imageDigest": seeded["dev/backend"]["2.0.0"]},
                "imageScanFindings": {"findingSeverityCounts": {"CRITICAL": 2, "HIGH": 1}},
                "imageScanStatus": {"status": "COMPLETE"},
            }
        ],
        "region": REGION,
    }
    request = urllib.request.Request(
        f"{moto_url}/moto-api/static/ecr/scan-finding-results",
        data=json.dumps(findings).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()
    before = (record("dev", "backend")[0], revisions("dev", "backend"))
    code, _, err = run(capsys, *DEPLOY_BACKEND, "2.0.0", *FAST)
    assert code == 4 and f"has no scan in {DEV_PREFIX}/backend" in err
    client("ecr").start_image_scan(
        repositoryName=f"{DEV_PREFIX}/backend", imageId={"imageTag": "2.0.0"}
    )
    code, _, err = run(capsys, *DEPLOY_BACKEND, "2.0.0", *FAST)
    assert code == 4
    assert "2 CRITICAL finding(s) (release.require_clean_scan)" in err
    assert (record("dev", "backend")[0], revisions("dev", "backend")) == before


def test_logs_follow_picks_up_a_replacement_task(
    seeded: dict[str, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ops import logs as ops_logs

    group = f"/ecs/{DEV_PREFIX}/{OTHER}"
    polls = []

    def write(task: str, message: str) -> None:
        stream = f"{OTHER}/{OTHER}/{task}"
        client("logs").create_log_stream(logGroupName=group, logStreamName=stream)
        client("logs").put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[
                {"timestamp": int(datetime.now(UTC).timestamp() * 1000), "message": message}
            ],
        )

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 1:
            write("new0task", "started on the new revision")
        else:
            raise KeyboardInterrupt

    write("old0task", "draining")
    monkeypatch.setattr(ops_logs.time, "sleep", sleep)
    code, out, _ = run(capsys, "logs", "--env", "dev", "--service", OTHER, "--follow")
    assert code == 0
    assert out.splitlines() == ["[old0task] draining", "[new0task] started on the new revision"]


def test_exec_runs_the_aws_cli_when_the_plugin_is_installed(
    seeded: dict[str, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = ecs_backends[ACCOUNT][REGION]
    task = start_task(backend, f"{DEV_PREFIX}", service_state("dev", "backend")["taskDefinition"])
    ran: list[list[str]] = []

    class Done:
        returncode = 7

    monkeypatch.setattr(ecs_exec.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(
        ecs_exec.subprocess, "run", lambda command, check: ran.append(command) or Done()
    )
    code, _, _ = run(
        capsys, "exec", "--env", "dev", "--service", "backend", "--task", task.id, "--", "id"
    )
    backend.stop_task(f"{DEV_PREFIX}", task.task_arn, "test over")
    assert code == 7
    assert ran == [
        [
            "aws",
            "ecs",
            "execute-command",
            "--region",
            REGION,
            "--cluster",
            f"{DEV_PREFIX}",
            "--task",
            task.id,
            "--container",
            "backend",
            "--interactive",
            "--command",
            "id",
        ]
    ]


def test_deploy_all_rolls_out_an_applied_template_change_once(
    seeded: dict[str, dict[str, str]], rollouts: Rollouts, capsys: pytest.CaptureFixture[str]
) -> None:
    """After `terraform apply` changed a template, `deploy --all` gives the running services
    the new template with their released images; a second run changes nothing."""
    assert run(capsys, *DEPLOY_BACKEND, "1.1.0", *FAST)[0] == 0
    images = {name: record("dev", name)[1].image for name in (OTHER, "backend")}
    name = template_parameter_name(f"{DEV_PREFIX}", "backend")
    template = json.loads(client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
    template["task_definition"]["cpu"], template["task_definition"]["memory"] = "512", "1024"
    client("ssm").put_parameter(
        Name=name, Value=json.dumps(template), Type="String", Overwrite=True
    )
    updates = len(rollouts.updates)
    code, _, err = run(capsys, "deploy", "--env", "dev", "--all", *FAST)
    assert code == 0, err
    definition = client("ecs").describe_task_definition(
        taskDefinition=service_state("dev", "backend")["taskDefinition"]
    )["taskDefinition"]
    assert (definition["cpu"], definition["memory"]) == ("512", "1024")
    assert definition["containerDefinitions"][0]["image"] == images["backend"]
    other = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{DEV_PREFIX}/{OTHER}"
    assert running_image("dev", OTHER) == f"{other}@{seeded[f'dev/{OTHER}']['latest']}"
    assert record("dev", "backend")[1].image == images["backend"]
    after_first = len(rollouts.updates)
    assert after_first > updates
    code, _, err = run(capsys, "deploy", "--env", "dev", "--all", *FAST)
    assert code == 0 and len(rollouts.updates) == after_first
    (dev,) = load_environments(("dev",))
    assert err.count("already runs") == len(dev.services)


def test_status_reports_target_health_of_the_service_target_group(
    seeded: dict[str, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    elbv2 = client("elbv2")
    vpc = client("ec2").describe_vpcs()["Vpcs"][-1]["VpcId"]
    group = elbv2.create_target_group(
        Name=f"{DEV_PREFIX}-backend", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(
        TargetGroupArn=group, Targets=[{"Id": "10.0.0.10", "Port": 8080}, {"Id": "10.0.0.11"}]
    )
    service = ecs_backends[ACCOUNT][REGION].services[f"{DEV_PREFIX}:{DEV_PREFIX}-backend"]
    service.load_balancers = [
        {"targetGroupArn": group, "containerName": "backend", "containerPort": 8080}
    ]
    try:
        code, out, err = run(capsys, "status", "--env", "dev", "--service", "backend", "--json")
    finally:
        service.load_balancers = []
    assert code == 0, err
    expected: dict[str, int] = {}
    for target in elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]:
        state = target["TargetHealth"]["State"]
        expected[state] = expected.get(state, 0) + 1
    health = json.loads(out)["services"]["backend"]["target_health"]
    assert health == {f"{DEV_PREFIX}-backend": expected}
    assert sum(expected.values()) == 2


# --------------------------------------------------------------------------- README samples

README = str(PROJECT / "README.md")
SAMPLES_START, SAMPLES_END = "<!-- release-examples:start -->\n", "<!-- release-examples:end -->"
SAMPLE_COMMANDS = (
    "python -m ops deploy --env dev --service backend --image 1.0.0",
    "python -m ops deploy --env dev --service backend --image 1.1.0",
    "python -m ops deploy --env dev --service backend --image 1.1.0",
    "python -m ops deploy --env dev --service backend --image 9.9.9",
    "python -m ops deploy --env dev --service backend --image 2.0.0",
    "python -m ops status --env dev",
    "python -m ops promote --from dev --to stg --service backend",
    "python -m ops rollback --env dev --service backend",
    "python -m ops logs --env dev --service backend --since 15m",
    "python -m ops logs --env dev --service backend --filter ERROR",
    "python -m ops exec --env dev --service backend -- /bin/sh",
    "python -m ops release-impact --env dev --plan plan.json",
    "python -m ops deploy --env dev --all",
)
SAMPLE_TASK_ID = "0f8e7d6c5b4a49388271605f4e3d2c1b"
FAILING_SAMPLE = "--image 2.0.0"
"""The sample whose rollout the circuit breaker rolls back."""
UUID = re.compile(
    r"(?<![0-9a-f])(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})"
    r"(?![0-9a-f])"
)
SERVER_LOG = re.compile(r"^127\.0\.0\.1 - - \[")
CLOCK = re.compile(r"\[\d\d:\d\d:\d\d\]")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")


def normalise(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines() if not SERVER_LOG.match(line)]
    text = "".join(f"{line}\n" for line in lines)
    text = CLOCK.sub("[09:30:00]", text)
    text = ISO.sub("2026-11-30T09:30:00Z", text)
    return UUID.sub(SAMPLE_TASK_ID, text)


def readme_samples(text: str) -> list[tuple[str, str]]:
    block = text[text.index(SAMPLES_START) + len(SAMPLES_START) : text.index(SAMPLES_END)]
    samples = []
    for body in re.findall(r"```shell-session\n(.*?)```", block, flags=re.DOTALL):
        first, _, output = body.partition("\n")
        samples.append((first.removeprefix("$ "), output))
    return samples


def test_readme_release_examples_are_real(
    moto_url: str,
    rollouts: Rollouts,
    synthesized: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    """Runs the README's release commands in order on fresh environments and compares."""
    import shlex
    import time as clock

    reset_moto(moto_url)
    seed(synthesized)
    rollouts.outcome = "steady"
    monkeypatch.setattr(release.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(ecs_exec.shutil, "which", lambda name: None)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plan.json").write_text(
        json.dumps(
            {
                "resource_changes": [
                    {
                        "address": "aws_ssm_parameter.release-backend_template_0D2C1F3E",
                        "type": "aws_ssm_parameter",
                        "change": {
                            "actions": ["update"],
                            "after": {"name": f"/{DEV_PREFIX}/release/backend/template"},
                        },
                    },
                    {
                        "address": "aws_lb_listener_rule.internal-alb_backend_5A7B9C1D",
                        "type": "aws_lb_listener_rule",
                        "change": {"actions": ["delete", "create"], "after": {}},
                    },
                ]
            }
        )
    )
    logs = client("logs")
    group = f"/ecs/{DEV_PREFIX}/backend"
    now_ms = int(clock.time() * 1000)
    for task, message in ((SAMPLE_TASK_ID, "GET /health 200"), ("1a2b3c", "ERROR db timeout")):
        stream = f"backend/backend/{task}"
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": now_ms, "message": message}],
        )
    with open(README, encoding="utf-8") as handle:
        text = handle.read()
    update = os.environ.get("UPDATE_README_SAMPLES") == "1"
    commands = list(SAMPLE_COMMANDS) if update else [c for c, _ in readme_samples(text)]
    assert commands, "README has no release samples"
    produced = []
    for command in commands:
        if " exec " in command:
            arn = service_state("dev", "backend")["taskDefinition"]
            start_task(ecs_backends[ACCOUNT][REGION], f"{DEV_PREFIX}", arn)
        rollouts.outcome = "fail" if command.endswith(FAILING_SAMPLE) else "steady"
        main(shlex.split(command)[3:])
        rollouts.outcome = "steady"
        out, err = capsys.readouterr()
        produced.append((command, normalise(err + out)))
    if update:
        blocks = "".join(f"```shell-session\n$ {c}\n{o}```\n\n" for c, o in produced)
        start = text.index(SAMPLES_START) + len(SAMPLES_START)
        text = text[:start] + blocks + text[text.index(SAMPLES_END) :]
        with open(README, "w", encoding="utf-8") as handle:
            handle.write(text)
    assert readme_samples(text) == produced, (
        "the README's release samples differ from what the commands print on this config: "
        "run UPDATE_README_SAMPLES=1 .venv/bin/python -m pytest -n 0 tests/ops/test_release.py "
        "-k readme"
    )


def test_release_impact_waits_for_no_alb_on_a_service_connect_service() -> None:
    """Without an ALB (Service Connect) there is no grace period and no draining to wait for."""
    from envs.schema.service import Exposure, ServiceConfig
    from ops.release_impact import START_ALLOWANCE_SECONDS, estimate_seconds

    internal = ServiceConfig(
        name="api", health_check_grace_period_seconds=120, deregistration_delay_seconds=60
    )
    connect = internal.model_copy(update={"exposure": Exposure.SERVICE_CONNECT})
    healthy = internal.health_check.healthy_threshold * internal.health_check.interval_seconds
    assert estimate_seconds(internal) == START_ALLOWANCE_SECONDS + 120 + 60
    assert estimate_seconds(connect) == START_ALLOWANCE_SECONDS + healthy
