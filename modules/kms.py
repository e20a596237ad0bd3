"""Customer managed KMS keys: the environment's key for logs and ECS Exec, and the key that
encrypts Terraform state (created by the bootstrap stack)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cdktf import TerraformProvider
from constructs import Construct

from modules.aws import kms_alias, kms_key
from modules.iam import policy_document

# Key administration without use of the key: the console's "key administrators" set, spelled
# out (no wildcards). https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
LOGS_KEY_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
# Session Manager (and so ECS Exec) derives the session's data key with the encryption context
# {"aws:ssm:SessionId": ..., "aws:ssm:TargetId": ...}; an ECS Exec target is
# `ecs:<cluster>_<task id>_<runtime id>`.
# https://docs.aws.amazon.com/systems-manager/latest/userguide/session-preferences-enable-encryption.html
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
EXEC_TARGET_CONTEXT = "kms:EncryptionContext:aws:ssm:TargetId"
DELETION_WINDOW_DAYS = 30
"""The longest waiting period AWS allows (7-30 days) before a scheduled key deletion.
https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html"""


def customer_managed_key(
    scope: Construct,
    *,
    description: str,
    alias: str,
    policy: dict[str, Any],
    provider: TerraformProvider | None = None,
) -> kms_key.KmsKey:
    """A symmetric key with yearly rotation, the longest deletion window and `policy`, plus
    its `alias` (construct ids `key` and `alias` under `scope`)."""
    key = kms_key.KmsKey(
        scope,
        "key",
        provider=provider,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=DELETION_WINDOW_DAYS,
        policy=json.dumps(policy),
    )
    kms_alias.KmsAlias(scope, "alias", provider=provider, name=alias, target_key_id=key.key_id)
    return key


def exec_target_pattern(cluster_name: str) -> str:
    """Every ECS Exec session target on `cluster_name`."""
    return f"ecs:{cluster_name}_*"


def key_admin_statement(admin_role_arns: Sequence[str]) -> dict[str, Any]:
    """Named roles administer a key (a key policy's Resource is always "*": the key itself)."""
    return {
        "Sid": "NamedRolesAdministerTheKey",
        "Effect": "Allow",
        "Principal": {"AWS": list(admin_role_arns)},
        "Action": list(KEY_ADMIN_ACTIONS),
        "Resource": "*",
    }


class LogsKey(Construct):
    """A symmetric key with yearly rotation for this environment's log groups and ECS Exec.

    Key policy: the roles in `admin_role_arns` administer it (not every principal of the
    account); CloudWatch Logs may use it only for the log groups matching `log_group_arns`
    (encryption context `aws:logs:arn`); principals of the account whose IAM policy allows
    it may decrypt and derive data keys only for ECS Exec sessions on `cluster_name`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        region: str,
        account_id: str,
        admin_role_arns: Sequence[str],
        log_group_arns: Sequence[str],
        cluster_name: str,
    ) -> None:
        super().__init__(scope, id_)
        policy = policy_document(
            [
                key_admin_statement(admin_role_arns),
                {
                    "Sid": "CloudWatchLogsForThisEnvironment",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                    "Action": list(LOGS_KEY_ACTIONS),
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": list(log_group_arns)}
                    },
                },
                {
                    "Sid": "EcsExecSessionsOnThisCluster",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": {
                        "StringLike": {EXEC_TARGET_CONTEXT: exec_target_pattern(cluster_name)}
                    },
                },
            ]
        )
        self.cluster_name = cluster_name
        self.key = customer_managed_key(
            self,
            description=f"{name}: CloudWatch Logs and ECS Exec sessions",
            alias=f"alias/{name}-logs",
            policy=policy,
        )
        self.arn: str = self.key.arn

    def exec_decrypt_statement(self) -> dict[str, Any]:
        """The task-role grant ECS Exec needs: kms:Decrypt on this key, for sessions on this
        environment's cluster only."""
        return {
            "Sid": "EcsExecSessionKey",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": self.arn,
            "Condition": {
                "StringLike": {EXEC_TARGET_CONTEXT: exec_target_pattern(self.cluster_name)}
            },
        }


class StateKey(Construct):
    """The key that encrypts a Terraform state bucket, under `alias` (the backends name it).

    Named roles administer it; the roles in `user_role_arns` (and the admins) may use it only
    through S3 in `region`. Nobody else in the account can read state objects through it.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        alias: str,
        region: str,
        admin_role_arns: Sequence[str],
        user_role_arns: Sequence[str],
        provider: TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id_)
        users = list(dict.fromkeys((*admin_role_arns, *user_role_arns)))
        policy = policy_document(
            [
                key_admin_statement(admin_role_arns),
                {
                    "Sid": "StateThroughS3",
                    "Effect": "Allow",
                    "Principal": {"AWS": users},
                    "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
                },
            ]
        )
        self.key = customer_managed_key(
            self,
            description=f"Terraform state ({alias})",
            alias=alias,
            policy=policy,
            provider=provider,
        )
        self.arn: str = self.key.arn
