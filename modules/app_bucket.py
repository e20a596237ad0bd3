"""An application S3 bucket and its typed grants to workloads."""

from __future__ import annotations

from constructs import Construct

from envs.schema.resources import Access, BucketConfig, s3_statements
from modules.aws import iam_role_policy
from modules.iam import policy_json
from modules.private_bucket import PrivateBucket
from modules.workload import TaskWorkload

# Multipart uploads left incomplete are aborted after a week (their parts cost storage).
ABORT_INCOMPLETE_UPLOAD_DAYS = 7


class AppBucket(PrivateBucket):
    """A private bucket (see `PrivateBucket`: versioned, public access blocked, TLS-only,
    lifecycle) encrypted with KMS (`aws:kms`, bucket key on), named `<prefix><unique suffix>`.

    `grant` gives a workload's task role exactly `read` (GetObject + ListBucket), `write`
    (PutObject, DeleteObject, AbortMultipartUpload) or both, on this bucket only.
    """

    def __init__(self, scope: Construct, id_: str, config: BucketConfig, *, prefix: str) -> None:
        super().__init__(
            scope,
            id_,
            bucket_prefix=prefix,
            sse_algorithm="aws:kms",
            force_destroy=config.force_destroy,
            expiration_days=config.expiration_days,
            noncurrent_version_expiration_days=config.noncurrent_version_expiration_days,
            abort_incomplete_upload_days=ABORT_INCOMPLETE_UPLOAD_DAYS,
        )
        self.config = config
        self.name: str = self.bucket.bucket

    def grant(self, workload: TaskWorkload, access: Access, *, bucket: str) -> None:
        iam_role_policy.IamRolePolicy(
            workload,
            f"bucket-{bucket}",
            role=workload.task_role.id,
            name=f"bucket-{bucket}-{access.value}",
            policy=policy_json(s3_statements("Bucket", self.arn, access)),
        )
