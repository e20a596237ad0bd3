"""The S3 bucket that holds Terraform state for every environment."""

from __future__ import annotations

from cdktf import TerraformProvider
from constructs import Construct

from modules.private_bucket import PrivateBucket


class StateBucket(PrivateBucket):
    """A private bucket (see `PrivateBucket`) encrypted with KMS, that Terraform refuses to
    delete (`prevent_destroy`, no `force_destroy`).

    Old state versions are kept for `noncurrent_version_retention_days` so a bad apply can be
    rolled back, then expire. `provider` selects the AWS provider (region); default: the stack's.
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
        super().__init__(
            scope,
            id_,
            bucket_name=bucket_name,
            sse_algorithm="aws:kms",
            force_destroy=False,
            prevent_destroy=True,
            noncurrent_version_expiration_days=noncurrent_version_retention_days,
            abort_incomplete_upload_days=7,
            provider=provider,
        )
        self.bucket_name = bucket_name
        self.bucket_arn = self.arn
