"""Environment configuration: load, merge over the shared base, validate.

`load_environments()` is the one entry point. It never imports the AWS provider, so config
mistakes are reported in well under a second and without a synth.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Mapping, Sequence
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
        return "\n".join(_locate(location, line) for line in message.splitlines())
    if error["type"] == "missing":
        return f"{location}: required field is missing"
    if error["type"] == "extra_forbidden":
        return f"{location}: unknown field; check its spelling against envs/schema.py"
    return f"{location}: {message} (got {error['input']!r})"


FIELD_HEAD = re.compile(r"^([a-z_][a-z0-9_]*(?:\.[A-Za-z0-9_-]+)*): (.*)$", re.DOTALL)


def _locate(location: str, message: str) -> str:
    """Prefix a validator's message with its field path.

    Model-level validators name the field they check ("vpc_cidr: ..."): under location
    `network` that becomes `network.vpc_cidr: ...`, and a field already in the location
    ("health_check: ..." under `services.web.health_check`) is not repeated.
    """
    head = FIELD_HEAD.match(message)
    if head and location:
        field, rest = head.groups()
        if field in location.split("."):
            return f"{location}: {rest}"
        return f"{location}.{field}: {rest}"
    return f"{location}: {message}" if location else message


def build_environment(
    overrides: Mapping[str, Any],
    *,
    base: Mapping[str, Any] = BASE,
    source: str = "config",
) -> EnvironmentConfig:
    """Validate one environment: `overrides` merged onto `base`. Raises ConfigError."""
    if not isinstance(overrides, Mapping):
        raise ConfigError(
            [f"{source}: OVERRIDES must be a dict of settings, got {type(overrides).__name__}"]
        )
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


def validate_together(
    environments: Iterable[EnvironmentConfig], *, sources: Sequence[str] | None = None
) -> tuple[EnvironmentConfig, ...]:
    """Checks across environments: unique names, non-overlapping VPC CIDRs.

    `sources` names where each environment came from (default `envs/<name>.py`); a problem is
    reported against the later of the two environments involved.
    """
    environments = tuple(environments)
    origins = list(sources) if sources is not None else [f"envs/{e.name}.py" for e in environments]
    problems = []
    seen: set[str] = set()
    for env, origin in zip(environments, origins, strict=True):
        if env.name in seen:
            problems.append(
                f"{origin}: name: environment name {env.name!r} is used twice; each "
                "environment needs its own name (it is the stack name and part of the state key)"
            )
        seen.add(env.name)
    for index, env in enumerate(environments):
        for other, origin in zip(environments[index + 1 :], origins[index + 1 :], strict=True):
            if env.network.vpc_cidr.overlaps(other.network.vpc_cidr):
                problems.append(
                    f"{origin}: network.vpc_cidr: {other.name} ({other.network.vpc_cidr}) "
                    f"overlaps {env.name} ({env.network.vpc_cidr}); give each environment its "
                    "own range so they can be peered or routed later"
                )
    if problems:
        raise ConfigError(problems)
    return environments


def load_environments(names: Iterable[str] = DEFAULT_ENVIRONMENTS) -> tuple[EnvironmentConfig, ...]:
    """Load `envs/<name>.py` for each name, merge onto the base, validate each and all together."""
    environments = []
    sources = []
    problems: list[str] = []
    for name in dict.fromkeys(names):  # `--env dev --env dev` means dev once
        if name not in DEFAULT_ENVIRONMENTS:
            problems.append(
                f"environment {name!r} has no file; known environments: "
                f"{', '.join(DEFAULT_ENVIRONMENTS)} (add envs/{name}.py and list it in "
                "envs.DEFAULT_ENVIRONMENTS)"
            )
            continue
        source = f"envs/{name}.py"
        try:
            module = importlib.import_module(f"envs.{name}")
        except SyntaxError as error:
            problems.append(f"{source}:{error.lineno}: not valid Python: {error.msg}")
            continue
        overrides = getattr(module, "OVERRIDES", None)
        if overrides is None:
            problems.append(f"{source}: defines no OVERRIDES dict (the settings of {name!r})")
            continue
        try:
            environments.append(build_environment(overrides, source=source))
            sources.append(source)
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    return validate_together(environments, sources=sources)
