"""User text reaches Terraform literally: `${` and `%{` are escaped where config enters constructs.

Terraform evaluates every JSON string as a template: `${...}` is an interpolation and `%{...}`
a directive, so an environment value `price: ${amount}` or an IAM policy variable
`${aws:username}` would fail at plan ("Invalid reference") or, worse, evaluate an expression
the user never wrote. Terraform's escapes are `$${` and `%%{`
(https://developer.hashicorp.com/terraform/language/expressions/strings#escape-sequences-1;
JSON syntax evaluates strings the same way:
https://developer.hashicorp.com/terraform/language/syntax/json#expression-mapping).

`literal(config)` returns the config with every string escaped. `stacks/platform.py` and
`stacks/bootstrap.py` call it once on the config they receive, so every construct sees only
escaped text, and references the constructs create themselves stay live.
"""

from __future__ import annotations

from typing import TypeVar, cast

from pydantic import BaseModel

T = TypeVar("T")


def escape(text: str) -> str:
    """`${` -> `$${`, `%{` -> `%%{`: Terraform turns each back into the literal text."""
    return text.replace("${", "$${").replace("%{", "%%{")


def literal(value: T) -> T:
    """`value` with every string inside it (model fields, tuples, lists, dict keys and values)
    escaped; other values are returned as they are."""
    escaped: object
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        updates = {name: literal(getattr(value, name)) for name in fields}
        escaped = value.model_copy(update=updates)
    elif type(value) is str:  # enums subclass str but are fixed choices, never user text
        escaped = escape(str(value))
    elif isinstance(value, tuple):
        escaped = tuple(literal(item) for item in value)
    elif isinstance(value, list):
        escaped = [literal(item) for item in value]
    elif isinstance(value, dict):
        escaped = {literal(k): literal(v) for k, v in value.items()}
    else:
        escaped = value
    return cast(T, escaped)
