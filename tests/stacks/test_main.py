"""The user's entry point: `python main.py`. Bad input exits 2 with a clear message, no
traceback, and leaves an existing cdktf.out/ byte-for-byte untouched; good input swaps the new
output in whole."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import main
from envs import DEFAULT_ENVIRONMENTS
from tests.project_copy import ROOT, project_copy, snapshot


def test_bad_config_exits_2_with_message_and_keeps_old_output(tmp_path: Path) -> None:
    project = project_copy(tmp_path)
    dev_file = project / "envs" / "dev.py"
    dev_file.write_text(dev_file.read_text().replace('"nat_mode": "single"', '"nat_mode": "dual"'))
    existing = project / "cdktf.out" / "stacks" / "dev"
    existing.mkdir(parents=True)
    (existing / "cdk.tf.json").write_text('{"previous": "synth"}')
    before = snapshot(project / "cdktf.out")

    result = subprocess.run(
        [sys.executable, "main.py"], cwd=project, capture_output=True, text=True, check=False
    )

    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.splitlines() == [
        "configuration rejected (1 problem):",
        "  - envs/dev.py: network.nat_mode: Input should be 'none', 'single' or 'per_az' "
        "(got 'dual')",
    ]
    assert snapshot(project / "cdktf.out") == before
    assert sorted(p.name for p in project.iterdir()) == [
        "cdktf.out",
        "envs",
        "main.py",
        "modules",
        "ops",
        "stacks",
    ]


def test_unknown_environment_on_the_command_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "main.py", "--env", "no-such-env"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    known = ", ".join(DEFAULT_ENVIRONMENTS)
    assert f"environment 'no-such-env' has no file; known environments: {known}" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_validates_without_synthesizing(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--check", "--outdir", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == f"configuration valid: {', '.join(DEFAULT_ENVIRONMENTS)}"
    assert not (tmp_path / "out").exists()


def test_synth_replaces_output_whole(tmp_path: Path, synthesized: object) -> None:
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / "retired-env").mkdir(parents=True)
    assert main.main(["--env", "dev", "--outdir", str(outdir)]) == 0
    assert sorted(p.name for p in (outdir / "stacks").iterdir()) == ["dev", "state-bootstrap"]
    assert (outdir / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def test_failed_synth_leaves_previous_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, synthesized: object
) -> None:
    import stacks.app

    outdir = tmp_path / "cdktf.out"
    outdir.mkdir()
    (outdir / "manifest.json").write_text("previous")

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("synth failed half-way")

    monkeypatch.setattr(stacks.app, "build_app", explode)
    with pytest.raises(RuntimeError):
        main.main(["--env", "dev", "--outdir", str(outdir)])
    assert snapshot(outdir) == {"manifest.json": b"previous"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


@pytest.mark.parametrize(
    "dev_file,expected",
    [
        (
            "OVERIDES = {}\n",
            "envs/dev.py: OVERRIDES: not defined; add OVERRIDES = {\"name\": 'dev', ...} "
            "(the settings that differ from envs/base.py)",
        ),
        (
            "OVERRIDES = ['dev']\n",
            "envs/dev.py: OVERRIDES: expected a dict of settings, got list (['dev']); write "
            'OVERRIDES = {"name": ..., ...}',
        ),
        (
            "OVERRIDES = {\n",
            "envs/dev.py:1: not valid Python: '{' was never closed; fix the syntax",
        ),
    ],
)
def test_broken_env_file_is_a_config_error(tmp_path: Path, dev_file: str, expected: str) -> None:
    project = project_copy(tmp_path)
    (project / "envs" / "dev.py").write_text(dev_file)
    result = subprocess.run(
        [sys.executable, "main.py", "--check"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"  - {expected}" in result.stderr.splitlines()


def test_an_environment_needs_a_valid_promotion_source(tmp_path: Path) -> None:
    """prod's stack scopes its release policy to stg's region and account (release.promote_from),
    so `--env prod` validates stg too; dev promotes from nothing and does not."""
    project = project_copy(tmp_path)
    (project / "envs" / "stg.py").write_text("OVERRIDES = ['stg']\n")
    prod = subprocess.run(
        [sys.executable, "main.py", "--check", "--env", "prod"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert prod.returncode == 2, prod.stdout + prod.stderr
    assert "Traceback" not in prod.stderr
    assert any(line.startswith("  - envs/stg.py: OVERRIDES:") for line in prod.stderr.splitlines())
    dev = subprocess.run(
        [sys.executable, "main.py", "--check", "--env", "dev"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert dev.returncode == 0, dev.stderr
    assert dev.stdout.strip() == "configuration valid: dev"


# --- the output directory is replaced whole: never one that is not a synth output ------------


def run_main(project: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    "outdir,how",
    [
        (".", "flag"),
        ("..", "flag"),
        ("..", "variable"),
        ("envs", "flag"),  # exists, holds files that are not synth output
        ("notes", "variable"),
    ],
)
def test_dangerous_outdir_is_refused_and_nothing_is_deleted(
    tmp_path: Path, outdir: str, how: str
) -> None:
    project = project_copy(tmp_path)
    (project / "notes").mkdir()
    (project / "notes" / "todo.txt").write_text("keep me")
    (project / ".git").mkdir()
    before = snapshot(tmp_path, skip="__pycache__")
    if how == "flag":
        result = run_main(project, "--outdir", outdir)
        source = "--outdir"
    else:
        result = run_main(project, env={"CDKTF_OUTDIR": outdir})
        source = "$CDKTF_OUTDIR"
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (problem,) = result.stderr.splitlines()[1:]
    assert problem.startswith(f"  - {source}: {outdir} ")
    assert "fix:" in problem
    assert snapshot(tmp_path, skip="__pycache__") == before  # bytecode caches are not ours


def test_outdir_rules() -> None:
    assert main.outdir_problem(ROOT, "--outdir") is not None
    assert main.outdir_problem(ROOT.parent, "--outdir") is not None
    assert main.outdir_problem(Path("/"), "--outdir") is not None
    assert main.outdir_problem(ROOT / "cdktf.out-elsewhere", "--outdir") is None  # absent


def test_interrupt_between_the_renames_leaves_a_whole_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, synthesized: object
) -> None:
    """Ctrl-C right after the old output is moved aside waits until the new one is in."""
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks").mkdir(parents=True)
    (outdir / "manifest.json").write_text("{}")
    real_rename = Path.rename
    renames: list[str] = []

    def rename_then_interrupt(self: Path, target: Any) -> Any:
        result = real_rename(self, target)
        renames.append(self.name)
        if len(renames) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # between the two renames
        return result

    monkeypatch.setattr(Path, "rename", rename_then_interrupt)
    # Python's own Ctrl-C handler, whatever the session inherited (a shell's background job
    # starts with SIGINT ignored, and then Python never installs it).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            main.main(["--env", "dev", "--outdir", str(outdir)])
    finally:
        signal.signal(signal.SIGINT, previous)
    assert renames == ["cdktf.out", f"cdktf.out.tmp-{os.getpid()}"]
    assert json.loads((outdir / "manifest.json").read_text())["stacks"].keys() == {
        "dev",
        "state-bootstrap",
    }
    assert (outdir / "stacks" / "dev" / "cdk.tf.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def test_failure_inside_app_synth_keeps_the_old_output_and_restores_a_killed_swap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, synthesized: object
) -> None:
    """A synth that dies half-way (files written, then an error) changes nothing; what a
    killed run left (its staging dir, the output it had moved aside) is cleaned or restored."""
    import stacks.app

    outdir = tmp_path / "cdktf.out"
    dead = 2**22 + 17  # above Linux's default pid_max: no such process
    killed_retired = tmp_path / f"cdktf.out.old-{dead}"
    (killed_retired / "stacks" / "stg").mkdir(parents=True)
    (killed_retired / "manifest.json").write_text('{"stacks": {}}')
    (killed_retired / "stacks" / "stg" / "cdk.tf.json").write_text('{"previous": 1}')
    (tmp_path / f"cdktf.out.tmp-{dead}" / "stacks").mkdir(parents=True)
    real_build_app = stacks.app.build_app

    class HalfWay:
        def __init__(self, app: Any) -> None:
            self.app = app

        def synth(self) -> None:
            self.app.synth()  # every file written to staging ...
            raise RuntimeError("synth failed half-way")  # ... then the run fails

    def build_app(*args: Any, **kwargs: Any) -> Any:
        app, stacks_, bootstrap = real_build_app(*args, **kwargs)
        return HalfWay(app), stacks_, bootstrap

    monkeypatch.setattr(stacks.app, "build_app", build_app)
    with pytest.raises(RuntimeError, match="half-way"):
        main.main(["--env", "dev", "--outdir", str(outdir)])
    assert snapshot(outdir) == {
        "manifest.json": b'{"stacks": {}}',
        "stacks/stg/cdk.tf.json": b'{"previous": 1}',
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def test_subset_synth_keeps_the_other_environments(tmp_path: Path, synthesized: object) -> None:
    outdir = tmp_path / "cdktf.out"
    assert main.main(["--env", "stg", "--outdir", str(outdir)]) == 0
    stg_before = snapshot(outdir / "stacks" / "stg")
    assert main.main(["--env", "dev", "--outdir", str(outdir)]) == 0
    assert sorted(p.name for p in (outdir / "stacks").iterdir()) == [
        "dev",
        "state-bootstrap",
        "stg",
    ]
    assert snapshot(outdir / "stacks" / "stg") == stg_before
    manifest = json.loads((outdir / "manifest.json").read_text())
    assert sorted(manifest["stacks"]) == ["dev", "state-bootstrap", "stg"]
    for name, entry in manifest["stacks"].items():
        assert (outdir / entry["synthesizedStackPath"]).is_file(), name
    # The bootstrap stack still covers the kept environment's state bucket.
    bootstrap = json.loads((outdir / "stacks" / "state-bootstrap" / "cdk.tf.json").read_text())
    stg = json.loads((outdir / "stacks" / "stg" / "cdk.tf.json").read_text())
    buckets = {b["bucket"] for b in bootstrap["resource"]["aws_s3_bucket"].values()}
    assert stg["terraform"]["backend"]["s3"]["bucket"] in buckets


def test_ops_commands_read_cdktf_outdir_like_main(synth_outdir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "CDKTF_OUTDIR": str(synth_outdir)}
    result = subprocess.run(
        [sys.executable, "-m", "ops", "cost", "--env", "nat-none"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("nat-none (ap-northeast-1)")
    empty = {**os.environ, "CDKTF_OUTDIR": str(tmp_path / "nothing")}
    result = subprocess.run(
        [sys.executable, "-m", "ops", "cost"],
        cwd=ROOT,
        env=empty,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert str(tmp_path / "nothing") in result.stderr


def test_synth_processes_follow_free_cpus_where_affinity_is_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """macOS has no os.sched_getaffinity: the CPU count decides, never a traceback."""
    monkeypatch.delenv(main.PROCESSES_VARIABLE, raising=False)
    monkeypatch.delattr(main.os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(main.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(main.os, "getloadavg", lambda: (0.2, 0.0, 0.0))
    assert main.synth_processes() == 2
    monkeypatch.setattr(main.os, "getloadavg", lambda: (1.5, 0.0, 0.0))
    assert main.synth_processes() == 1
    monkeypatch.setenv(main.PROCESSES_VARIABLE, "2")
    assert main.synth_processes() == 2
    monkeypatch.delattr(main.os, "fork")  # Windows
    assert main.synth_processes() == 1
