"""The environment's customer managed KMS key for logs and ECS Exec sessions."""

from __future__ import annotations

import json

from constructs import Construct

from modules.aws import kms_alias, kms_key


class LogsKey(Construct):
    """A symmetric key with yearly rotation. The account administers it through IAM (the AWS
    default key policy statement); CloudWatch Logs of this region may use it only for this
    account's log groups (encryption-context condition)."""

    def __init__(
        self, scope: Construct, id_: str, *, name: str, region: str, account_id: str
    ) -> None:
        super().__init__(scope, id_)
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministersThroughIam",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudWatchLogsForThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                    "Action": [
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": (
                                f"arn:aws:logs:{region}:{account_id}:log-group:*"
                            )
                        }
                    },
                },
            ],
        }
        self.key = kms_key.KmsKey(
            self,
            "key",
            description=f"{name}: CloudWatch Logs and ECS Exec sessions",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json.dumps(policy),
        )
        kms_alias.KmsAlias(self, "alias", name=f"alias/{name}-logs", target_key_id=self.key.key_id)
        self.arn: str = self.key.arn
