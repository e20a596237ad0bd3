"""The README and the committed diagrams stay true to the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from envs import DEFAULT_ENVIRONMENTS
from envs.reference import render

ROOT = Path(__file__).resolve().parent.parent


def test_readme_opens_with_the_two_commands() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    fence = lines.index("```sh")
    commands = lines[fence + 1 : lines.index("```", fence + 1)]
    assert [line.split("#")[0].strip() for line in commands] == ["make synth", "make test"]


def test_configuration_reference_matches_the_models() -> None:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- reference:start -->") + len("<!-- reference:start -->\n")
    block = readme[start : readme.index("<!-- reference:end -->")]
    assert block.strip() == render().strip(), "run: python -m envs.reference, paste into README"


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
            "--env",
            "dev",
            "--env",
            "stg",
            "--env",
            "prod",
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


def test_readme_embeds_the_current_dev_diagram() -> None:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- diagram:dev:start -->\n") + len("<!-- diagram:dev:start -->\n")
    embedded = readme[start : readme.index("\n<!-- diagram:dev:end -->")]
    diagram = (ROOT / "docs" / "diagrams" / "dev.md").read_text()
    assert embedded == diagram[diagram.index("```mermaid") : diagram.rindex("```") + 3]
