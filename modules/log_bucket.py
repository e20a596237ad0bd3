"""A private S3 bucket that an AWS service writes logs into."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from modules.private_bucket import PrivateBucket


class LogBucket(PrivateBucket):
    """A private bucket (see `PrivateBucket`) with SSE-S3 encryption (all that ELB log
    delivery supports) and objects expiring after `retention_days`. Only `delivery_principal`
    may write, and only `s3:PutObject` under `delivery_prefix`."""

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
        def delivery(bucket_arn: str) -> list[dict[str, Any]]:
            return [
                {
                    "Sid": "LogDelivery",
                    "Effect": "Allow",
                    "Principal": delivery_principal,
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket_arn}/{delivery_prefix}*",
                }
            ]

        super().__init__(
            scope,
            id_,
            bucket_prefix=bucket_prefix,
            sse_algorithm="AES256",
            force_destroy=force_destroy,
            statements=delivery,
            expiration_days=retention_days,
            noncurrent_version_expiration_days=7,
            abort_incomplete_upload_days=1,
        )
