"""The S3 bucket that holds Terraform state for every environment."""

from __future__ import annotations

import json

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
encryption = s3_bucket_server_side_encryption_configuration


class StateBucket(Construct):
    """A versioned, encrypted, private state bucket that refuses plain-HTTP access.

    Old state versions are kept for `noncurrent_version_retention_days` so a bad apply can be
    rolled back, then expire. The bucket has `prevent_destroy`: Terraform refuses to delete it.
    `provider` selects the AWS provider (region) for every resource; default: the stack's.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        bucket_name: str,
        noncurrent_version_retention_days: int = 90,
        provider: TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.bucket = s3_bucket.S3Bucket(
            self,
            "bucket",
            provider=provider,
            bucket=bucket_name,
            force_destroy=False,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        self.bucket_name: str = bucket_name
        self.bucket_arn: str = self.bucket.arn

        s3_bucket_versioning.S3BucketVersioningA(
            self,
            "versioning",
            provider=provider,
            bucket=self.bucket.id,
            versioning_configuration=s3_bucket_versioning.S3BucketVersioningVersioningConfiguration(
                status="Enabled"
            ),
        )
        encryption.S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            provider=provider,
            bucket=self.bucket.id,
            rule=[
                encryption.S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=encryption.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="aws:kms"
                    ),
                    bucket_key_enabled=True,
                )
            ],
        )
        s3_bucket_public_access_block.S3BucketPublicAccessBlock(
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
        s3_bucket_policy.S3BucketPolicy(
            self,
            "deny-insecure-transport",
            provider=provider,
            bucket=self.bucket.id,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [self.bucket.arn, f"{self.bucket.arn}/*"],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                }
            ),
        )
        lifecycle.S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            provider=provider,
            bucket=self.bucket.id,
            rule=[
                lifecycle.S3BucketLifecycleConfigurationRule(
                    id="expire-noncurrent-state-versions",
                    status="Enabled",
                    filter=[lifecycle.S3BucketLifecycleConfigurationRuleFilter()],  # all objects
                    noncurrent_version_expiration=[
                        lifecycle.S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=noncurrent_version_retention_days
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        lifecycle.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=7
                        )
                    ],
                )
            ],
        )
