"""A copy of the project's code (not its venv) that a test may break, and byte snapshots."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.constants import PACKAGES, ROOT

__all__ = ["ROOT", "example_copy", "full_copy", "project_copy", "snapshot", "use_examples"]


def project_copy(parent: Path) -> Path:
    """Copy main.py and the packages `python main.py` needs into `<parent>/project`."""
    copy = parent / "project"
    copy.mkdir()
    shutil.copy(ROOT / "main.py", copy)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return copy


EXAMPLE_ENVS = ROOT / "tests" / "example_envs"
EXAMPLE_NAMES = ("dev", "stg", "prod")


def example_copy(parent: Path) -> Path:
    """`project_copy` with the frozen example (tests/example_envs) as its environments instead
    of the user's: tests that assert exact messages or output run on config the tests own."""
    copy = project_copy(parent)
    use_examples(copy)
    return copy


def use_examples(copy: Path) -> None:
    """Replace the environment files of a project copy with the frozen example's."""
    envs = copy / "envs"
    for path in envs.glob("*.py"):
        if path.name != "__init__.py":
            path.unlink()
    for name in ("base", *EXAMPLE_NAMES):
        shutil.copy(EXAMPLE_ENVS / f"{name}.py", envs / f"{name}.py")
    init = envs / "__init__.py"
    listed = "DEFAULT_ENVIRONMENTS = (" + ", ".join(f'"{name}"' for name in EXAMPLE_NAMES) + ")"
    text, count = re.subn(
        r"^DEFAULT_ENVIRONMENTS = \([^)]*\)$", listed, init.read_text(), flags=re.M
    )
    assert count == 1, "envs/__init__.py no longer defines DEFAULT_ENVIRONMENTS on one line"
    init.write_text(text)


def snapshot(directory: Path, *, skip: str | None = None) -> dict[str, bytes]:
    """Every file under `directory` (relative path -> bytes), leaving out directories named
    `skip` (e.g. `__pycache__`)."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in directory.rglob("*")
        if p.is_file() and (skip is None or skip not in p.relative_to(directory).parts)
    }


def full_copy(parent: Path, *, examples: bool = False) -> Path:
    """`project_copy` plus what `make` needs: the Makefile, cdktf.json, the lock files (their
    times kept, so make sees the venvs as up to date) and `.venv` (and `.venv-checkov`, if
    built) linked, not copied. `examples`: on the frozen example envs (`use_examples`)."""
    copy = example_copy(parent) if examples else project_copy(parent)
    for path in (ROOT / "Makefile", ROOT / "cdktf.json", *ROOT.glob("requirements*.txt")):
        shutil.copy2(path, copy / path.name)
    for venv in (".venv", ".venv-checkov"):
        if (ROOT / venv).exists():
            (copy / venv).symlink_to((ROOT / venv).resolve())
    # The README's examples that read files (ops import-compose's compose file).
    shutil.copytree(ROOT / "docs" / "examples", copy / "docs" / "examples")
    return copy
