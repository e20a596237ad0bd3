"""CI workflows: schema-valid, zizmor-clean, and structured for least privilege.

The structural checks pin down what review depends on: every action pinned to a commit; no job
that runs repository code holds an OIDC token, and the jobs that do run only pinned tools on
artifacts, after checking the artifact's providers; PR plans are read-only and lock-free, leave
no binary plan behind and comment only on same-repo PRs; on main one synth is deployed
environment by environment (plan shown -> approval -> apply that plan -> steady), in the order
of envs.DEFAULT_ENVIRONMENTS.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from envs import DEFAULT_ENVIRONMENTS, load_environments
from tests.constants import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
PLAN = WORKFLOWS / "plan.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
TERRAFORM_PLAN = WORKFLOWS / "terraform-plan.yml"
DEPLOY_ENV = WORKFLOWS / "deploy-env.yml"
RELEASE = WORKFLOWS / "release.yml"
BIN = Path(sys.executable).parent
ENVS = DEFAULT_ENVIRONMENTS
LOCAL_WORKFLOW = re.compile(r"^\./\.github/workflows/[\w.-]+\.ya?ml$")
# What running the project's own code looks like in a step (a checkout is the other sign).
REPO_CODE = re.compile(r"\bmake\b|\.venv|python3? -m |\bpip\b|\buv\b|\./|\bbash \S|\bsource\b")

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


def called_workflow(job: Json) -> Path | None:
    """The local reusable workflow a caller job runs (`uses: ./.github/workflows/x.yml`)."""
    ref = job.get("uses")
    return ROOT / ref.removeprefix("./") if ref else None


def step_jobs() -> list[Any]:
    """Every job with steps (not a reusable-workflow call), as pytest params."""
    return [param for param in all_jobs() if "steps" in param.values[2]]


def oidc_jobs() -> list[tuple[str, Json]]:
    return [
        (f"{path.name}:{name}", job)
        for path in workflow_files()
        for name, job in jobs(path)
        if "steps" in job and "id-token" in write_scopes(job)
    ]


def named_step(job: Json, name: str) -> tuple[int, Json]:
    found = [(i, s) for i, s in enumerate(job["steps"]) if s.get("name", "").startswith(name)]
    assert len(found) == 1, f"one step named {name!r}: {found}"
    return found[0]


def test_expected_workflows_exist() -> None:
    for path in (PLAN, DEPLOY, TERRAFORM_PLAN, DEPLOY_ENV):
        assert path.is_file(), path


# --- external validators ----------------------------------------------------------------


def test_workflows_match_github_schema() -> None:
    """One check-jsonschema run over every workflow file (its start-up dominates the cost)."""
    result = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, workflow_files()),
        ],
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
    lines = [
        m
        for line in path.read_text().splitlines()
        if (m := USES_LINE.match(line)) and not LOCAL_WORKFLOW.match(m["ref"])
    ]
    parsed = [
        ref
        for _, job in jobs(path)
        for ref in [job.get("uses"), *(step.get("uses") for step in job.get("steps", []))]
        if ref and not LOCAL_WORKFLOW.match(ref)
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
            if match and not LOCAL_WORKFLOW.match(match["ref"]):
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
    assert all(level in ("read", "write", "none") for level in job["permissions"].values())
    called = called_workflow(job)
    if called is not None:
        # A caller grants the called workflow's jobs at most what it holds: id-token only if
        # one of them assumes a role.
        assert LOCAL_WORKFLOW.match(job["uses"]), f"{where}:{name} calls a remote workflow"
        inner = [j for _, j in jobs(called)]
        needs_oidc = any("id-token" in write_scopes(j) for j in inner)
        assert ("id-token" in writes) == needs_oidc, f"{where}:{name}"
        return
    uses_aws = bool(steps_using(job, AWS_CREDENTIALS))
    assert ("id-token" in writes) == uses_aws, (
        f"{where}:{name}: id-token: write exactly when configure-aws-credentials is used"
    )
    if "pull-requests" in writes:
        assert steps_using(job, GITHUB_SCRIPT), f"{where}:{name} writes PRs but never comments"
        assert not uses_aws, f"{where}:{name}: PR write token shares a job with AWS credentials"
        assert not steps_using(job, "actions/checkout"), f"{where}:{name} checks out code"


RELEASE_JOBS = {
    **{f"release.yml:{env}": "${{ inputs.platform_ref }}" for env in ENVS},
    "deploy-env.yml:rollout": "${{ github.sha }}",
}
"""Jobs that hold a *release* role (release permissions only: ECR read, the release parameters,
ECS register/update/describe, PassRole of the workloads' roles) and run the platform's `ops`
from a pinned commit: the application release workflow (the caller's role and pinned platform
commit) and the post-apply template rollout (this run's commit on main). No pull-request code
runs there; every other job with an OIDC token runs no repository code at all."""


def platform_jobs() -> list[tuple[str, Json]]:
    return [(where, job) for where, job in oidc_jobs() if where not in RELEASE_JOBS]


def test_release_jobs_run_only_pinned_ops_with_the_release_role() -> None:
    found = {where: job for where, job in oidc_jobs() if where in RELEASE_JOBS}
    assert set(found) == set(RELEASE_JOBS)
    install = "python -m pip install --no-input --require-hashes -r requirements.txt"
    for where, job in found.items():
        (checkout,) = steps_using(job, "actions/checkout")
        assert checkout["with"]["ref"] == RELEASE_JOBS[where], where
        assert checkout["with"]["persist-credentials"] is False, where
        assert job["permissions"] == {"contents": "read", "id-token": "write"}, where
        environment = environment_name(job)
        assert environment in ENVS or environment.endswith("-release"), where
        (credentials,) = steps_using(job, AWS_CREDENTIALS)
        assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}", where
        code = [
            line.strip()
            for step in job["steps"]
            for line in step.get("run", "").splitlines()
            if REPO_CODE.search(line)
        ]
        assert code[0] == install, (where, code)
        assert code[1:] and all(re.match(r"python -m ops (deploy|promote) ", c) for c in code[1:])


def test_release_workflow_follows_envs_and_their_promotion_sources() -> None:
    """release.yml (called from application repositories, so it cannot read envs/ before it
    runs) has one job per environment of envs.DEFAULT_ENVIRONMENTS, in order: the first
    deploys, each other promotes from its `release.promote_from`, after that job."""
    where = RELEASE.relative_to(ROOT)
    configs = {env.name: env for env in load_environments()}
    found = jobs(RELEASE)
    assert [name for name, _ in found] == list(ENVS), (
        f"{where}: jobs {[name for name, _ in found]} must be envs.DEFAULT_ENVIRONMENTS "
        f"{list(ENVS)}: add (or remove) the environment's job in {where}"
    )
    for index, (name, job) in enumerate(found):
        assert environment_name(job) == name, f"{where}:{name}: environment {name}"
        (command,) = [
            line.strip()
            for step in job["steps"]
            for line in step.get("run", "").splitlines()
            if line.strip().startswith("python -m ops ")
        ]
        source = configs[name].release.promote_from
        if index == 0 or source is None:
            assert command.startswith(f"python -m ops deploy --env {name} "), (where, name)
        else:
            assert command.startswith(f"python -m ops promote --from {source} --to {name} "), (
                f"{where}:{name}: promote from {source} (envs/{name}.py release.promote_from)"
            )
        if index:
            assert needs(job) == [found[index - 1][0]], f"{where}:{name} waits for the job before"


def test_no_job_that_runs_repository_code_holds_an_oidc_token() -> None:
    """Jobs with `id-token: write` run only pinned actions, terraform and inline scripts."""
    found = platform_jobs()
    assert {where for where, _ in found} == {
        "terraform-plan.yml:plan",
        "deploy-env.yml:apply",
    }
    for where, job in found:
        assert not steps_using(job, "actions/checkout"), f"{where}: checks out the repository"
        for step in job["steps"]:
            ref = step.get("uses", "")
            assert not ref.startswith("./"), f"{where}: runs a local action {ref}"
            script = step.get("run", "")
            if step.get("shell") == "python":
                continue  # inline in the workflow, run by the runner's python3
            code = [line for line in script.splitlines() if REPO_CODE.search(line)]
            assert not code, f"{where}: {step.get('name')} runs repository code: {code}"
            commands = {
                line.split()[0]
                for line in script.splitlines()
                if line.strip() and not line.lstrip().startswith(("#", "fi", "then", "else"))
            }
            assert commands <= {"terraform", "if", "echo", "exit", "status=0", "grep"}, (
                where,
                step.get("name"),
                commands,
            )


@pytest.mark.parametrize(("where", "name", "job"), step_jobs())
def test_jobs_that_check_out_code_hold_only_contents_read(where: str, name: str, job: Json) -> None:
    if f"{where}:{name}" in RELEASE_JOBS:
        return  # the caller's release role; see test_release_jobs_run_only_pinned_ops_...
    shell = "\n".join(step.get("run", "") for step in job["steps"] if step.get("shell") != "python")
    if steps_using(job, "actions/checkout") or REPO_CODE.search(shell):
        assert job["permissions"] == {"contents": "read"}, f"{where}:{name}"


@pytest.mark.parametrize(("where", "name", "job"), step_jobs())
def test_jobs_are_bounded_and_checkouts_keep_no_token(where: str, name: str, job: Json) -> None:
    timeout = job.get("timeout-minutes")
    assert isinstance(timeout, int), f"{where}:{name} needs timeout-minutes"
    assert 0 < timeout <= 120
    for step in steps_using(job, "actions/checkout"):
        assert step.get("with", {}).get("persist-credentials") is False, f"{where}:{name}"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_aws_credentials_come_from_oidc_roles_bound_to_an_environment(path: Path) -> None:
    workflow = load(path)
    text = path.read_text()
    assert not re.search(r"secrets\.\w*(AWS|ACCESS_KEY)", text, re.IGNORECASE)
    assert "AWS_SECRET_ACCESS_KEY" not in text
    for name, job in jobs(path):
        for step in steps_using(job, AWS_CREDENTIALS):
            inputs = step.get("with", {})
            static = {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"}
            assert not static & inputs.keys(), f"{path.name}:{name} passes static keys"
            # The role comes from the job's GitHub environment, whose name is in the OIDC
            # subject the role's trust policy names.
            assert inputs.get("role-to-assume") == "${{ vars.AWS_ROLE_ARN }}", name
            assert environment_name(job), f"{path.name}:{name} assumes a role outside environments"
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


def test_terraform_is_1_10_plus_without_wrapper() -> None:
    setups = [
        (path, job, step)
        for path in workflow_files()
        for _, job in jobs(path)
        for step in steps_using(job, "hashicorp/setup-terraform")
    ]
    assert len(setups) == 2, "terraform in the plan job and the apply job only"
    for path, job, step in setups:
        inputs = step.get("with", {})
        assert inputs.get("terraform_wrapper") is False
        version = resolve(inputs.get("terraform_version", ""), job, load(path))
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"pin an exact version: {version!r}"
        assert tuple(map(int, version.split("."))) >= (1, 10, 0), version


@pytest.mark.parametrize(("where", "name", "job"), step_jobs())
def test_node_is_22_lts_and_python_3_11(where: str, name: str, job: Json) -> None:
    for step in steps_using(job, "actions/setup-node"):
        assert str(step["with"]["node-version"]) == "22", f"{where}:{name}"
    for step in steps_using(job, "actions/setup-python"):
        assert step["with"]["python-version"] == "3.11", f"{where}:{name}"
        assert "cache" not in step["with"], f"{where}:{name}: no dependency caches"


# --- plan (terraform-plan.yml, used by PRs and deploys) ----------------------------------


def the_plan_job() -> Json:
    (job,) = [job for _, job in jobs(TERRAFORM_PLAN)]
    return job


def test_plans_are_read_only_lock_free_and_gated_per_environment() -> None:
    job = the_plan_job()
    assert job["environment"] == "${{ inputs.env }}-plan"
    commands = runs(job)
    (plan_cmd,) = [line for line in commands.splitlines() if "terraform plan" in line]
    assert "-lock=false" in plan_cmd and "-out=tfplan" in plan_cmd
    assert "lock-timeout" not in plan_cmd
    assert "terraform apply" not in commands
    assert "terraform init -input=false" in commands


def test_providers_are_verified_before_init_and_credentials() -> None:
    job = the_plan_job()
    verify_at, _ = named_step(job, "Verify providers")
    (init_at, _), *_ = run_steps(job, "terraform init")
    aws_at = next(i for i, s in enumerate(job["steps"]) if action(s) == AWS_CREDENTIALS)
    assert verify_at < aws_at < init_at


def _verify_providers(stack: Json, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    _, step = named_step(the_plan_job(), "Verify providers")
    stack_dir = tmp_path / "stack"
    stack_dir.mkdir(exist_ok=True)
    (stack_dir / "cdk.tf.json").write_text(json.dumps(stack))
    env = {
        "PATH": "/usr/bin:/bin",
        "STACK_DIR": str(stack_dir),
        "EXPECTED_PROVIDERS": load(TERRAFORM_PLAN)["env"]["EXPECTED_PROVIDERS"],
    }
    return subprocess.run(
        [sys.executable, "-c", step["run"]], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("env", ENVS)
def test_provider_check_accepts_every_synthesized_environment(
    env: str, synthesized: dict[str, Json], tmp_path: Path
) -> None:
    done = _verify_providers(synthesized[env], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "hashicorp/aws" in done.stdout


@pytest.mark.parametrize(
    ("label", "tamper"),
    [
        (
            "external data source",
            lambda s: s.setdefault("data", {}).update(
                {"external_x": {"x": {"program": ["sh", "-c", "env"]}}}
            ),
        ),
        (
            "declared provider",
            lambda s: s["terraform"]["required_providers"].update(
                {"evil": {"source": "example/evil"}}
            ),
        ),
        (
            "aws name, other source",
            lambda s: s["terraform"]["required_providers"].update(
                {"aws": {"source": "example/aws"}}
            ),
        ),
        ("module", lambda s: s.update({"module": {"m": {"source": "git::https://x"}}})),
        (
            "provisioner",
            lambda s: next(iter(next(iter(s["resource"].values())).values())).update(
                {"provisioner": [{"local-exec": {"command": "env"}}]}
            ),
        ),
    ],
)
def test_provider_check_refuses_code_running_additions(
    label: str, tamper: Any, synthesized: dict[str, Json], tmp_path: Path
) -> None:
    stack = json.loads(json.dumps(synthesized[ENVS[0]]))
    tamper(stack)
    done = _verify_providers(stack, tmp_path)
    assert done.returncode != 0, f"{label} passed the provider check"
    assert "::error::" in done.stdout + done.stderr


def test_plan_redacts_and_summarizes(tmp_path: Path) -> None:
    """The summary step, run with a stand-in `terraform show -json`, masks secrets."""
    _, step = named_step(the_plan_job(), "Summarize and redact")
    fake = tmp_path / "bin" / "terraform"
    fake.parent.mkdir()
    template = "/fargate-dev/release/backend/template"
    changes = [
        {"change": {"actions": ["create"]}},
        {"change": {"actions": ["delete", "create"]}},
        {
            "address": "aws_ssm_parameter.t",
            "type": "aws_ssm_parameter",
            "change": {"actions": ["update"], "after": {"name": template, "value": "hunter2"}},
        },
    ]
    fake.write_text(f"#!/bin/sh\necho '{json.dumps({'resource_changes': changes})}'\n")
    fake.chmod(0o755)
    key = "AKIA" + "ABCDEFGHIJKLMNOP"
    (tmp_path / "plan.txt").write_text(
        f'  + access = "{key}"\n  + db_password = "hunter2"\n  + name = "web"\n'
    )
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    env = {
        "PATH": f"{fake.parent}:/usr/bin:/bin",
        "ENV_NAME": "dev",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
    }
    done = subprocess.run(
        [sys.executable, "-c", step["run"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    redacted = (tmp_path / "plan-redacted.txt").read_text()
    assert key not in redacted and "hunter2" not in redacted
    assert 'name = "web"' in redacted
    line = "2 to add, 1 to change, 1 to destroy (1 to replace)"
    assert (tmp_path / "summary.txt").read_text().strip() == line
    assert f"summary={line}" in output.read_text()
    assert key not in summary.read_text() and line in summary.read_text()
    # What leaves for `ops release-impact`: addresses, types, actions and names, no values.
    release = json.loads((tmp_path / "release-changes.json").read_text())
    assert release == {
        "resource_changes": [
            {
                "address": "aws_ssm_parameter.t",
                "type": "aws_ssm_parameter",
                "change": {"actions": ["update"], "after": {"name": template}},
            }
        ]
    }


def test_release_impact_runs_without_credentials_and_reaches_the_comment() -> None:
    workflow = load(PLAN)
    impact = workflow["jobs"]["impact"]
    assert impact["permissions"] == {"contents": "read"}
    assert not steps_using(impact, AWS_CREDENTIALS)
    runs = [step.get("run", "") for step in impact["steps"]]
    assert any(r.startswith("python -m ops release-impact --env ") for r in runs)
    comment = workflow["jobs"]["comment"]
    assert "impact" in comment["needs"]
    assert any(
        step.get("with", {}).get("name") == "release-impact-${{ matrix.env }}"
        for step in steps_using(comment, "actions/download-artifact")
    )


def test_binary_plans_are_uploaded_only_for_deploys_with_shortest_retention() -> None:
    job = the_plan_job()
    uploads = steps_using(job, "actions/upload-artifact")
    binary = [u for u in uploads if "tfplan-" in u["with"]["name"]]
    assert len(binary) == 1
    assert binary[0]["if"] == "${{ inputs.keep-plan }}"
    assert all(u["with"]["retention-days"] == 1 for u in uploads)
    text_paths = " ".join(str(u["with"]["path"]) for u in uploads if u not in binary)
    assert "plan-redacted.txt" in text_paths and "plan.txt" not in text_paths.replace(
        "plan-redacted.txt", ""
    )
    pr_callers = [job for _, job in jobs(PLAN) if job.get("uses")]
    assert pr_callers and all(not c["with"].get("keep-plan") for c in pr_callers)
    (deploy_caller,) = [job for _, job in jobs(DEPLOY_ENV) if job.get("uses")]
    assert deploy_caller["with"]["keep-plan"] is True


# --- pull requests ----------------------------------------------------------------------


def test_pr_workflow_tests_synthesizes_and_preflights_without_credentials() -> None:
    workflow = load(PLAN)
    assert "pull_request" in workflow["on"]
    assert "pull_request_target" not in workflow["on"]
    by_name = dict(jobs(PLAN))
    assert "make test" in runs(by_name["test"])
    synth = by_name["synth"]
    assert "make synth" in runs(synth)
    assert "ops preflight" in runs(synth)
    assert re.search(r"-m ops cost --env \S+ --format markdown", runs(synth))
    assert "-m ops diagram" in runs(synth)
    assert synth["permissions"] == {"contents": "read"}
    uploads = {u["with"]["name"]: u for u in steps_using(synth, "actions/upload-artifact")}
    assert uploads["cdktf-out"]["with"]["path"] == "cdktf.out"


@pytest.mark.parametrize("path", [PLAN, DEPLOY], ids=lambda p: p.name)
def test_preflight_gates_the_artifact_before_any_plan(path: Path) -> None:
    """Preflight runs after synth and before the stacks are uploaded, and may not be skipped."""
    synth = dict(jobs(path))["synth"]
    ((synth_at, _),) = run_steps(synth, "make synth")
    preflight_at, preflight = named_step(synth, "Preflight")
    assert preflight["run"].strip() == ".venv/bin/python -m ops preflight"
    assert not preflight.get("continue-on-error") and "if" not in preflight
    upload_at = next(
        i
        for i, step in enumerate(synth["steps"])
        if action(step) == "actions/upload-artifact" and step["with"]["name"] == "cdktf-out"
    )
    assert synth_at < preflight_at < upload_at


ENVIRONMENTS_MATRIX = "${{ fromJSON(needs.synth.outputs.environments) }}"


def environment_list(path: Path) -> list[str]:
    """The environments a workflow runs for: what its synth job's `Environments` step prints
    (run here against this checkout's envs/)."""
    synth = dict(jobs(path))["synth"]
    assert synth["outputs"]["environments"] == "${{ steps.environments.outputs.environments }}"
    _, step = named_step(synth, "Environments")
    assert step["id"] == "environments"
    (snippet,) = re.findall(r"-c '([^']+)'", step["run"])
    printed = subprocess.run(
        [sys.executable, "-c", snippet], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    listed: list[str] = json.loads(printed)
    return listed


@pytest.mark.parametrize("path", [PLAN, DEPLOY], ids=lambda p: p.name)
def test_workflow_environments_are_envs_default_environments(path: Path) -> None:
    """Plan and deploy take their environment list from one place, envs.DEFAULT_ENVIRONMENTS,
    through the same synth step: a new environment needs no workflow edit."""
    assert environment_list(path) == list(ENVS), (
        f"{path.relative_to(ROOT)}: its environment list must be envs.DEFAULT_ENVIRONMENTS "
        "(envs/__init__.py); restore the synth job's `Environments` step"
    )
    steps = {
        p: named_step(dict(jobs(p))["synth"], "Environments")[1]["run"] for p in (PLAN, DEPLOY)
    }
    assert steps[PLAN] == steps[DEPLOY], "plan.yml and deploy.yml list environments differently"


def test_pr_plan_matrix_is_envs_default_environments() -> None:
    by_name = dict(jobs(PLAN))
    for name in ("plan", "impact", "comment"):
        assert by_name[name]["strategy"]["matrix"]["env"] == ENVIRONMENTS_MATRIX, name
    assert by_name["plan"]["uses"] == "./.github/workflows/terraform-plan.yml"
    assert by_name["plan"]["with"]["env"] == "${{ matrix.env }}"


def test_plans_and_comments_only_for_same_repo_prs() -> None:
    by_name = dict(jobs(PLAN))
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    for name in ("plan", "comment"):
        assert same_repo in by_name[name]["if"], name


def test_one_pr_comment_per_environment_is_updated_in_place() -> None:
    commenters = [
        (name, job)
        for name, job in jobs(PLAN)
        if "pull-requests" in write_scopes(job) and steps_using(job, GITHUB_SCRIPT)
    ]
    assert len(commenters) == 1
    _, job = commenters[0]
    (step,) = steps_using(job, GITHUB_SCRIPT)
    assert step["env"]["MARKER"] == "<!-- plan:${{ matrix.env }} -->"
    script = step["with"]["script"]
    for call in ("readFileSync", "process.env.COMMENT_FILE", "updateComment", "createComment"):
        assert call in script, call
    assert "<!-- plan:{env} -->" in runs(job), "the comment job writes the marker"
    assert "plan-redacted.txt" in runs(job) and "plan.txt" not in runs(job)


# --- deploy on main ---------------------------------------------------------------------


def test_deploy_runs_on_push_to_main_and_never_cancels() -> None:
    workflow = load(DEPLOY)
    assert workflow["on"] == {"push": {"branches": ["main"]}}
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_deploy_synthesizes_once_and_deploys_envs_one_at_a_time_in_order() -> None:
    """One synth; then one deploy-env.yml run per environment of the list, one at a time in
    list order (max-parallel 1), a failure cancelling the environments after it."""
    workflow = load(DEPLOY)
    synths = [name for name, job in jobs(DEPLOY) if "make synth" in runs(job)]
    assert synths == ["synth"]
    assert "ops preflight" in runs(workflow["jobs"]["synth"])
    (upload,) = steps_using(workflow["jobs"]["synth"], "actions/upload-artifact")
    assert upload["with"]["name"] == "cdktf-out"
    ((name, deploy),) = [(n, job) for n, job in jobs(DEPLOY) if job.get("uses")]
    assert deploy["uses"] == "./.github/workflows/deploy-env.yml"
    assert deploy["with"] == {"env": "${{ matrix.env }}"}
    assert deploy["strategy"] == {
        "max-parallel": 1,
        "fail-fast": True,
        "matrix": {"env": ENVIRONMENTS_MATRIX},
    }
    assert {"synth", "test"} <= ancestors(workflow, name)
    assert deploy["permissions"] == {"id-token": "write"}


def test_deploy_env_plans_then_approves_then_applies_that_plan() -> None:
    by_name = dict(jobs(DEPLOY_ENV))
    assert by_name["plan"]["uses"] == "./.github/workflows/terraform-plan.yml"
    apply = by_name["apply"]
    assert needs(apply) == ["plan"]
    assert environment_name(apply) == "${{ inputs.env }}"
    assert apply["concurrency"] == {
        "group": "terraform-apply-${{ inputs.env }}",
        "cancel-in-progress": False,
    }
    assert not steps_using(apply, "actions/checkout"), "apply must not rebuild from source"
    downloads = [d["with"]["name"] for d in steps_using(apply, "actions/download-artifact")]
    assert downloads == ["cdktf-out", "tfplan-${{ inputs.env }}"]
    ((apply_at, step),) = run_steps(apply, "terraform apply")
    assert re.fullmatch(r"terraform apply( -[\w=-]+)* tfplan", step["run"].strip())
    assert step["working-directory"] == "${{ env.STACK_DIR }}"
    assert apply["env"]["STACK_DIR"] == "cdktf.out/stacks/${{ inputs.env }}"
    # No re-plan before the apply: the only plan in the job checks the result afterwards.
    ((check_at, check),) = run_steps(apply, "terraform plan")
    assert check_at > apply_at and "-detailed-exitcode" in check["run"]


@pytest.mark.parametrize("env", ENVS)
def test_every_service_waits_for_steady_state_with_rollback(
    env: str, synthesized: dict[str, Json]
) -> None:
    services = synthesized[env]["resource"].get("aws_ecs_service", {})
    assert services, env
    for name, body in services.items():
        assert body.get("wait_for_steady_state") is True, f"{env}: {name}"
        breaker = body["deployment_circuit_breaker"]
        assert breaker == {"enable": True, "rollback": True}, f"{env}: {name}"


# --- the plan role (policy/plan-role-*.json, documented in the README) -------------------

PLAN_ROLE_POLICY = ROOT / "policy" / "plan-role-policy.json"
PLAN_ROLE_TRUST = ROOT / "policy" / "plan-role-trust.json"


def _statements(path: Path) -> list[Json]:
    statements = json.loads(path.read_text())["Statement"]
    for statement in statements:
        for key in ("Action", "Resource"):
            if isinstance(statement.get(key), str):
                statement[key] = [statement[key]]
    return statements


def test_plan_role_policy_reads_state_and_can_never_write_it() -> None:
    statements = _statements(PLAN_ROLE_POLICY)
    allowed = {a for s in statements if s["Effect"] == "Allow" for a in s["Action"]}
    assert allowed == {"s3:ListBucket", "s3:GetObject", "kms:Decrypt"}
    denied = [s for s in statements if s["Effect"] == "Deny"]
    assert len(denied) == 1
    assert {"s3:PutObject", "s3:DeleteObject"} <= set(denied[0]["Action"])
    assert "arn:aws:s3:::${STATE_BUCKET}/*" in denied[0]["Resource"]
    assert not any("*" in a for s in statements for a in s["Action"])


@pytest.mark.parametrize("env", ENVS)
def test_plan_role_policy_reads_exactly_the_backend_of_each_environment(
    env: str, synthesized: dict[str, Json]
) -> None:
    backend = synthesized[env]["terraform"]["backend"]["s3"]
    prefix, key_env, filename = backend["key"].split("/")
    assert (key_env, filename) == (env, "terraform.tfstate"), backend["key"]
    text = PLAN_ROLE_POLICY.read_text()
    for name, value in {
        "STATE_BUCKET": backend["bucket"],
        "STATE_PREFIX": prefix,
        "ENV": env,
    }.items():
        text = text.replace("${" + name + "}", value)
    statements = json.loads(text)["Statement"]
    (read,) = [s for s in statements if s["Action"] == "s3:GetObject"]
    assert read["Resource"] == f"arn:aws:s3:::{backend['bucket']}/{backend['key']}"


def test_plan_role_trust_names_the_plan_environment_of_the_workflow() -> None:
    (statement,) = _statements(PLAN_ROLE_TRUST)
    subject = statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    job_environment = the_plan_job()["environment"]
    assert job_environment == "${{ inputs.env }}-plan"
    assert subject == "repo:${GITHUB_REPOSITORY}:environment:${ENV}-plan"
    aud = statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:aud"]
    assert aud == "sts.amazonaws.com"
