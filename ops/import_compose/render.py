"""Rendering the imported configuration as a Python module for envs/."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ops.import_compose.model import Imported


def _literal(value: Any, indent: int = 0, width: int = 100) -> str:
    """A Python literal formatted like ruff would (double quotes, trailing commas)."""
    flat = json.dumps(value).replace("true", "True").replace("false", "False")
    if not isinstance(value, dict | list) or indent + len(flat) <= width - 1:
        return _python(value)
    pad = " " * (indent + 4)
    if isinstance(value, dict):
        items = [
            f"{pad}{json.dumps(k)}: {_literal(v, indent + 4, width)}," for k, v in value.items()
        ]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    items = [f"{pad}{_literal(v, indent + 4, width)}," for v in value]
    return "[\n" + "\n".join(items) + "\n" + " " * indent + "]"


def _python(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_python(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_python(v) for v in value) + "]"
    if isinstance(value, bool):
        return repr(value)
    return json.dumps(value)


def render(imported: Imported, source: str, problems: Sequence[str]) -> str:
    lines = [
        f"# Imported from {source} by `python -m ops import-compose`.",
        '# Paste it over "services", "jobs", "buckets" and "file_systems" in envs/base.py; '
        "run `make check`.",
    ]
    if imported.notes:
        lines += ["#", f"# Not mapped or to do ({len(imported.notes)}):"]
        lines += [f"# - {note}" for note in imported.notes]
    if problems:
        lines += ["#", f"# `make check` would reject it ({len(problems)}):"]
        lines += [f"# - {problem}" for problem in problems]
    lines.append("IMPORTED = " + _literal(imported.as_overrides(), width=100 - len("IMPORTED = ")))
    return "\n".join(lines) + "\n"
