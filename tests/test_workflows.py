"""CI workflows: schema-valid, zizmor-clean, and structured for least privilege.

The structural checks pin down what review depends on: every action pinned to a commit, no
write scope a job does not need, OIDC instead of keys, one plan per environment on a PR, and
on main one synth applied dev -> stg -> prod through GitHub environments, one apply at a time.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
PLAN = WORKFLOWS / "plan.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
BIN = Path(sys.executable).parent
ENVS = ("dev", "stg", "prod")

AWS_CREDENTIALS = "aws-actions/configure-aws-credentials"
GITHUB_SCRIPT = "actions/github-script"
SHA_REF = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
VERSION_COMMENT = re.compile(r"^\s+#\s*v\d+(?:\.\d+){0,2}\s*$")
ENV_EXPR = re.compile(r"\$\{\{\s*env\.(\w+)\s*\}\}")
SEVERITY_RANK = {"unknown": 0, "informational": 1, "low": 2, "medium": 3, "high": 4}

Json = dict[str, Any]


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def load(path: Path) -> Json:
    """The workflow as a dict; PyYAML (YAML 1.1) reads the `on:` key as True."""
    data = yaml.safe_load(path.read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


def all_jobs() -> list[Any]:
    """Every job of every workflow, as pytest params with ids like `plan.yml:plan`."""
    return [
        pytest.param(path.name, name, job, id=f"{path.name}:{name}")
        for path in workflow_files()
        for name, job in jobs(path)
    ]


def jobs(path: Path) -> list[tuple[str, Json]]:
    return list(load(path)["jobs"].items())


def action(step: Json) -> str:
    """`owner/repo` of a step's `uses:` (empty for `run:` steps)."""
    return step.get("uses", "").split("@")[0].lower()


def steps_using(job: Json, name: str) -> list[Json]:
    return [step for step in job.get("steps", []) if action(step) == name]


def runs(job: Json) -> str:
    return "\n".join(step.get("run", "") for step in job.get("steps", []))


def run_steps(job: Json, needle: str) -> list[tuple[int, Json]]:
    return [(i, s) for i, s in enumerate(job.get("steps", [])) if needle in s.get("run", "")]


def resolve(value: str, job: Json, workflow: Json) -> str:
    """Substitute `${{ env.X }}` from the job's env, then the workflow's."""
    scope = {**workflow.get("env", {}), **job.get("env", {})}
    return ENV_EXPR.sub(lambda m: str(scope.get(m[1], m[0])), str(value))


def write_scopes(job: Json) -> set[str]:
    permissions = job.get("permissions")
    assert isinstance(permissions, dict), f"job permissions must be an explicit map: {permissions}"
    return {scope for scope, level in permissions.items() if level == "write"}


def needs(job: Json) -> list[str]:
    value = job.get("needs", [])
    return [value] if isinstance(value, str) else list(value)


def ancestors(workflow: Json, name: str) -> set[str]:
    found: set[str] = set()
    stack = needs(workflow["jobs"][name])
    while stack:
        parent = stack.pop()
        if parent not in found:
            found.add(parent)
            stack.extend(needs(workflow["jobs"][parent]))
    return found


def environment_name(job: Json) -> str | None:
    env = job.get("environment")
    return env.get("name") if isinstance(env, dict) else env


def apply_jobs() -> dict[str, tuple[str, Json]]:
    """Environment name -> (job id, job) for every deploy job that runs `terraform apply`."""
    found: dict[str, tuple[str, Json]] = {}
    for name, job in jobs(DEPLOY):
        if "terraform apply" in runs(job):
            env = environment_name(job)
            assert env not in found, f"two apply jobs for environment {env!r}"
            found[str(env)] = (name, job)
    return found


def test_expected_workflows_exist() -> None:
    assert PLAN.is_file()
    assert DEPLOY.is_file()


# --- external validators ----------------------------------------------------------------


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_workflow_matches_github_schema(path: Path) -> None:
    result = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_reports_nothing_at_medium_or_above() -> None:
    result = subprocess.run(
        [
            str(BIN / "zizmor"),
            "--offline",
            "--strict-collection",
            "--no-exit-codes",
            "--no-progress",
            "--format",
            "json",
            "--min-severity",
            "medium",
            str(WORKFLOWS),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"zizmor failed:\n{result.stderr}"
    findings = [
        finding
        for finding in json.loads(result.stdout)
        if SEVERITY_RANK.get(finding["determinations"]["severity"].lower(), 0)
        >= SEVERITY_RANK["medium"]
        and not finding.get("ignored")
    ]
    summary = [
        f"{f['ident']} ({f['determinations']['severity']}): "
        + "; ".join(
            f"{loc['symbolic']['key']['Local']['verbatim_path']}:"
            f"{loc['concrete']['location']['start_point']['row'] + 1} "
            f"{loc['concrete']['feature']!r}"
            for loc in f["locations"]
            if loc["symbolic"]["kind"] == "Primary"
        )
        for f in findings
    ]
    assert not findings, "zizmor findings:\n" + "\n".join(summary)


# --- supply chain and privilege ---------------------------------------------------------


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_every_uses_is_pinned_to_a_commit_sha_with_version_comment(path: Path) -> None:
    lines = [m for line in path.read_text().splitlines() if (m := USES_LINE.match(line))]
    parsed = [
        ref
        for _, job in jobs(path)
        for ref in [job.get("uses"), *(step.get("uses") for step in job.get("steps", []))]
        if ref
    ]
    assert len(lines) == len(parsed), "a `uses:` the line check cannot see (flow style?)"
    for ref in parsed:
        assert SHA_REF.match(ref), f"{path.name}: not pinned to a 40-hex commit SHA: {ref}"
    for match in lines:
        assert VERSION_COMMENT.match(match["rest"]), (
            f"{path.name}: {match['ref']} needs a trailing `# vX.Y.Z` comment"
        )


def test_each_action_is_pinned_to_one_commit_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for path in workflow_files():
        for match in map(USES_LINE.match, path.read_text().splitlines()):
            if match:
                name, sha = match["ref"].split("@")
                pins.setdefault(name, set()).add(f"{sha}{match['rest']}")
    assert {name: refs for name, refs in pins.items() if len(refs) > 1} == {}


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_top_level_permissions_are_minimal(path: Path) -> None:
    assert "permissions" in load(path), "set top-level permissions explicitly"
    assert load(path)["permissions"] in ({}, {"contents": "read"})


@pytest.mark.parametrize(("where", "name", "job"), all_jobs())
def test_job_write_scopes_only_where_needed(where: str, name: str, job: Json) -> None:
    writes = write_scopes(job)
    assert writes <= {"id-token", "pull-requests"}, f"{where}:{name} writes {writes}"
    uses_aws = bool(steps_using(job, AWS_CREDENTIALS))
    assert ("id-token" in writes) == uses_aws, (
        f"{where}:{name}: id-token: write exactly when configure-aws-credentials is used"
    )
    if "pull-requests" in writes:
        assert steps_using(job, GITHUB_SCRIPT), f"{where}:{name} writes PRs but never comments"
        assert not uses_aws, f"{where}:{name}: PR write token shares a job with AWS credentials"
    assert all(level in ("read", "write", "none") for level in job["permissions"].values())


@pytest.mark.parametrize(("where", "name", "job"), all_jobs())
def test_jobs_are_bounded_and_checkouts_keep_no_token(where: str, name: str, job: Json) -> None:
    timeout = job.get("timeout-minutes")
    assert isinstance(timeout, int), f"{where}:{name} needs timeout-minutes"
    assert 0 < timeout <= 120
    for step in steps_using(job, "actions/checkout"):
        assert step.get("with", {}).get("persist-credentials") is False, f"{where}:{name}"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_aws_credentials_come_from_oidc_roles_only(path: Path) -> None:
    workflow = load(path)
    text = path.read_text()
    assert not re.search(r"secrets\.\w*(AWS|ACCESS_KEY)", text, re.IGNORECASE)
    assert "AWS_SECRET_ACCESS_KEY" not in text
    for name, job in jobs(path):
        for step in steps_using(job, AWS_CREDENTIALS):
            inputs = step.get("with", {})
            static = {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"}
            assert not static & inputs.keys(), f"{path.name}:{name} passes static keys"
            assert inputs.get("role-to-assume"), f"{path.name}:{name} assumes no role"
            assert resolve(inputs.get("aws-region", ""), job, workflow).strip(), "no region"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_no_expressions_expanded_inside_scripts(path: Path) -> None:
    """Untrusted values reach scripts through env vars only, never by template expansion."""
    for name, job in jobs(path):
        for step in job.get("steps", []):
            scripts = [step.get("run", "")]
            if action(step) == GITHUB_SCRIPT:
                scripts.append(step.get("with", {}).get("script", ""))
            for script in scripts:
                assert "${{" not in script, f"{path.name}:{name}: {step.get('name')}"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_terraform_is_1_10_plus_without_wrapper(path: Path) -> None:
    workflow = load(path)
    if not any("terraform" in runs(job) for _, job in jobs(path)):
        pytest.skip(f"{path.name} runs no terraform")
    setups = [
        (job, step)
        for _, job in jobs(path)
        for step in steps_using(job, "hashicorp/setup-terraform")
    ]
    assert setups
    for job, step in setups:
        inputs = step.get("with", {})
        assert inputs.get("terraform_wrapper") is False
        version = resolve(inputs.get("terraform_version", ""), job, workflow)
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"pin an exact version: {version!r}"
        assert tuple(map(int, version.split("."))) >= (1, 10, 0), version


# --- plan on pull requests --------------------------------------------------------------


def plan_job() -> Json:
    found = [job for _, job in jobs(PLAN) if "terraform plan" in runs(job)]
    assert len(found) == 1, "one (matrix) plan job"
    return found[0]


def test_plan_workflow_runs_tests_and_synth_on_pull_requests() -> None:
    workflow = load(PLAN)
    assert "pull_request" in workflow["on"]
    assert "pull_request_target" not in workflow["on"]
    by_name = dict(jobs(PLAN))
    test = next(job for job in by_name.values() if "make test" in runs(job))
    setup_python = steps_using(test, "actions/setup-python")
    setup_node = steps_using(test, "actions/setup-node")
    assert [s["with"]["python-version"] for s in setup_python] == ["3.11"]
    assert [str(s["with"]["node-version"]) for s in setup_node] == ["20"]
    synth_names = [name for name, job in by_name.items() if "make synth" in runs(job)]
    assert len(synth_names) == 1
    assert synth_names[0] in needs(plan_job())
    uploads = steps_using(by_name[synth_names[0]], "actions/upload-artifact")
    assert [u["with"]["path"] for u in uploads] == ["cdktf.out"]
    downloads = steps_using(plan_job(), "actions/download-artifact")
    assert uploads[0]["with"]["name"] in [d["with"]["name"] for d in downloads]


def test_plan_runs_once_per_environment_with_its_own_role() -> None:
    job = plan_job()
    strategy = job["strategy"]
    assert strategy["fail-fast"] is False
    assert strategy["matrix"]["env"] == list(ENVS)
    includes = {entry["env"]: entry for entry in strategy["matrix"].get("include", [])}
    (aws,) = steps_using(job, AWS_CREDENTIALS)
    role = aws["with"]["role-to-assume"]
    for env in ENVS:
        matrix_key = re.fullmatch(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}", role)
        resolved = includes[env][matrix_key[1]] if matrix_key else role
        assert f"vars.AWS_PLAN_ROLE_ARN_{env.upper()}" in resolved, (env, resolved)
    assert "${{ matrix.env }}" in job["env"]["STACK_DIR"]


def test_plan_saves_and_publishes_the_plan() -> None:
    job = plan_job()
    commands = runs(job)
    assert "terraform init -input=false" in commands
    (plan_cmd,) = [line for line in commands.splitlines() if "terraform plan" in line]
    for flag in ("-input=false", "-lock-timeout=", "-out=tfplan"):
        assert flag in plan_cmd
    assert "terraform show -no-color tfplan > plan.txt" in commands
    assert "terraform show" in commands and "-json" in commands and "resource_changes" in commands
    assert re.search(r"-m ops cost --env \S+ --format markdown", commands)
    assert re.search(r"-m ops diagram --env \S+ --out \S+", commands)
    uploaded = " ".join(
        str(step["with"]["path"]) for step in steps_using(job, "actions/upload-artifact")
    )
    assert "tfplan" in uploaded and "plan.txt" in uploaded


def test_one_pr_comment_per_environment_is_updated_in_place() -> None:
    commenters = [
        (name, job)
        for name, job in jobs(PLAN)
        if "pull-requests" in write_scopes(job) and steps_using(job, GITHUB_SCRIPT)
    ]
    assert len(commenters) == 1
    _, job = commenters[0]
    assert job["strategy"]["matrix"]["env"] == list(ENVS)
    (step,) = steps_using(job, GITHUB_SCRIPT)
    assert step["env"]["MARKER"] == "<!-- plan:${{ matrix.env }} -->"
    script = step["with"]["script"]
    for call in ("readFileSync", "process.env.COMMENT_FILE", "updateComment", "createComment"):
        assert call in script, call
    assert "<!-- plan:{env} -->" in runs(plan_job()), "the plan job writes the marker"


# --- deploy on main ---------------------------------------------------------------------


def test_deploy_runs_on_push_to_main_and_never_cancels() -> None:
    workflow = load(DEPLOY)
    assert workflow["on"] == {"push": {"branches": ["main"]}}
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_deploy_synthesizes_once_and_applies_that_artifact_in_order() -> None:
    workflow = load(DEPLOY)
    synths = [name for name, job in jobs(DEPLOY) if "make synth" in runs(job)]
    assert len(synths) == 1
    (upload,) = steps_using(workflow["jobs"][synths[0]], "actions/upload-artifact")
    found = apply_jobs()
    assert sorted(found) == sorted(ENVS)
    for env, (name, job) in found.items():
        assert synths[0] in ancestors(workflow, name), name
        assert not steps_using(job, "actions/checkout"), f"{name} must not rebuild from source"
        (download,) = steps_using(job, "actions/download-artifact")
        assert download["with"]["name"] == upload["with"]["name"], env
    order = [found[env][0] for env in ENVS]
    for earlier, later in itertools.pairwise(order):
        assert earlier in ancestors(workflow, later), f"{later} must wait for {earlier}"


@pytest.mark.parametrize("env", ENVS)
def test_apply_job_is_gated_serialized_and_uses_its_role(env: str) -> None:
    _, job = apply_jobs()[env]
    assert environment_name(job) == env
    concurrency = job["concurrency"]
    assert env in concurrency["group"]
    assert concurrency["cancel-in-progress"] is False
    other_groups = [apply_jobs()[e][1]["concurrency"]["group"] for e in ENVS if e != env]
    assert concurrency["group"] not in other_groups
    (aws,) = steps_using(job, AWS_CREDENTIALS)
    assert "vars.AWS_APPLY_ROLE_ARN_" + env.upper() in aws["with"]["role-to-assume"]


@pytest.mark.parametrize("env", ENVS)
def test_apply_applies_exactly_the_saved_plan(env: str) -> None:
    workflow = load(DEPLOY)
    _, job = apply_jobs()[env]
    ((plan_at, plan),) = run_steps(job, "terraform plan")
    ((apply_at, apply),) = run_steps(job, "terraform apply")
    assert plan_at < apply_at
    assert "-out=tfplan" in plan["run"] and "-lock-timeout=" in plan["run"]
    assert re.fullmatch(r"terraform apply( -[\w=-]+)* tfplan", apply["run"].strip())
    for step in (plan, apply):
        directory = resolve(step.get("working-directory", ""), job, workflow)
        assert directory == f"cdktf.out/stacks/{env}", (step["name"], directory)
