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

# The invariants: properties any valid configuration keeps, over envs.DEFAULT_ENVIRONMENTS.
INVARIANTS = (
    "tests/stacks/test_unguarded.py",
    "tests/stacks/test_least_privilege.py::test_no_allow_statement_has_a_wildcard_action_or_negation",
    "tests/stacks/test_least_privilege.py::test_resource_star_only_for_actions_aws_cannot_scope",
    "tests/stacks/test_protection.py::test_every_log_group_is_encrypted_with_the_env_key",
    "tests/constructs/test_network.py::test_default_security_group_has_no_rules",
    "tests/constructs/test_state_bucket.py::test_default_tags_on_provider",
    "tests/config/test_boundaries.py",
)


@pytest.mark.five_edits
def test_invariants_hold_after_the_five_edits(tmp_path: Path) -> None:
    copy = project_copy(tmp_path)
    for extra in ("tests", "policy"):
        shutil.copytree(ROOT / extra, copy / extra, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy)
    apply(copy)
    check = subprocess.run(
        [sys.executable, "main.py", "--check"], cwd=copy, capture_output=True, text=True
    )
    assert check.stdout == "configuration valid: dev, stg, prod, qa\n", check.stderr
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-rA", "-m", "not five_edits", *INVARIANTS],
        cwd=copy,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "[qa]" in result.stdout, "the invariants did not run over the added qa environment"
