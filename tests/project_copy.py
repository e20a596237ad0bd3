"""A copy of the project's code (not its venv) that a test may break, and byte snapshots."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = ("envs", "modules", "ops", "stacks")


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


def snapshot(directory: Path, *, skip: str | None = None) -> dict[str, bytes]:
    """Every file under `directory` (relative path -> bytes), leaving out directories named
    `skip` (e.g. `__pycache__`)."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in directory.rglob("*")
        if p.is_file() and (skip is None or skip not in p.relative_to(directory).parts)
    }


def full_copy(parent: Path) -> Path:
    """`project_copy` plus what `make` needs: the Makefile, cdktf.json, requirements.txt (its
    time kept, so make sees the shared venv as up to date) and `.venv` linked, not copied."""
    copy = project_copy(parent)
    for name in ("Makefile", "cdktf.json", "requirements.txt"):
        shutil.copy2(ROOT / name, copy / name)
    (copy / ".venv").symlink_to((ROOT / ".venv").resolve())
    # The README's examples that read files (ops import-compose's compose file).
    shutil.copytree(ROOT / "docs" / "examples", copy / "docs" / "examples")
    return copy
