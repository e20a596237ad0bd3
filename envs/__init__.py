"""Environment configuration: load, merge over the shared base, validate.

`load_environments()` is the one entry point. It never imports the AWS provider, so config
mistakes are reported in well under a second and without a synth.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from envs.base import BASE
from envs.schema import EnvironmentConfig, NatMode

__all__ = [
    "DEFAULT_ENVIRONMENTS",
    "ConfigError",
    "EnvironmentConfig",
    "NatMode",
    "build_environment",
    "load_environments",
    "merge",
    "validate_together",
]

DEFAULT_ENVIRONMENTS = ("dev", "stg", "prod")
"""Environment files under `envs/`, in deployment order."""


class ConfigError(Exception):
    """A configuration the platform refuses, with one line per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))

    def render(self) -> str:
        count = len(self.problems)
        head = f"configuration rejected ({count} problem{'s' if count != 1 else ''}):"
        return "\n".join([head, *(f"  - {problem}" for problem in self.problems)])


def merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge `overrides` onto `base`: mappings merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _name_items(loc: tuple[Any, ...], data: Mapping[str, Any]) -> tuple[Any, ...]:
    """Replace list indexes with names where the env file gave a {name: settings} mapping."""
    if len(loc) > 1 and isinstance(loc[1], int) and isinstance(data.get(loc[0]), Mapping):
        names = list(data[loc[0]])
        if loc[1] < len(names):
            return (loc[0], names[loc[1]], *loc[2:])
    return loc


def _describe(error: Mapping[str, Any], data: Mapping[str, Any]) -> str:
    location = ".".join(str(part) for part in _name_items(tuple(error["loc"]), data))
    message = str(error["msg"])
    if error["type"] == "value_error":
        message = message.removeprefix("Value error, ")
        # Model-level validators already name their field inside the message.
        return f"{location}: {message}" if location else message
    if error["type"] == "missing":
        return f"{location}: required field is missing"
    if error["type"] == "extra_forbidden":
        return f"{location}: unknown field; check its spelling against envs/schema.py"
    return f"{location}: {message} (got {error['input']!r})"


def build_environment(
    overrides: Mapping[str, Any],
    *,
    base: Mapping[str, Any] = BASE,
    source: str = "config",
) -> EnvironmentConfig:
    """Validate one environment: `overrides` merged onto `base`. Raises ConfigError."""
    data = merge(base, overrides)
    try:
        return EnvironmentConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(
            f"{source}: {line}"
            for e in error.errors()
            # A model-level check may report several problems, one per line.
            for line in _describe(e, data).splitlines()
        ) from None


def validate_together(environments: Iterable[EnvironmentConfig]) -> tuple[EnvironmentConfig, ...]:
    """Checks across environments: unique names, non-overlapping VPC CIDRs."""
    environments = tuple(environments)
    problems = []
    seen: dict[str, EnvironmentConfig] = {}
    for env in environments:
        if env.name in seen:
            problems.append(
                f"name: environment name {env.name!r} is used twice; each environment needs its "
                "own name (it is the stack name and part of the state key)"
            )
        seen[env.name] = env
    for index, env in enumerate(environments):
        for other in environments[index + 1 :]:
            if env.network.vpc_cidr.overlaps(other.network.vpc_cidr):
                problems.append(
                    f"network.vpc_cidr: {env.name} ({env.network.vpc_cidr}) overlaps "
                    f"{other.name} ({other.network.vpc_cidr}); give each environment its own "
                    "range so they can be peered or routed later"
                )
    if problems:
        raise ConfigError(problems)
    return environments


def load_environments(names: Iterable[str] = DEFAULT_ENVIRONMENTS) -> tuple[EnvironmentConfig, ...]:
    """Load `envs/<name>.py` for each name, merge onto the base, validate each and all together."""
    environments = []
    problems: list[str] = []
    for name in names:
        if name not in DEFAULT_ENVIRONMENTS:
            problems.append(
                f"environment {name!r} has no file; known environments: "
                f"{', '.join(DEFAULT_ENVIRONMENTS)} (add envs/{name}.py and list it in "
                "envs.DEFAULT_ENVIRONMENTS)"
            )
            continue
        module = importlib.import_module(f"envs.{name}")
        try:
            environments.append(build_environment(module.OVERRIDES, source=f"envs/{name}.py"))
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    return validate_together(environments)
