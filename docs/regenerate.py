"""Rewrite the README's generated parts: the configuration reference and the embedded dev diagram.

`make docs` runs it after `python -m ops diagram --out docs/diagrams` (which needs a synth);
tests/docs/test_generated.py compares the README with `spliced()` and says to run
`make docs` on drift.

    .venv/bin/python docs/regenerate.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DEV_DIAGRAM = ROOT / "docs" / "diagrams" / "dev.md"
REFERENCE = ("<!-- reference:start -->\n", "<!-- reference:end -->")
DIAGRAM = ("<!-- diagram:dev:start -->\n", "\n<!-- diagram:dev:end -->")


def _replace(text: str, markers: tuple[str, str], body: str) -> str:
    start = text.index(markers[0]) + len(markers[0])
    return text[:start] + body + text[text.index(markers[1], start) :]


def spliced(readme: str, reference: str, diagram_page: str) -> str:
    """`readme` with the reference block set to `reference` and the dev diagram block set to
    the mermaid fence of `diagram_page` (docs/diagrams/dev.md)."""
    fence = diagram_page[diagram_page.index("```mermaid") : diagram_page.rindex("```") + 3]
    return _replace(_replace(readme, REFERENCE, reference.strip() + "\n"), DIAGRAM, fence)


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from envs.schema.reference import render

    text = spliced(README.read_text(), render(), DEV_DIAGRAM.read_text())
    README.write_text(text)
    print(f"wrote {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
