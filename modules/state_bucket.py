"""The S3 bucket that holds Terraform state, encrypted with its own customer managed key."""

from __future__ import annotations

from typing import Any

from cdktf import TerraformProvider
from constructs import Construct

from modules.kms import StateKey
from modules.private_bucket import PrivateBucket


class StateBucket(PrivateBucket):
    """A private bucket (see `PrivateBucket`) that Terraform refuses to delete
    (`prevent_destroy`, no `force_destroy`), encrypted by default with `key`.

    The bucket policy refuses any object written without SSE-KMS or with another KMS key than
    `key` (by key ARN or the `key_alias_arn` the backends name), so state can never land
    encrypted with SSE-S3 or a key its readers do not control. Old state versions are kept for
    `noncurrent_version_retention_days` so a bad apply can be rolled back, then expire.
    `provider` selects the AWS provider (account and region); default: the stack's.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        bucket_name: str,
        key: StateKey,
        key_alias_arn: str,
        noncurrent_version_retention_days: int = 90,
        provider: TerraformProvider | None = None,
    ) -> None:
        key_ids = [key.arn, key_alias_arn]

        # Condition keys: https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#require-sse-kms
        def require_state_key(bucket_arn: str) -> list[dict[str, Any]]:
            return [
                {
                    "Sid": "DenyPutsWithoutKms",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket_arn}/*",
                    "Condition": {
                        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}
                    },
                },
                {
                    "Sid": "DenyPutsWithAnotherKey",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket_arn}/*",
                    "Condition": {
                        "StringNotEquals": {
                            "s3:x-amz-server-side-encryption-aws-kms-key-id": key_ids
                        }
                    },
                },
            ]

        super().__init__(
            scope,
            id_,
            bucket_name=bucket_name,
            sse_algorithm="aws:kms",
            kms_key_arn=key.arn,
            force_destroy=False,
            prevent_destroy=True,
            statements=require_state_key,
            noncurrent_version_expiration_days=noncurrent_version_retention_days,
            abort_incomplete_upload_days=7,
            provider=provider,
        )
        self.bucket_name = bucket_name
        self.bucket_arn = self.arn
        self.key = key
