"""Render the configuration reference (every field, its type, default and meaning) as Markdown.

    python -m envs.schema.reference        # prints the tables the README embeds

The README's reference section is generated from the models, and a test keeps them in sync.
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from envs.schema.common import Between
from envs.schema.environment import EnvironmentConfig


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:  # StrictInt, StrictBool: the type without its strictness
        bounds = [meta for meta in args[1:] if isinstance(meta, Between)]
        return _type_name(args[0]) + "".join(f" ({b})" for b in bounds)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in args)
    if origin is tuple:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"map of {_type_name(args[0])} to {_type_name(args[1])}"
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " \\| ".join(f"`{member.value}`" for member in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return getattr(annotation, "__name__", str(annotation))


def _field_type(field: FieldInfo) -> str:
    """The field's type; a bounded integer with its range (`int (5-300)`)."""
    bounds = [meta for meta in field.metadata if isinstance(meta, Between)]
    return _type_name(field.annotation) + "".join(f" ({b})" for b in bounds)


def _default(field: Any) -> str:
    if field.is_required():
        return "**required**"
    value = field.default_factory() if field.default is PydanticUndefined else field.default
    if isinstance(value, BaseModel):
        return "(see table)"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, tuple):
        value = [v.value if isinstance(v, enum.Enum) else v for v in value]
        if any(isinstance(v, BaseModel) for v in value):
            return "(see envs)"
    return f"`{value!r}`".replace("|", "\\|")


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _nested_models(arg)]


def render(root: type[BaseModel] = EnvironmentConfig) -> str:
    """Markdown tables for `root` and every model reachable from it, in first-use order."""
    seen: list[type[BaseModel]] = []
    queue = [root]
    while queue:
        model = queue.pop(0)
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            queue.extend(_nested_models(field.annotation))
    sections = []
    for model in seen:
        doc = ((model.__doc__ or "").strip().splitlines() or [""])[0]
        rows = ["| field | type | default | meaning |", "|---|---|---|---|"]
        for name, field in model.model_fields.items():
            meaning = " ".join((field.description or "").split()).replace("|", "\\|")
            rows.append(f"| `{name}` | {_field_type(field)} | {_default(field)} | {meaning} |")
        sections.append(f"#### {model.__name__}\n\n{doc}\n\n" + "\n".join(rows))
    return "\n\n".join(sections) + "\n"


if __name__ == "__main__":
    print(render(), end="")
