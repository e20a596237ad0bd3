"""What the release commands share: the environment's config and an AWS session checked
against it (account and region) before anything is written (exit codes, the error type and
the error-to-exit wrapper are ops/common.py's).

boto3 and rich are imported inside functions so `python -m ops --help` stays fast.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from envs.schema.environment import EnvironmentConfig

from ops.common import EXIT_AWS_ERROR, OpsError


def now() -> datetime:
    return datetime.now(UTC)


def say(message: str) -> None:
    """A timestamped progress line on stderr."""
    print(f"[{now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def environment(name: str) -> EnvironmentConfig:
    """The validated config of environment `name` (all are loaded: they refer to each other)."""
    from envs import DEFAULT_ENVIRONMENTS, ConfigError, load_environments

    if name not in DEFAULT_ENVIRONMENTS:
        raise OpsError(
            f"--env {name!r} is not an environment; choose one of {', '.join(DEFAULT_ENVIRONMENTS)}"
        )
    try:
        environments = load_environments()
    except ConfigError as error:
        raise OpsError(error.render()) from None
    return next(env for env in environments if env.name == name)


def service_names(env: EnvironmentConfig) -> list[str]:
    return [service.name for service in env.services]


def check_service(env: EnvironmentConfig, service: str) -> str:
    names = service_names(env)
    if service not in names:
        raise OpsError(
            f"--service {service!r} is not a service of {env.name} (envs/{env.name}.py); "
            f"services: {', '.join(names) or 'none'}"
        )
    return service


@dataclass
class Aws:
    """Clients for one environment, created after the credentials were checked."""

    env: EnvironmentConfig
    session: Any
    account: str
    caller: str
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, name: str) -> Any:
        if name not in self._clients:
            self._clients[name] = self.session.client(name)
        return self._clients[name]

    @property
    def region(self) -> str:
        return self.env.region


def connect(env: EnvironmentConfig) -> Aws:
    """A session in the environment's region, refused if the credentials' configured region or
    account is another one. Reads only (sts:GetCallerIdentity); nothing is written."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        configured = boto3.session.Session().region_name
        if configured and configured != env.region:
            raise OpsError(
                f"the AWS configuration points at region {configured} but {env.name} lives in "
                f"{env.region} (envs/{env.name}.py region); set AWS_REGION={env.region} or use "
                "the profile of that environment"
            )
        session = boto3.session.Session(region_name=env.region)
        identity = session.client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as error:
        raise OpsError(f"cannot reach AWS: {error}", EXIT_AWS_ERROR) from None
    account = str(identity["Account"])
    expected = env.account_id
    if expected is not None and account != expected:
        raise OpsError(
            f"the credentials belong to account {account} but {env.name} lives in {expected} "
            f"(envs/{env.name}.py account_id); use that account's credentials"
        )
    return Aws(env=env, session=session, account=account, caller=str(identity["Arn"]))


def aws_error(error: Exception) -> str | None:
    """`Code: message` of a botocore error, None for anything else."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(error, ClientError):
        return f"{error_code(error)}: {error_message(error)}"
    if isinstance(error, BotoCoreError):
        return str(error)
    return None


def error_code(error: Exception) -> str | None:
    """The AWS error code of a botocore `ClientError` ("Unknown" when AWS sent none), None
    for any other error."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", "Unknown"))
    return None


def error_message(error: Exception) -> str:
    """The AWS error message of a botocore `ClientError` on one line, cut at 300 characters
    (an HTML error page would be long); the error's own text for any other error."""
    response = getattr(error, "response", None)
    details = response.get("Error", {}) if isinstance(response, dict) else {}
    message = " ".join(str(details.get("Message", error)).split())
    return message if len(message) <= 300 else f"{message[:300]}..."
