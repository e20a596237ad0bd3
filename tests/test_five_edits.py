"""Proof that the invariant tests hold for a user's valid changes: copy the project, apply
the five edits of issue #10 (tests/five_edits.py) and run the invariant tests on the copy.

Marked `five_edits` (a second synth, about a minute): `make test` runs it after the main
suite (`pytest -m five_edits`); plain `pytest` deselects it (pyproject addopts).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.five_edits import apply
from tests.project_copy import ROOT, project_copy

NOT_COPIED = {".git", "cdktf.out", "node_modules", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


@pytest.mark.five_edits
def test_invariants_hold_after_the_five_edits(tmp_path: Path) -> None:
    copy = project_copy(tmp_path)
    # Everything else the invariant tests' modules read when collected (docs, workflows, ...).
    copied = {path.name for path in copy.iterdir()}
    for extra in sorted(ROOT.iterdir()):
        if extra.name in copied | NOT_COPIED or extra.name.startswith(".venv"):
            continue
        if extra.is_dir():
            shutil.copytree(extra, copy / extra.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(extra, copy)
    # checkov runs from the project's own venv (tests/stacks/test_policy_scan.py): link it.
    if (ROOT / ".venv-checkov").exists():
        (copy / ".venv-checkov").symlink_to((ROOT / ".venv-checkov").resolve())
    apply(copy)
    check = subprocess.run(
        [sys.executable, "main.py", "--check"], cwd=copy, capture_output=True, text=True
    )
    assert check.stdout == "configuration valid: dev, stg, prod, qa\n", check.stderr
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-rA", "-m", "invariant and not five_edits"],
        cwd=copy,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "[qa]" in result.stdout, "the invariants did not run over the added qa environment"
