"""Rules: template references that resolve."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ops.preflight.finding import Finding, When
from ops.preflight.model import NON_RESOURCE_ROOTS, Model
from ops.preflight.rules import per_stack, rule

# An unescaped template sequence: `${...}` or `%{...}` not preceded by its escape character.
TEMPLATE = re.compile(r"(?<!\$)\$\{([^}]*)\}|(?<!%)%\{")
TRAVERSAL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_*-]+|\[[^\]]*\])*")


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def unresolved(text: str, declared: set[tuple[bool, str, str]]) -> list[str]:
    """The template sequences in `text` Terraform cannot evaluate against this stack."""
    problems = []
    for match in TEMPLATE.finditer(text):
        expression = match.group(1)
        if expression is None:
            problems.append("%{ (a template directive)")
            continue
        expression = expression.strip()
        if not TRAVERSAL.fullmatch(expression):
            continue  # a function call or operator: left to Terraform
        parts = expression.split(".")
        if parts[0] in NON_RESOURCE_ROOTS:
            continue
        is_data = parts[0] == "data"
        parts = parts[1:] if is_data else parts
        if len(parts) < 2 or (is_data, parts[0], parts[1].split("[")[0]) not in declared:
            problems.append("${" + expression + "}")
    return problems


@rule(
    "references-resolve",
    "every unescaped ${...} names a resource or data source the stack declares, and no "
    "unescaped %{ directive appears",
    "Terraform evaluates every JSON string as a template: 'Reference to undeclared resource' / "
    "'Invalid reference' at plan (https://developer.hashicorp.com/terraform/language/syntax/"
    "json#expression-mapping); literal text must be escaped as $${ and %%{",
)
@per_stack
def _references(model: Model) -> Iterator[Finding]:
    document = model.stack.document
    declared = {
        (kind == "data", type_, name)
        for kind in ("resource", "data")
        for type_, bodies in (document.get(kind) or {}).items()
        for name in bodies
    }
    for kind in ("resource", "data"):
        for type_, bodies in (document.get(kind) or {}).items():
            for name, body in bodies.items():
                for text in strings({k: v for k, v in body.items() if k != "//"}):
                    for problem in unresolved(text, declared):
                        yield model.finding(
                            "references-resolve",
                            type_,
                            name,
                            When.PLAN,
                            f"{problem} is not a reference Terraform can resolve here",
                            "declare what it references, or escape literal text as $${ / %%{",
                        )
