"""Environment configuration: load, merge over the shared base, validate.

`load_environments()` is the one entry point. It never imports the AWS provider, so config
mistakes are reported in well under a second and without a synth.
"""

from __future__ import annotations

import importlib
import re
import traceback
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import ValidationError

from envs.schema.crosschecks import shared_names, shared_quota_problems
from envs.schema.environment import EnvironmentConfig
from envs.schema.names import collisions
from envs.schema.network import NatMode

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
    if error["type"] == "out_of_range":  # a `between(...)` field: said of the model holding it
        loc = tuple(error["loc"])
        field = error["ctx"]["field"]  # a list field's items add their index after the field
        parent = loc[: len(loc) - 1 - loc[::-1].index(field)] if field in loc else loc[:-1]
        where = ".".join(str(part) for part in _name_items(parent, data))
        return f"{where}: {error['msg']}" if where else str(error["msg"])
    if error["type"] == "missing":
        return f"{location}: required field is missing"
    if error["type"] == "extra_forbidden":
        return f"{location}: unknown field; check its spelling against envs/schema/"
    expected = EXPECTED.get(error["type"])
    if expected is not None:
        return f"{location}: expected {expected}, got {error['input']!r}"
    return f"{location}: {message} (got {error['input']!r})"


# Pydantic error types for a value of the wrong type, and what to say instead of pydantic's
# internals ("valid tuple", "instance of ScheduleConfig"). Config is strict: a bool is not an
# integer, a string is not a bool, 3000.0 is not a port.
EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "True or False",
    "bool_parsing": "True or False",
    "string_type": "a string",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "a dict",
    "model_type": "a dict of settings",
    "model_attributes_type": "a dict of settings",
}


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
        if field in location.split(".") or location.endswith(f".{field}"):
            return f"{location}: {rest}"
        return f"{location}.{field}: {rest}"
    return f"{location}: {message}" if location else message


def build_environment(
    overrides: Mapping[str, Any],
    *,
    base: Mapping[str, Any] | None = None,
    source: str = "config",
) -> EnvironmentConfig:
    """Validate one environment: `overrides` merged onto `base`. Raises ConfigError."""
    if not isinstance(overrides, Mapping):
        raise ConfigError(
            [
                f"{source}: OVERRIDES: expected a dict of settings, got "
                f"{type(overrides).__name__} ({overrides!r:.40}); write "
                'OVERRIDES = {"name": ..., ...}'
            ]
        )
    data = merge(load_base() if base is None else base, overrides)
    try:
        return EnvironmentConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(
            f"{source}: {line}"
            for e in error.errors()
            # A model-level check may report several problems, one per line.
            for line in _describe(e, data).splitlines()
        ) from None


def _state_problems(environments: Sequence[EnvironmentConfig], origins: Sequence[str]) -> list[str]:
    """S3 bucket names are global: one state bucket lives in one region (the bootstrap stack
    creates it there). State keys cannot collide: each ends in `<env name>/terraform.tfstate`
    and environment names are unique."""
    problems = []
    regions: dict[str, tuple[str, str]] = {}
    for env, origin in zip(environments, origins, strict=True):
        bucket = env.state.bucket
        first_region, first_env = regions.setdefault(bucket, (env.state.region, env.name))
        if first_region != env.state.region:
            problems.append(
                f"{origin}: state.region: state bucket {bucket!r} is in {first_region} for "
                f"{first_env} but {env.state.region} here; bucket names are global, so use "
                f"region {first_region} or another state.bucket"
            )
    return problems


def validate_together(
    environments: Iterable[EnvironmentConfig], *, sources: Sequence[str] | None = None
) -> tuple[EnvironmentConfig, ...]:
    """Checks across environments: unique names (environments and every account- or
    region-wide AWS name they generate), one region per state bucket, non-overlapping VPC CIDRs.

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
    if not problems:  # with a name used twice every generated name would collide too
        problems.extend(collisions(list(environments), origins))
    problems.extend(_state_problems(environments, origins))
    problems.extend(shared_quota_problems(environments, origins))
    for index, env in enumerate(environments):
        for other, origin in zip(environments[index + 1 :], origins[index + 1 :], strict=True):
            if env.state.bucket == other.state.bucket and env.account_id != other.account_id:
                problems.append(
                    f"{origin}: state.bucket: {other.name} (account {other.account_id}) shares "
                    f"bucket {env.state.bucket!r} with {env.name} (account {env.account_id}); "
                    "a bucket lives in one account: give each account its own state bucket"
                )
            if env.network.vpc_cidr.overlaps(other.network.vpc_cidr):
                problems.append(
                    f"{origin}: network.vpc_cidr: {other.name} ({other.network.vpc_cidr}) "
                    f"overlaps {env.name} ({env.network.vpc_cidr}); give each environment its "
                    "own range so they can be peered or routed later"
                )
            problems.extend(f"{origin}: {problem}" for problem in shared_names(env, other))
    for env, origin in zip(environments, origins, strict=True):
        source = env.release.promote_from
        if (
            not problems
            and source is not None
            and (source == env.name or source not in DEFAULT_ENVIRONMENTS)
        ):
            problems.append(
                f"{origin}: release.promote_from: {source!r} is not another environment "
                f"(environments: {', '.join(DEFAULT_ENVIRONMENTS)}); name the environment "
                "releases come from, or remove it"
            )
    if problems:
        raise ConfigError(problems)
    return environments


ENVS_DIR = Path(__file__).resolve().parent
BASE_SOURCE = "envs/base.py"


def _import_error(source: str, error: Exception) -> str:
    """One line for an env file that raises while it is imported (NameError, ImportError, ...)."""
    if isinstance(error, SyntaxError):
        return f"{source}:{error.lineno}: not valid Python: {error.msg}; fix the syntax"
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith(source)]
    line = f":{frames[-1].lineno}" if frames else ""
    return (
        f"{source}{line}: fails to load: {type(error).__name__}: {error}; fix that line "
        "(env files hold plain data: dicts, lists, strings, numbers)"
    )


def _load_module(name: str, source: str) -> tuple[ModuleType | None, str | None]:
    try:
        return importlib.import_module(f"envs.{name}"), None
    except Exception as error:  # any mistake in a user's file becomes one clear line
        return None, _import_error(source, error)


def load_base() -> Mapping[str, Any]:
    """`BASE` from envs/base.py; raises ConfigError (reported once, against base.py)."""
    module, problem = _load_module("base", BASE_SOURCE)
    if module is None:
        raise ConfigError([problem or f"{BASE_SOURCE}: fails to load"])
    base = getattr(module, "BASE", None)
    if not isinstance(base, Mapping):
        got = "nothing" if base is None else type(base).__name__
        raise ConfigError(
            [
                f"{BASE_SOURCE}: BASE must be a dict of the settings every environment "
                f"shares, got {got}"
            ]
        )
    return base


def _unknown_environment(name: str) -> str:
    path = ENVS_DIR / f"{name}.py"
    listed = ", ".join(DEFAULT_ENVIRONMENTS)
    if path.is_file() and "OVERRIDES" in path.read_text(errors="replace"):
        return (
            f"envs/__init__.py: DEFAULT_ENVIRONMENTS: {name!r} is not listed ({listed}) although "
            f"envs/{name}.py exists; add {name!r} to the list to deploy it"
        )
    return (
        f"--env: environment {name!r} has no file; known environments: {listed} "
        f"(add envs/{name}.py and list it in envs.DEFAULT_ENVIRONMENTS)"
    )


FIELD_PATH = re.compile(r"[\w./-]+")


def _sets(overrides: Mapping[str, Any], problem: str) -> bool:
    """Whether an env file's overrides set the field a problem line names
    (`services.web: cpu/memory_mib: ...` names services.web.cpu and services.web.memory_mib)."""
    heads = []
    for part in problem.split(": ")[:-1]:
        if not FIELD_PATH.fullmatch(part):
            break
        heads.append(part)
    path = ".".join(heads).split(".")
    node: Any = overrides
    for part in path[:-1]:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return isinstance(node, Mapping) and any(leaf in node for leaf in path[-1].split("/"))


def _blame_base(
    problems: dict[str, list[str]], overrides: dict[str, Mapping[str, Any]]
) -> list[str]:
    """Problems every environment reports for a field none of them sets come from base.py:
    report each once against it instead of once per env file."""
    texts = {
        source: [p.removeprefix(f"{source}: ") for p in lines] for source, lines in problems.items()
    }
    common = set.intersection(*(set(t) for t in texts.values())) if texts else set()
    from_base = [
        text
        for text in dict.fromkeys(t for lines in texts.values() for t in lines)
        if text in common and not any(_sets(o, text) for o in overrides.values())
    ]
    result = [f"{BASE_SOURCE}: {text}" for text in from_base]
    for source, lines in texts.items():
        result.extend(f"{source}: {text}" for text in lines if text not in from_base)
    return result


def load_environments(names: Iterable[str] = DEFAULT_ENVIRONMENTS) -> tuple[EnvironmentConfig, ...]:
    """Load `envs/<name>.py` for each name, merge onto the base, validate each and all together.

    Each file that fails to load (not valid Python, a NameError, no OVERRIDES dict, not
    listed, listed without a file) is one problem line; a mistake in envs/base.py is reported
    once, against base.py.
    """
    base = load_base()
    environments = []
    sources = []
    problems: list[str] = []
    rejected: dict[str, list[str]] = {}
    overrides_by_source: dict[str, Mapping[str, Any]] = {}
    for name in dict.fromkeys(names):  # `--env dev --env dev` means dev once
        if name not in DEFAULT_ENVIRONMENTS:
            problems.append(_unknown_environment(name))
            continue
        source = f"envs/{name}.py"
        if not (ENVS_DIR / f"{name}.py").is_file():
            problems.append(
                f"envs/__init__.py: DEFAULT_ENVIRONMENTS: lists {name!r} but {source} does not "
                f"exist; create {source} or remove {name!r} from the list"
            )
            continue
        module, problem = _load_module(name, source)
        if module is None:
            problems.append(problem or f"{source}: fails to load")
            continue
        if not hasattr(module, "OVERRIDES"):
            problems.append(
                f'{source}: OVERRIDES: not defined; add OVERRIDES = {{"name": {name!r}, ...}} '
                "(the settings that differ from envs/base.py)"
            )
            continue
        overrides = module.OVERRIDES
        try:
            environments.append(build_environment(overrides, base=base, source=source))
            sources.append(source)
        except ConfigError as error:
            rejected[source] = list(error.problems)
            if isinstance(overrides, Mapping):
                overrides_by_source[source] = overrides
    if len(rejected) > 1 and not environments:
        # One rejected file alone cannot tell its own mistake from base.py's: blame it.
        problems.extend(_blame_base(rejected, overrides_by_source))
    else:
        problems.extend(p for lines in rejected.values() for p in lines)
    if problems:
        raise ConfigError(problems)
    return validate_together(environments, sources=sources)
