"""Account guard config: account_id, role_arn, key admins, and one account per state bucket.
Config only, no provider."""

from __future__ import annotations

from typing import Any

import pytest

from envs import ConfigError, merge, validate_together
from tests.constants import OTHER_ACCOUNT as OTHER
from tests.example_envs import build_example
from tests.example_envs.dev import OVERRIDES as DEV
from tests.example_envs.stg import OVERRIDES as STG


def problems(overrides: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as error:
        build_example(merge(DEV, overrides), source="envs/dev.py")
    return error.value.problems


@pytest.mark.parametrize("account", ["12345678901", "1234567890123", "12345678901a", ""])
def test_account_id_must_be_12_digits(account: str) -> None:
    (line,) = problems({"account_id": account})
    assert line.startswith(f"envs/dev.py: account_id: {account!r} is not an AWS account ID")


def test_account_id_is_required() -> None:
    data = {k: v for k, v in DEV.items() if k != "account_id"}
    with pytest.raises(ConfigError) as error:
        build_example(data, source="envs/dev.py")
    assert "envs/dev.py: account_id: required field is missing" in error.value.problems


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:user/deploy",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam::123456789012:role/" + "r" * 65,
        "arn:aws:sts::123456789012:assumed-role/deploy/session",
    ],
)
def test_role_arn_must_be_an_iam_role(arn: str) -> None:
    (line,) = problems({"role_arn": arn})
    assert line.startswith(f"envs/dev.py: role_arn: {arn!r} is not an IAM role ARN")


def test_roles_must_be_in_the_environments_account() -> None:
    elsewhere = f"arn:aws:iam::{OTHER}:role/deploy"
    lines = problems({"role_arn": elsewhere, "key_admin_role_arns": [elsewhere]})
    assert lines == (
        f"envs/dev.py: role_arn: {elsewhere!r} is in account {OTHER}, not this environment's "
        "account_id 123456789012; use a role of 123456789012",
        f"envs/dev.py: key_admin_role_arns: {elsewhere!r} is in account {OTHER}, not this "
        "environment's account_id 123456789012; use a role of 123456789012",
    )


def test_some_role_must_administer_the_keys() -> None:
    (line,) = problems({"role_arn": None})
    assert line.startswith("envs/dev.py: key_admin_role_arns: no role administers")
    admin = "arn:aws:iam::123456789012:role/platform-admin"
    env = build_example(merge(DEV, {"role_arn": None, "key_admin_role_arns": [admin]}))
    assert env.key_admins == (admin,)


def test_key_admins_put_the_deploy_role_first_without_duplicates() -> None:
    deploy = DEV["role_arn"]
    admin = "arn:aws:iam::123456789012:role/platform-admin"
    env = build_example(merge(DEV, {"key_admin_role_arns": [admin, deploy]}))
    assert env.key_admins == (deploy, admin)


def test_state_kms_key_is_named_by_alias_in_the_state_account_and_region() -> None:
    env = build_example(merge(DEV, {"state": {"bucket": "team.state.bucket"}}))
    assert env.state_kms_key_arn == (
        "arn:aws:kms:ap-northeast-1:123456789012:alias/tfstate-team-state-bucket"
    )


def test_accounts_do_not_share_a_state_bucket() -> None:
    dev = build_example(DEV, source="envs/dev.py")
    stg = build_example(
        merge(
            STG,
            {"account_id": OTHER, "role_arn": f"arn:aws:iam::{OTHER}:role/fargate-stg-deploy"},
        ),
        source="envs/stg.py",
    )
    with pytest.raises(ConfigError) as error:
        validate_together([dev, stg])
    (line,) = error.value.problems
    assert line.startswith(
        f"envs/stg.py: state.bucket: stg (account {OTHER}) shares bucket "
        "'fargate-platform-tfstate-example' with dev (account 123456789012)"
    )
    own = stg.model_copy(update={"state": stg.state.model_copy(update={"bucket": "stg-state"})})
    assert validate_together([dev, own]) == (dev, own)
