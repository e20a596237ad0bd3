"""The user's entry point: `python main.py`. Bad input exits 2 with a clear message, no
traceback, and leaves an existing cdktf.out/ byte-for-byte untouched; good input swaps the new
output in whole."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import main
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
        [sys.executable, "main.py", "--env", "qa"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "environment 'qa' has no file; known environments: dev, stg, prod" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_validates_without_synthesizing(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--check", "--outdir", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "configuration valid: dev, stg, prod"
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
    (outdir / "keep.txt").write_text("previous")

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("synth failed half-way")

    monkeypatch.setattr(stacks.app, "build_app", explode)
    with pytest.raises(RuntimeError):
        main.main(["--env", "dev", "--outdir", str(outdir)])
    assert snapshot(outdir) == {"keep.txt": b"previous"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


@pytest.mark.parametrize(
    "dev_file,expected",
    [
        ("OVERIDES = {}\n", "envs/dev.py: defines no OVERRIDES dict (the settings of 'dev')"),
        ("OVERRIDES = ['dev']\n", "envs/dev.py: OVERRIDES must be a dict of settings, got list"),
        ("OVERRIDES = {\n", "envs/dev.py:1: not valid Python: '{' was never closed"),
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
