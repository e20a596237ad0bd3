"""checkov over the synthesized default stacks: no failure outside policy/checkov-allowlist.yaml.

One checkov run per session covers dev, stg, prod and state-bootstrap: their `cdk.tf.json` files
are copied into one scan directory (the variants stay out) and scanned with
`--framework terraform_json`. Scanning them together gives the same per-stack results as four
separate runs, at a quarter of the cost. checkov runs offline (`--skip-download`,
`BC_SKIP_MAPPING`), so it never waits on the network.

    python -m tests.stacks.test_policy_scan [CDKTF_OUT]   # per-env counts; synthesizes when no dir
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.background import SHARED, Job
from tests.constants import DEFAULT_STACKS, ROOT

ALLOWLIST = ROOT / "policy" / "checkov-allowlist.yaml"
# checkov lives in its own venv (requirements-checkov.in says why), which `make test` builds;
# CHECKOV overrides the path.
CHECKOV = Path(os.environ.get("CHECKOV") or ROOT / ".venv-checkov" / "bin" / "checkov")
CHECKOV_LOCK = ROOT / "requirements-checkov.txt"
CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
ENTRY_KEYS = {"id", "name", "envs", "reason"}
OPTIONAL_KEYS = {"paths"}
TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Allowed:
    """One allowlist entry: a check accepted as failing in the listed environments."""

    id: str
    name: str
    envs: tuple[str, ...]
    reason: str
    paths: tuple[str, ...] = ()
    """Construct-path globs (without the stack name) the entry is limited to; empty: any."""

    def covers(self, finding: Finding) -> bool:
        if finding.env not in self.envs or finding.check_id != self.id:
            return False
        construct = finding.path.partition("/")[2]
        return not self.paths or any(fnmatch.fnmatchcase(construct, p) for p in self.paths)


@dataclass(frozen=True)
class Finding:
    """One checkov result, located in the synthesized JSON and in the construct tree."""

    check_id: str
    check_name: str
    env: str
    address: str
    path: str

    def describe(self) -> str:
        return f"{self.check_id} {self.check_name!r} [{self.env}] {self.address} (at {self.path})"


@dataclass
class EnvResult:
    """checkov's verdicts for one stack."""

    env: str
    passed: list[Finding] = field(default_factory=list)
    failed: list[Finding] = field(default_factory=list)


def load_allowlist(path: Path = ALLOWLIST) -> list[Allowed]:
    """Parse the allowlist; raises ValueError naming every malformed entry."""
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict) or set(raw) != {"checks"} or not isinstance(raw["checks"], list):
        raise ValueError(f"{path}: expected a mapping with one key, `checks`, holding a list")
    problems: list[str] = []
    entries: list[Allowed] = []
    for index, item in enumerate(raw["checks"]):
        where = f"checks[{index}]"
        if not isinstance(item, dict) or not ENTRY_KEYS <= set(item) <= ENTRY_KEYS | OPTIONAL_KEYS:
            keys = sorted(item) if isinstance(item, dict) else type(item).__name__
            problems.append(
                f"{where}: keys must be {sorted(ENTRY_KEYS)} (+ optional {sorted(OPTIONAL_KEYS)}),"
                f" got {keys}"
            )
            continue
        paths = item.get("paths", [])
        if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
            problems.append(f"{where}: paths must be a list of construct-path globs")
            paths = []
        where = f"{where} ({item['id']})"
        envs = item["envs"]
        if not isinstance(item["id"], str) or not CHECK_ID.match(item["id"]):
            problems.append(f"{where}: id must look like CKV_AWS_123 or CKV2_AWS_12")
        if not isinstance(item["name"], str) or not item["name"].strip():
            problems.append(f"{where}: name must be checkov's check name")
        if (
            not isinstance(envs, list)
            or not envs
            or len(set(envs)) != len(envs)
            or not set(envs) <= set(DEFAULT_STACKS)
        ):
            problems.append(f"{where}: envs must be distinct values from {list(DEFAULT_STACKS)}")
        if not isinstance(item["reason"], str) or not item["reason"].strip():
            problems.append(f"{where}: reason must be a non-empty string")
        entries.append(
            Allowed(item["id"], item["name"], tuple(envs or ()), item["reason"], tuple(paths))
        )
    ids = [entry.id for entry in entries]
    problems += [
        f"{id_}: listed more than once" for id_ in sorted({i for i in ids if ids.count(i) > 1})
    ]
    if problems:
        raise ValueError(f"{path} is malformed:\n  " + "\n  ".join(problems))
    return entries


def start_checkov(stacks_dir: Path, job: Job) -> None:
    """Start one offline checkov run over the default stacks under `stacks_dir`, once per test
    run (the session starts it as soon as the synth is done: tests/conftest.py);
    `finish_checkov` reads it."""
    scan_dir = job.directory / "stacks"

    def copy_stacks() -> None:
        for env in DEFAULT_STACKS:
            (scan_dir / env).mkdir(parents=True, exist_ok=True)
            shutil.copy2(stacks_dir / env / "cdk.tf.json", scan_dir / env / "cdk.tf.json")

    env_vars = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    env_vars.pop("BC_API_KEY", None)  # never upload results
    command = [str(CHECKOV), "-d", str(scan_dir), "--framework", "terraform_json"]
    command += ["-o", "json", "--compact", "--skip-download"]
    # cwd: keeps any .checkov.yaml in the repo or cwd out of the run
    job.start(command, cwd=job.directory, env=env_vars, prepare=copy_stacks)


def finish_checkov(job: Job) -> dict[str, Any]:
    """Wait for the run `start_checkov` began; its terraform_json report."""
    returncode = job.wait(TIMEOUT_SECONDS)
    stdout = job.stdout.read_text()
    try:
        output = json.loads(stdout)
    except json.JSONDecodeError as error:
        stderr = job.stderr.read_text()[-2000:]
        raise RuntimeError(f"checkov exited {returncode}: {stderr}") from error
    reports = output if isinstance(output, list) else [output]
    for report in reports:
        if report.get("check_type") == "terraform_json":
            return dict(report)
    raise RuntimeError(f"checkov produced no terraform_json report: {stdout[:500]}")


def run_checkov(stacks_dir: Path, workdir: Path) -> dict[str, Any]:
    """Scan the default stacks under `stacks_dir` in one offline checkov run; its JSON report."""
    job = Job(workdir, "checkov")
    start_checkov(stacks_dir, job)
    return finish_checkov(job)


def _addresses(stack: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Logical name -> [(Terraform address, construct path)] for every resource and data source."""
    index: dict[str, list[tuple[str, str]]] = {}
    for block, prefix in (("resource", ""), ("data", "data.")):
        for type_, bodies in stack.get(block, {}).items():
            for name, body in bodies.items():
                path = body.get("//", {}).get("metadata", {}).get("path", "?")
                index.setdefault(name, []).append((f"{prefix}{type_}.{name}", path))
    return index


def _locate(record_resource: str, index: dict[str, list[tuple[str, str]]]) -> tuple[str, str]:
    """Terraform address and construct path for checkov's `resource` field.

    terraform_json reports Python checks as `resource.<name>` (the type is lost) and graph
    checks as `<type>.<name>`; cdktf logical names are unique per stack, so the name decides.
    """
    kind, _, name = record_resource.partition(".")
    candidates = index.get(name, [])
    if kind not in ("resource", "data"):
        candidates = [c for c in candidates if c[0] == record_resource] or candidates
    if len(candidates) == 1:
        return candidates[0]
    if record_resource.startswith("provider."):
        return record_resource, "(provider block, no construct)"
    return record_resource, "?"


def scan(stacks_dir: Path, report: dict[str, Any]) -> dict[str, EnvResult]:
    """Per-env passed and failed findings of a checkov report over the default stacks."""
    if report["results"].get("parsing_errors"):
        raise RuntimeError(f"checkov could not parse: {report['results']['parsing_errors']}")
    indexes = {
        env: _addresses(json.loads((stacks_dir / env / "cdk.tf.json").read_text()))
        for env in DEFAULT_STACKS
    }
    results = {env: EnvResult(env) for env in DEFAULT_STACKS}
    for key in ("passed_checks", "failed_checks"):
        for record in report["results"].get(key, []):
            env = Path(record["file_abs_path"]).parent.name
            address, path = _locate(record["resource"], indexes[env])
            finding = Finding(record["check_id"], record["check_name"], env, address, path)
            bucket = results[env].passed if key == "passed_checks" else results[env].failed
            bucket.append(finding)
    return results


def is_allowed(allowlist: list[Allowed], finding: Finding) -> bool:
    return any(entry.covers(finding) for entry in allowlist)


def counts_table(results: dict[str, EnvResult], allowlist: list[Allowed]) -> str:
    """Per-env passed / failed / allowlisted / unexpected counts as an aligned text table."""
    rows = [("env", "passed", "failed", "allowlisted", "unexpected")]
    for env, result in results.items():
        allowed = sum(is_allowed(allowlist, f) for f in result.failed)
        failed = len(result.failed)
        rows.append(
            (env, str(len(result.passed)), str(failed), str(allowed), str(failed - allowed))
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


@pytest.fixture(scope="session")
def allowlist() -> list[Allowed]:
    return load_allowlist()


@pytest.fixture(scope="session")
def checkov_report(synth_outdir: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The run's checkov report (started in the background right after the synth; once per
    run, whichever xdist worker gets there first)."""
    job = Job(request.config.stash[SHARED], "checkov")
    start_checkov(synth_outdir / "stacks", job)  # no-op when already started
    return finish_checkov(job)


@pytest.fixture(scope="session")
def scanned(synth_outdir: Path, checkov_report: dict[str, Any]) -> dict[str, EnvResult]:
    return scan(synth_outdir / "stacks", checkov_report)


def test_checkov_is_the_locked_release(checkov_report: dict[str, Any]) -> None:
    """The scan ran the checkov of requirements-checkov.txt, not whatever is on PATH."""
    (pinned,) = re.findall(r"^checkov==(\S+)", CHECKOV_LOCK.read_text(), re.MULTILINE)
    assert CHECKOV.is_file(), f"{CHECKOV} missing: `make test` builds .venv-checkov"
    version = checkov_report["summary"]["checkov_version"]
    assert version == pinned, f"{CHECKOV} is checkov {version}, the lock pins {pinned}"


def test_allowlist_is_well_formed() -> None:
    load_allowlist()


@pytest.mark.invariant
def test_every_default_stack_was_scanned(scanned: dict[str, EnvResult]) -> None:
    empty = [env for env, result in scanned.items() if not result.passed and not result.failed]
    assert not empty, f"checkov reported nothing for {empty}: did it read cdk.tf.json?"


def test_no_failures_outside_the_allowlist(
    scanned: dict[str, EnvResult], allowlist: list[Allowed]
) -> None:
    unexpected = [
        finding.describe()
        for env, result in scanned.items()
        for finding in result.failed
        if not is_allowed(allowlist, finding)
    ]
    assert not unexpected, (
        f"{len(unexpected)} checkov failure(s) not in {ALLOWLIST.relative_to(ROOT)}; fix the "
        "construct at the given path (or, with a reason, allowlist the check for that env):\n  "
        + "\n  ".join(sorted(unexpected))
    )


def test_allowlist_has_no_stale_entries(
    scanned: dict[str, EnvResult], allowlist: list[Allowed]
) -> None:
    stale = [
        f"{entry.id} ({entry.name}) no longer fails in {env} (within its paths): drop {env}"
        for entry in allowlist
        for env in entry.envs
        if not any(entry.covers(f) for f in scanned[env].failed)
    ]
    assert not stale, "stale allowlist entries:\n  " + "\n  ".join(stale)


def test_allowlist_names_match_checkov(
    scanned: dict[str, EnvResult], allowlist: list[Allowed]
) -> None:
    reported = {f.check_id: f.check_name for r in scanned.values() for f in (*r.passed, *r.failed)}
    wrong = [
        f"{entry.id}: allowlist says {entry.name!r}, checkov says {reported[entry.id]!r}"
        for entry in allowlist
        if entry.id in reported and reported[entry.id] != entry.name
    ]
    assert not wrong, "\n".join(wrong)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        if len(sys.argv) > 1:
            out = Path(sys.argv[1])
        else:
            from envs import load_environments
            from main import synthesize

            out = Path(tmp) / "cdktf.out"
            synthesize(load_environments(), out)
        report = run_checkov(out / "stacks", Path(tmp))
        print(counts_table(scan(out / "stacks", report), load_allowlist()))
