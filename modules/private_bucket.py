"""A private, versioned, encrypted S3 bucket: the base of the state and log buckets."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cdktf import TerraformProvider, TerraformResourceLifecycle
from constructs import Construct

from modules.aws import (
    s3_bucket,
    s3_bucket_lifecycle_configuration,
    s3_bucket_ownership_controls,
    s3_bucket_policy,
    s3_bucket_public_access_block,
    s3_bucket_server_side_encryption_configuration,
    s3_bucket_versioning,
)

lifecycle = s3_bucket_lifecycle_configuration
sse = s3_bucket_server_side_encryption_configuration

Statements = Callable[[str], list[dict[str, Any]]]
"""Builds extra bucket policy statements from the bucket's ARN."""


class PrivateBucket(Construct):
    """Versioning on, default encryption (`sse_algorithm`), all public access blocked, ACLs
    disabled (bucket owner enforced), a policy denying any request not made over TLS (plus
    `statements`), and one lifecycle rule over all objects: incomplete multipart uploads
    aborted, noncurrent versions expired, current objects expired after `expiration_days`
    (never when None).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        bucket_name: str | None = None,
        bucket_prefix: str | None = None,
        sse_algorithm: str,
        kms_key_arn: str | None = None,
        force_destroy: bool,
        prevent_destroy: bool = False,
        statements: Statements | None = None,
        expiration_days: int | None = None,
        noncurrent_version_expiration_days: int,
        abort_incomplete_upload_days: int,
        provider: TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.bucket = s3_bucket.S3Bucket(
            self,
            "bucket",
            provider=provider,
            bucket=bucket_name,
            bucket_prefix=bucket_prefix,
            force_destroy=force_destroy,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if prevent_destroy else None,
        )
        self.bucket_id: str = self.bucket.id
        self.arn: str = self.bucket.arn
        s3_bucket_versioning.S3BucketVersioningA(
            self,
            "versioning",
            provider=provider,
            bucket=self.bucket.id,
            versioning_configuration=s3_bucket_versioning.S3BucketVersioningVersioningConfiguration(
                status="Enabled"
            ),
        )
        sse.S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            provider=provider,
            bucket=self.bucket.id,
            rule=[
                sse.S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=sse.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm=sse_algorithm, kms_master_key_id=kms_key_arn
                    ),
                    bucket_key_enabled=sse_algorithm == "aws:kms" or None,
                )
            ],
        )
        self.public_access_block = s3_bucket_public_access_block.S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            provider=provider,
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        s3_bucket_ownership_controls.S3BucketOwnershipControls(
            self,
            "ownership",
            provider=provider,
            bucket=self.bucket.id,
            rule=s3_bucket_ownership_controls.S3BucketOwnershipControlsRule(
                object_ownership="BucketOwnerEnforced"
            ),
        )
        deny_plain_http = {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [self.bucket.arn, f"{self.bucket.arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
        extra = statements(self.bucket.arn) if statements else []
        self.policy = s3_bucket_policy.S3BucketPolicy(
            self,
            "policy",
            provider=provider,
            bucket=self.bucket.id,
            policy=json.dumps({"Version": "2012-10-17", "Statement": [*extra, deny_plain_http]}),
            depends_on=[self.public_access_block],
        )
        lifecycle.S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            provider=provider,
            bucket=self.bucket.id,
            rule=[
                lifecycle.S3BucketLifecycleConfigurationRule(
                    id="expire-old-objects",
                    status="Enabled",
                    filter=[lifecycle.S3BucketLifecycleConfigurationRuleFilter()],  # all objects
                    expiration=(
                        [
                            lifecycle.S3BucketLifecycleConfigurationRuleExpiration(
                                days=expiration_days
                            )
                        ]
                        if expiration_days is not None
                        else None
                    ),
                    noncurrent_version_expiration=[
                        lifecycle.S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=noncurrent_version_expiration_days
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        lifecycle.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=abort_incomplete_upload_days
                        )
                    ],
                )
            ],
        )
