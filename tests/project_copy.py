"""A copy of the project's code (not its venv) that a test may break, and byte snapshots."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = ("envs", "modules", "stacks", "ops")  # ops: the release contract the synth shares


def project_copy(parent: Path) -> Path:
    """Copy main.py and the packages `python main.py` needs into `<parent>/project`."""
    copy = parent / "project"
    copy.mkdir()
    shutil.copy(ROOT / "main.py", copy)
    for package in CODE:
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return copy


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` (relative path -> bytes)."""
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }
