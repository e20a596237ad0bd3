"""Config for application resources: S3 buckets the platform creates, and typed grants.

Workloads get access by name (`grants` on a bucket) or by ARN (`resource_grants` on a
workload, for resources that exist elsewhere); both expand to least-privilege statements,
so nobody writes raw IAM for the common cases.
"""

from __future__ import annotations

import enum
import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from envs.schema.common import Port, Strict


class Access(enum.StrEnum):
    """What a workload may do with a resource."""

    READ = "read"
    WRITE = "write"
    READ_WRITE = "read_write"

    @property
    def reads(self) -> bool:
        return self is not Access.WRITE

    @property
    def writes(self) -> bool:
        return self is not Access.READ


# Exact actions per resource kind and access (Service Authorization Reference:
# https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
S3_READ_OBJECT = ("s3:GetObject",)
S3_READ_BUCKET = ("s3:ListBucket",)
S3_WRITE_OBJECT = ("s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject")
DYNAMODB_READ = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
DYNAMODB_WRITE = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
SQS_READ = (
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
)
SQS_WRITE = ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage")
SNS_WRITE = ("sns:Publish",)

PARTITION = r"arn:aws(?:-cn|-us-gov)?"
RESOURCE_ARNS: dict[str, re.Pattern[str]] = {
    # arn:aws:s3:::<bucket> (bucket ARNs carry no region or account).
    "s3": re.compile(rf"^{PARTITION}:s3:::(?P<name>[a-z0-9][a-z0-9.-]{{1,61}}[a-z0-9])$"),
    "dynamodb": re.compile(
        rf"^{PARTITION}:dynamodb:[a-z0-9-]+:\d{{12}}:table/(?P<name>[A-Za-z0-9_.-]{{3,255}})$"
    ),
    "sqs": re.compile(
        rf"^{PARTITION}:sqs:[a-z0-9-]+:\d{{12}}:(?P<name>[A-Za-z0-9_-]{{1,80}}(\.fifo)?)$"
    ),
    "sns": re.compile(
        rf"^{PARTITION}:sns:[a-z0-9-]+:\d{{12}}:(?P<name>[A-Za-z0-9_-]{{1,256}}(\.fifo)?)$"
    ),
}
"""Resource kinds a grant by ARN supports, with the ARN each must match."""


def resource_kind(arn: str) -> str | None:
    return next((kind for kind, pattern in RESOURCE_ARNS.items() if pattern.fullmatch(arn)), None)


def s3_statements(sid: str, bucket_arn: str, access: Access) -> list[dict[str, Any]]:
    """Objects and listing of one bucket: read -> Get + List, write -> Put, Delete, Abort."""
    statements = []
    if access.reads:
        statements.append(
            {
                "Sid": f"{sid}List",
                "Effect": "Allow",
                "Action": list(S3_READ_BUCKET),
                "Resource": bucket_arn,
            }
        )
    actions = (S3_READ_OBJECT if access.reads else ()) + (S3_WRITE_OBJECT if access.writes else ())
    statements.append(
        {
            "Sid": f"{sid}Objects",
            "Effect": "Allow",
            "Action": sorted(actions),
            "Resource": f"{bucket_arn}/*",
        }
    )
    return statements


class ResourceGrant(Strict):
    """Access to an existing resource by ARN (DynamoDB table, SQS queue, S3 bucket, SNS topic)."""

    arn: str
    """The resource's ARN, e.g. `arn:aws:dynamodb:<region>:<account>:table/orders`."""
    access: Access = Access.READ
    """`read`, `write` or `read_write` (SNS topics: `write`, i.e. publish)."""

    @model_validator(mode="after")
    def _kind(self) -> ResourceGrant:
        kind = resource_kind(self.arn)
        if kind is None:
            raise ValueError(
                f"arn: {self.arn!r} is not a DynamoDB table, SQS queue, S3 bucket or SNS topic "
                "ARN (e.g. arn:aws:dynamodb:<region>:<account>:table/<name>)"
            )
        if kind == "sns" and self.access is not Access.WRITE:
            raise ValueError(
                f"access: an SNS topic can only be published to; use 'write' (got "
                f"{self.access.value!r})"
            )
        return self

    def statements(self, index: int) -> list[dict[str, Any]]:
        """The least-privilege statements this grant stands for."""
        kind = resource_kind(self.arn)
        sid = f"Grant{index}{(kind or '').capitalize()}"
        if kind == "s3":
            return s3_statements(sid, self.arn, self.access)
        if kind == "dynamodb":
            actions = (DYNAMODB_READ if self.access.reads else ()) + (
                DYNAMODB_WRITE if self.access.writes else ()
            )
            resources = [self.arn, f"{self.arn}/index/*"] if self.access.reads else [self.arn]
            return [
                {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}
            ]
        if kind == "sqs":
            actions = (SQS_READ if self.access.reads else ()) + (
                SQS_WRITE if self.access.writes else ()
            )
            return [
                {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Action": sorted(set(actions)),
                    "Resource": self.arn,
                }
            ]
        return [{"Sid": sid, "Effect": "Allow", "Action": list(SNS_WRITE), "Resource": self.arn}]


class BucketConfig(Strict):
    """An application S3 bucket: private, KMS-encrypted, versioned, TLS-only, with a lifecycle.
    Named `<project>-<env>-<name>-<unique suffix>`; each granted workload gets its name in
    `<NAME>_BUCKET`."""

    grants: dict[str, Access] = Field(default_factory=dict)
    """Workload (service or job) name -> `read`, `write` or `read_write` on this bucket only."""
    expiration_days: int | None = None
    """Delete current objects this many days after creation; null: keep them."""
    noncurrent_version_expiration_days: int = 30
    """Delete overwritten or deleted versions after this many days."""
    force_destroy: bool = False
    """Let `terraform destroy` delete the bucket with its objects (for throwaway envs)."""

    @field_validator("expiration_days", "noncurrent_version_expiration_days")
    @classmethod
    def _days(cls, value: int | None) -> int | None:
        # Lifecycle Days must be a positive integer (S3 LifecycleExpiration "Days").
        if value is not None and value < 1:
            raise ValueError(f"must be >= 1 day; got {value}")
        return value


def bucket_variable(bucket: str) -> str:
    """Environment variable a granted workload receives with the bucket's name."""
    return f"{bucket.upper().replace('-', '_')}_BUCKET"


# Security group IDs: sg- and 8 or 17 hex digits (EC2 resource ID formats:
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html).
SECURITY_GROUP_ID = re.compile(r"^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$")


class DestinationConfig(Strict):
    """A private destination a workload opens TCP connections to (a database, a cache): by
    security group (both ends of the rule are managed) or by private CIDR."""

    security_group_id: str | None = None
    """The destination's security group (same account, this VPC or a peered one)."""
    cidr: str | None = None
    """A private IPv4 CIDR (RFC 1918 and friends), when there is no group to reference."""
    ports: tuple[Port, ...]
    """TCP ports to allow, e.g. [5432]."""
    manage_peer_ingress: bool = True
    """With `security_group_id`: also add the matching ingress rule on the destination's group
    (it must be in this account); false: its owner adds it."""

    @model_validator(mode="after")
    def _limits(self) -> DestinationConfig:
        import ipaddress

        problems = []
        if (self.security_group_id is None) == (self.cidr is None):
            problems.append("security_group_id: set exactly one of security_group_id and cidr")
        if self.security_group_id is not None and not SECURITY_GROUP_ID.fullmatch(
            self.security_group_id
        ):
            problems.append(
                f"security_group_id: {self.security_group_id!r} is not a security group ID "
                "(sg- and 8 or 17 hex digits)"
            )
        if self.cidr is not None:
            try:
                network = ipaddress.IPv4Network(self.cidr, strict=True)
            except ValueError as error:
                problems.append(f"cidr: {self.cidr!r} is not an IPv4 CIDR: {error}")
            else:
                if not network.is_private:
                    problems.append(
                        f"cidr: {self.cidr!r} is not a private range; tasks reach the internet "
                        "on 443 only (use internet_egress), name private destinations here"
                    )
        if not self.ports or len(set(self.ports)) != len(self.ports):
            problems.append(f"ports: need distinct ports; got {list(self.ports)}")
        if problems:
            raise ValueError("\n".join(problems))
        return self
