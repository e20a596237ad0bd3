"""The README and the committed diagrams stay true to the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from docs.regenerate import spliced
from envs import DEFAULT_ENVIRONMENTS
from envs.schema.reference import render
from tests.constants import ROOT


def test_readme_opens_with_the_two_commands() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    fence = lines.index("```sh")
    commands = lines[fence + 1 : lines.index("```", fence + 1)]
    assert [line.split("#")[0].strip() for line in commands] == ["make synth", "make test"]


def test_readme_generated_parts_match_the_models_and_the_dev_diagram() -> None:
    """The configuration reference and the embedded dev diagram are what `make docs` writes."""
    readme = (ROOT / "README.md").read_text()
    expected = spliced(readme, render(), (ROOT / "docs" / "diagrams" / "dev.md").read_text())
    assert readme == expected, "README.md's generated parts are stale: run make docs"


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_committed_diagrams_match_the_synthesized_stacks(
    synth_outdir: Path, tmp_path: Path
) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ops",
            "diagram",
            "--outdir",
            str(synth_outdir),
            *(arg for env in DEFAULT_ENVIRONMENTS for arg in ("--env", env)),
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    for env in DEFAULT_ENVIRONMENTS:
        committed = (ROOT / "docs" / "diagrams" / f"{env}.md").read_text()
        assert committed == (tmp_path / f"{env}.md").read_text(), (
            f"docs/diagrams/{env}.md is stale: run make docs"
        )
