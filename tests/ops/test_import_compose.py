"""`python -m ops import-compose`: compose file -> envs/ config that `make check` accepts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from envs.schema.workload import FARGATE_MEMORY_MIB
from ops.__main__ import build_parser
from ops.common import EXIT_BAD_INPUT, OpsError
from ops.import_compose import ComposeError, Options, convert, fargate_size, load_compose
from tests.project_copy import ROOT, example_copy

EXAMPLE = ROOT / "docs" / "examples" / "compose" / "docker-compose.yml"
OPTIONS = Options(
    account_id="123456789012", region="ap-northeast-1", project="fargate", base_dir=ROOT
)


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops", "import-compose", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def imported_from(stdout: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(stdout, namespace)
    imported: dict[str, Any] = namespace["IMPORTED"]
    return imported


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """The import of the example compose file in a copy on the frozen example envs (the
    account, region and project it reads are the example's, whatever the user's envs say)."""
    copy = example_copy(tmp_path_factory.mktemp("import-compose"))
    shutil.copytree(ROOT / "docs" / "examples", copy / "docs" / "examples")
    return run_cli(str(EXAMPLE.relative_to(ROOT)), cwd=copy)


def test_example_maps_services_jobs_images_ports_and_callers(
    example: subprocess.CompletedProcess[str],
) -> None:
    assert example.returncode == 0, example.stdout + example.stderr
    assert example.stderr == ""
    imported = imported_from(example.stdout)
    services, jobs = imported["services"], imported["jobs"]
    assert list(services) == ["web", "api", "worker"]  # redis and postgres are not imported
    assert list(jobs) == ["migrate"]
    web, api, worker = services["web"], services["api"], services["worker"]
    # Published on port 80: the public service; its container port is the compose target.
    assert (web["exposure"], web["container_port"]) == ("public", 3000)
    assert web["health_check"] == {"path": "/"}
    # Published on 8000 only: internal, admitting the service whose URL named it.
    assert (api["exposure"], api["container_port"]) == ("internal", 8000)
    assert api["allowed_callers"] == ["web"]
    assert "API_URL" not in web.get("environment", {})  # the platform sets it
    assert api["health_check"] == {"path": "/health/"}
    assert api["command"] == ["gunicorn", "shop.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
    # 0.5 vCPU and 1536 MiB round up to Fargate's 512/2048.
    assert (api["cpu"], api["memory_mib"], api["desired_count"]) == (512, 2048, 2)
    assert api["environment"] == {
        "DJANGO_SETTINGS_MODULE": "shop.settings.production",
        "LOG_LEVEL": "info",  # ${LOG_LEVEL:-info}
    }
    # Values naming a managed data store and env_file names become SSM secrets; no values.
    assert api["secrets"] == {
        name: f"arn:aws:ssm:ap-northeast-1:123456789012:parameter/fargate/api/{name}"
        for name in ("DATABASE_URL", "DJANGO_SECRET_KEY", "REDIS_URL", "SENTRY_DSN")
    }
    assert "dev-only-not-secret" not in example.stdout
    assert "shop:shop@postgres" not in example.stdout
    # Built from api's context: borrows its image; no ports: no load balancer.
    assert worker["same_image_as"] == "api"
    assert worker["exposure"] == "none" and "container_port" not in worker
    assert worker["command"] == ["celery", "-A", "shop", "worker", "--loglevel=info"]
    # Its named volume: an EFS file system, mounted through the worker's own access point.
    assert imported["file_systems"] == {"media": {}}
    assert worker["efs_mounts"] == [{"file_system": "media", "container_path": "/srv/media"}]
    assert imported["buckets"] == {}
    # api waits for it to complete: a one-shot job on api's image.
    assert jobs["migrate"]["same_image_as"] == "api"
    assert jobs["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]


def test_example_says_what_belongs_to_managed_services(
    example: subprocess.CompletedProcess[str],
) -> None:
    notes = [line for line in example.stdout.splitlines() if line.startswith("# - ")]
    assert any(
        line.startswith("# - redis: not run on Fargate") and "Amazon ElastiCache" in line
        for line in notes
    )
    assert any(
        line.startswith("# - postgres: not run on Fargate") and "Amazon RDS" in line
        for line in notes
    )
    assert any(line.startswith("# - api.volumes: ./api:/app not mapped") for line in notes)
    assert "make check` would reject" not in example.stdout


def test_pasted_example_passes_make_check(
    example: subprocess.CompletedProcess[str], tmp_path: Path
) -> None:
    """What a user does: paste the output into envs/base.py (replacing the example services
    and jobs, and the env files' service overrides) and run `python main.py --check`."""
    project = example_copy(tmp_path)
    base = project / "envs" / "base.py"
    base.write_text(base.read_text() + "\n" + example.stdout + "\nBASE = {**BASE, **IMPORTED}\n")
    for env in ("dev", "stg", "prod"):
        path = project / "envs" / f"{env}.py"
        path.write_text(
            path.read_text()
            + "\nOVERRIDES = {k: v for k, v in OVERRIDES.items() if k != 'services'}\n"
            # As the import's note says: the public service's host names move to `web`.
            + "if 'frontend' in OVERRIDES.get('domain', {}).get('hosts', {}):\n"
            + "    hosts = OVERRIDES['domain']['hosts']\n"
            + "    OVERRIDES['domain']['hosts'] = {'web': hosts['frontend']}\n"
        )
    result = subprocess.run(
        [sys.executable, "main.py", "--check"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "configuration valid: dev, stg, prod"


def test_readme_shows_the_real_output(example: subprocess.CompletedProcess[str]) -> None:
    readme = (ROOT / "README.md").read_text()
    command = f"$ python -m ops import-compose {EXAMPLE.relative_to(ROOT)}\n"
    start = readme.index(command) + len(command)
    assert readme[start : readme.index("```", start)] == example.stdout


@pytest.mark.parametrize(
    "compose,note",
    [
        ({"services": {"app": {"image": "a:1", "privileged": True}}}, "app.privileged: not mapped"),
        ({"services": {"app": {"image": "a:1", "network_mode": "host"}}}, "awsvpc networking"),
        ({"services": {"app": {"image": "a:1", "devices": ["/dev/fuse"]}}}, "no host devices"),
        ({"services": {"app": {"image": "a:1", "ports": ["53:53/udp"]}}}, "carry HTTP"),
        ({"services": {"app": {"image": "a:1", "ports": ["3000-3005:3000-3005"]}}}, "no range"),
        ({"services": {"app": {"image": "a:1", "volumes": ["/var/run:/x"]}}}, "no host paths"),
        ({"services": {"app": {"image": "a:1", "volumes": ["d:/data"]}}}, "named volume 'd'"),
        ({"services": {"app": {"image": "a:1", "environment": ["HOME"]}}}, "from the shell"),
        ({"services": {"app": {"image": "a:1", "environment": {"X": "${Y}"}}}}, "shell's var"),
        ({"services": {"app": {"image": "a:1", "env_file": "missing.env"}}}, "'missing.env'"),
        ({"services": {"app": {"image": "a:1", "platform": "windows/amd64"}}}, "linux/arm64"),
        ({"services": {"app": {"image": "a:1", "gpus": "all"}}}, "app.gpus: not mapped"),
        ({"services": {"app": {"image": "a:1"}}, "networks": {"n": {}}}, "networks (top level)"),
        ({"services": {"My App": {"image": "a:1"}}}, "My App: not imported"),
        (
            {"services": {"app": {"image": "a:1", "healthcheck": {"test": "x", "timeout": "2m"}}}},
            "timeout_seconds must be 2-60",
        ),
        (
            {"services": {"app": {"build": ".", "image": "me/app"}, "mq": {"image": "rabbitmq"}}},
            "Amazon MQ",
        ),
    ],
)
def test_each_unsupported_feature_gets_a_note(compose: dict[str, Any], note: str) -> None:
    notes = convert(compose, OPTIONS).notes
    assert any(note in line for line in notes), notes


DONE = "service_completed_successfully"


def test_a_job_calling_an_internal_service_is_named() -> None:
    compose = {
        "services": {
            "api": {"build": ".", "expose": ["8000"]},
            "seed": {"build": "./seed", "environment": {"API": "http://api:8000"}},
            "web": {"build": "./web", "depends_on": {"seed": {"condition": DONE}}},
        }
    }
    imported = convert(compose, OPTIONS)
    assert list(imported.jobs) == ["seed"]
    assert "allowed_callers" not in imported.services["api"]
    assert any(n.startswith("seed: calls 'api', but jobs cannot reach") for n in imported.notes)


@pytest.mark.parametrize(
    "content,message",
    [
        (None, "cannot read it"),
        ("services:\n  web: [unclosed\n  api: {}\n", ":3: not valid YAML"),
        ("- just\n- a list\n", "not a compose file"),
        ("version: '3'\n", "not a compose file"),
    ],
)
def test_unreadable_compose_files_exit_2_with_one_line(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "docker-compose.yml"
    if content is not None:
        path.write_text(content)
    result = run_cli(str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {path}") and message in line


def test_compose_errors_are_ops_errors_mapped_to_exit_2_by_the_common_wrapper(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Compose-specific problems raise ComposeError, an OpsError: `ops.common.handle` (the one
    error-to-exit wrapper) turns it into one line and exit 2; the command catches nothing."""
    path = tmp_path / "docker-compose.yml"
    path.write_text("- not\n- a compose file\n")
    with pytest.raises(ComposeError) as raised:
        load_compose(path)
    assert isinstance(raised.value, OpsError)
    assert raised.value.exit_code == EXIT_BAD_INPUT
    args = build_parser().parse_args(["import-compose", str(path)])
    assert args.handler(args) == EXIT_BAD_INPUT
    (line,) = capsys.readouterr().err.splitlines()
    assert line == f"error: {raised.value}"


def test_a_bad_account_id_exits_2() -> None:
    result = run_cli(str(EXAMPLE), "--account-id", "1234")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --account-id '1234' is not a 12-digit account"


def test_an_import_that_make_check_rejects_says_so_and_exits_1(tmp_path: Path) -> None:
    """Two internal services on one container port: printed, with the check's message."""
    path = tmp_path / "compose.yaml"
    path.write_text(
        "services:\n"
        "  api: {build: ./a, expose: ['8000']}\n"
        "  admin: {build: ./b, expose: ['8000']}\n"
    )
    result = run_cli(str(path))
    assert result.returncode == 1, result.stderr
    assert "# `make check` would reject it" in result.stdout
    assert "all use container_port 8000 behind the internal ALB" in result.stdout
    assert set(imported_from(result.stdout)["services"]) == {"api", "admin"}


@pytest.mark.parametrize("cpus", [None, 0.1, 0.25, 0.5, 1, 1.5, 2, 4, 8, 16])
@pytest.mark.parametrize("memory", [None, 100, 512, 1536, 3000, 8192, 30000, 120000])
def test_fargate_size_is_the_smallest_that_fits(cpus: float | None, memory: float | None) -> None:
    cpu, memory_mib = fargate_size(cpus, memory)
    assert memory_mib in FARGATE_MEMORY_MIB[cpu]
    assert cpu >= (cpus or 0) * 1024 and memory_mib >= (memory or 0)
    smaller = [
        (c, m)
        for c, ms in FARGATE_MEMORY_MIB.items()
        for m in ms
        if c >= (cpus or 0) * 1024 and m >= (memory or 0) and (c, m) < (cpu, memory_mib)
    ]
    assert smaller == []


def test_imports_nothing_heavy_until_run() -> None:
    code = (
        "import sys, ops.__main__, ops.import_compose\n"
        "print([m for m in sys.modules if m.split('.')[0] in "
        "('yaml', 'boto3', 'cdktf', 'jsii', 'cdktf_cdktf_provider_aws', 'pydantic')])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
