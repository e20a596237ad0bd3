"""Building blocks shared by every config model: the immutable base and AWS naming rules."""

from __future__ import annotations

import difflib
import enum
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, StrictInt, ValidationInfo
from pydantic_core import PydanticCustomError, core_schema

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,14}[a-z0-9]$")
REGIONS_FILE = Path(__file__).with_name("regions.json")
"""Every AWS region and its Availability Zone names, with the documentation they come from."""


@dataclass(frozen=True)
class Between:
    """Inclusive bounds of an integer field: `Annotated[StrictInt, between(5, 300)]`.

    The one place a field's limit is written: validation refuses values outside it with
    `<field> must be <low>-<high>; got <value>` (error type `out_of_range`, reported against
    the model that holds the field) and the configuration reference prints it as the range.
    `None` (an unset optional field) passes.
    """

    low: int
    high: int

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_after_validator_function(self._check, handler(source))

    def _check(self, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and not self.low <= value <= self.high:
            raise PydanticCustomError(
                "out_of_range",
                "{field} must be {low}-{high}; got {value}",
                {"field": info.field_name, "low": self.low, "high": self.high, "value": value},
            )
        return value

    def __str__(self) -> str:
        return f"{self.low}-{self.high}"


def between(low: int, high: int) -> Between:
    """The bounds `low`-`high` (inclusive) for an integer field's `Annotated[...]`."""
    return Between(low, high)


# TCP/UDP ports (container port mappings, security group rules): 1-65535.
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html
Port = Annotated[StrictInt, between(1, 65535)]


@cache
def region_zones() -> dict[str, tuple[str, ...]]:
    """Region code -> its Availability Zone names (from envs/schema/regions.json)."""
    data = json.loads(REGIONS_FILE.read_text())
    return {region: tuple(zones) for region, zones in data["regions"].items()}


class Strict(BaseModel):
    """Base for config objects: immutable, keyword-only, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


def check_name(value: str) -> str:
    """Names that become parts of AWS resource names and DNS labels."""
    if not NAME_PATTERN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid name: use 2-16 characters, lowercase letters, digits "
            "and '-', starting with a letter and not ending with '-'"
        )
    return value


def check_region(value: str) -> str:
    regions = region_zones()
    if value not in regions:
        close = difflib.get_close_matches(value, regions, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(
            f"{value!r} is not an AWS region code; {hint}use a code such as 'ap-northeast-1' or "
            "'us-east-1' (all regions: envs/schema/regions.json)"
        )
    return value


def check_log_retention(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        raise ValueError(
            f"CloudWatch Logs does not accept a retention of {days} days; "
            f"use one of {', '.join(map(str, LOG_RETENTION_DAYS))}"
        )
    return days


def check_bucket_name(name: str) -> str:
    """Apply S3's general-purpose bucket naming rules; raise ValueError naming the broken rule."""
    problems = []
    if not 3 <= len(name) <= 63:
        problems.append(f"must be 3-63 characters long (it has {len(name)})")
    if not re.fullmatch(r"[a-z0-9.-]*", name):
        problems.append("may contain only lowercase letters, digits, '.' and '-'")
    if not re.fullmatch(r"[a-z0-9].*[a-z0-9]|[a-z0-9]", name):
        problems.append("must begin and end with a lowercase letter or digit")
    if ".." in name:
        problems.append("must not contain two adjacent periods")
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        problems.append("must not be formatted as an IP address")
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if name.startswith(prefix):
            problems.append(f"must not start with the reserved prefix '{prefix}'")
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if name.endswith(suffix):
            problems.append(f"must not end with the reserved suffix '{suffix}'")
    if problems:
        raise ValueError(f"S3 would reject bucket name {name!r}: it " + "; it ".join(problems))
    return name


# An AWS account ID is 12 digits:
# https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-identifiers.html
ACCOUNT_ID_PATTERN = re.compile(r"^\d{12}$")
# arn:<partition>:iam::<account>:role/<path/><name>. Role names are 1-64 characters of
# [\w+=,.@-]; a path is '/' or up to 512 characters starting and ending with '/':
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
IAM_ROLE_ARN = re.compile(
    r"^arn:aws(?:-cn|-us-gov)?:iam::(?P<account>\d{12}):role/"
    r"(?P<path>(?:[\x21-\x7e]{0,510}/)?)(?P<name>[\w+=,.@-]{1,64})$"
)


def check_account_id(value: str) -> str:
    if not ACCOUNT_ID_PATTERN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an AWS account ID (12 digits, as a string); use the account "
            "this environment deploys to, quoted to keep leading zeros"
        )
    return value


def check_role_arn(value: str) -> str:
    """An IAM role ARN; returns it unchanged (the account is checked by the caller)."""
    if not IAM_ROLE_ARN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an IAM role ARN; expected "
            "arn:aws:iam::<12-digit account>:role/<name> (name: 1-64 of A-Z a-z 0-9 +=,.@_-)"
        )
    return value


def role_account(arn: str) -> str:
    match = IAM_ROLE_ARN.fullmatch(arn)
    assert match is not None
    return match["account"]


# Secret and key ARNs a workload may reference (shared by workloads, sidecars and queues).
SSM_PARAMETER_ARN = re.compile(
    r"^arn:aws(?:-cn|-us-gov)?:ssm:(?P<region>[a-z0-9-]+):\d{12}:parameter/[\w./-]+$"
)
SECRETS_MANAGER_ARN = re.compile(
    r"^arn:aws(?:-cn|-us-gov)?:secretsmanager:(?P<region>[a-z0-9-]+):\d{12}:secret:[\w/+=.@-]+"
    r"(?::[\w-]*:[\w-]*:[\w-]*)?$"
)
KMS_KEY_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$")
ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SecretSource(enum.StrEnum):
    SSM = "ssm"
    SECRETS_MANAGER = "secretsmanager"


def check_secret_arn(arn: str) -> SecretSource:
    if SSM_PARAMETER_ARN.fullmatch(arn):
        return SecretSource.SSM
    if SECRETS_MANAGER_ARN.fullmatch(arn):
        return SecretSource.SECRETS_MANAGER
    raise ValueError(
        f"{arn!r} is neither an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/...)"
        " nor a Secrets Manager ARN (arn:aws:secretsmanager:<region>:<account>:secret:...)"
    )


# ECS `user`: user, user:group, uid, uid:gid, user:gid or uid:group (ContainerDefinition):
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html
_LINUX_NAME = r"(?:[a-z_][a-z0-9_-]{0,31}|\d{1,10})"
CONTAINER_USER = re.compile(rf"^{_LINUX_NAME}(?::{_LINUX_NAME})?$")


def container_user_problem(value: str) -> str | None:
    """Why ECS or this platform refuses `value` as a container's `user` (None: accepted).

    Root is refused: FSBP ECS.20 asks containers to run as non-root users."""
    if not CONTAINER_USER.fullmatch(value):
        return (
            f"{value!r} is not a container user; use name, uid, name:group or uid:gid "
            "(e.g. '1000:1000')"
        )
    if value.split(":")[0] in ("root", "0"):
        return (
            f"{value!r} runs the container as root; use a non-root uid such as "
            "'1000:1000' (FSBP ECS.20), or leave user unset to keep the image's USER"
        )
    return None


def check_variable_names(value: dict[str, str]) -> dict[str, str]:
    """Keys of a container's `environment` or `secrets`: environment variable names."""
    bad = [name for name in value if not ENV_VAR_NAME.fullmatch(name)]
    if bad:
        raise ValueError(f"{bad} are not environment variable names ([A-Za-z_][A-Za-z0-9_]*)")
    return value


def check_secret_arns(value: dict[str, str]) -> dict[str, str]:
    """Values of a container's `secrets`: SSM parameter or Secrets Manager secret ARNs."""
    for arn in value.values():
        check_secret_arn(arn)
    return value
