"""A private S3 bucket that an AWS service writes logs into."""

from __future__ import annotations

import json
from typing import Any

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


class LogBucket(Construct):
    """Versioned, SSE-S3 encrypted (what ELB log delivery supports), public access blocked,
    TLS-only, objects expiring after `retention_days`. Only `delivery_principal` may write,
    and only `s3:PutObject` under `delivery_prefix`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        bucket_prefix: str,
        retention_days: int,
        force_destroy: bool,
        delivery_principal: dict[str, Any],
        delivery_prefix: str,
    ) -> None:
        super().__init__(scope, id_)
        self.bucket = s3_bucket.S3Bucket(
            self, "bucket", bucket_prefix=bucket_prefix, force_destroy=force_destroy
        )
        self.bucket_id: str = self.bucket.id
        self.arn: str = self.bucket.arn
        s3_bucket_versioning.S3BucketVersioningA(
            self,
            "versioning",
            bucket=self.bucket.id,
            versioning_configuration=s3_bucket_versioning.S3BucketVersioningVersioningConfiguration(
                status="Enabled"
            ),
        )
        sse = s3_bucket_server_side_encryption_configuration
        sse.S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=self.bucket.id,
            rule=[
                sse.S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=sse.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="AES256"
                    )
                )
            ],
        )
        self.public_access_block = s3_bucket_public_access_block.S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        s3_bucket_ownership_controls.S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=self.bucket.id,
            rule=s3_bucket_ownership_controls.S3BucketOwnershipControlsRule(
                object_ownership="BucketOwnerEnforced"
            ),
        )
        delivery = {
            "Sid": "LogDelivery",
            "Effect": "Allow",
            "Principal": delivery_principal,
            "Action": "s3:PutObject",
            "Resource": f"{self.bucket.arn}/{delivery_prefix}*",
        }
        deny_plain_http = {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [self.bucket.arn, f"{self.bucket.arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
        self.policy = s3_bucket_policy.S3BucketPolicy(
            self,
            "policy",
            bucket=self.bucket.id,
            policy=json.dumps({"Version": "2012-10-17", "Statement": [delivery, deny_plain_http]}),
            depends_on=[self.public_access_block],
        )
        lifecycle = s3_bucket_lifecycle_configuration
        lifecycle.S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=self.bucket.id,
            rule=[
                lifecycle.S3BucketLifecycleConfigurationRule(
                    id="expire-logs",
                    status="Enabled",
                    filter=[lifecycle.S3BucketLifecycleConfigurationRuleFilter()],  # all objects
                    expiration=[
                        lifecycle.S3BucketLifecycleConfigurationRuleExpiration(days=retention_days)
                    ],
                    noncurrent_version_expiration=[
                        lifecycle.S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=7
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        lifecycle.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=1
                        )
                    ],
                )
            ],
        )
