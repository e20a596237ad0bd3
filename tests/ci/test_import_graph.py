"""No import cycles between the project's modules at run time: module-level imports and
imports inside functions count; imports under `if TYPE_CHECKING:` (annotations only) do not,
except in envs/, which has no cycle even counting those."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.constants import PACKAGES, ROOT


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, *, annotations: bool = False) -> set[str]:
    """Every module name one module's source imports (`from a.b import c` names a.b and a.b.c);
    imports under `if TYPE_CHECKING:` only with `annotations`."""
    tree = ast.parse(source)
    type_only = {
        id(inner)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for inner in ast.walk(block)
    }
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only and not annotations:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update([node.module, *(f"{node.module}.{a.name}" for a in node.names)])
    return names


def import_graph(*, annotations: bool = False) -> dict[str, set[str]]:
    """Project module -> the project modules it imports (with `annotations`, also those it
    imports for type checking only)."""
    files = [ROOT / "main.py", *(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))]
    modules = {_module_name(path): path for path in files}
    return {
        name: {
            target
            for target in imported(path.read_text(), annotations=annotations)
            if target in modules and target != name
        }
        for name, path in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_project_has_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_envs_has_no_import_cycles_even_in_annotations() -> None:
    """The config package is layered: common -> the models by concern -> the view protocol ->
    the cross-concern checks (names, crosschecks, egress) -> environment -> the loader. No
    module of it imports, even under `if TYPE_CHECKING:`, one that imports it back."""
    graph = import_graph(annotations=True)
    envs = {name: {t for t in targets if t.startswith("envs")} for name, targets in graph.items()}
    assert (
        cycles({name: targets for name, targets in envs.items() if name.startswith("envs")}) == []
    )


def test_annotation_imports_count_only_when_asked() -> None:
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from envs.schema import x\n"
    assert "envs.schema" not in imported(source)
    assert "envs.schema" in imported(source, annotations=True)


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
