"""Application buckets and grants by ARN: which role may do what on which resource."""

from __future__ import annotations

import json
from typing import Any

import pytest

from envs import DEFAULT_ENVIRONMENTS, ConfigError, merge
from tests.example_envs import build_example
from tests.example_envs.dev import OVERRIDES as DEV
from tests.tf import by_path, container_definitions, ref, resources, where
from tests.variants import (
    ORDERS_TABLE,
    PARTNER_BUCKET,
    PARTNER_QUEUE,
    TOPIC,
    VARIANTS,
    environments_and_variants,
)

Json = dict[str, Any]
ENVIRONMENTS = environments_and_variants()


def task_policies(stack: Json, path: str) -> dict[str, list[Json]]:
    role, _ = by_path(stack, "aws_iam_role", f"{path}/workload/task-role")
    return {
        body["name"]: json.loads(body["policy"])["Statement"]
        for body in where(stack, "aws_iam_role_policy", role=ref("aws_iam_role", role)).values()
    }


def environment_of(stack: Json, path: str) -> dict[str, str]:
    _, task = by_path(stack, "aws_ecs_task_definition", f"{path}/workload/task-definition")
    main = container_definitions(task)[0]
    return {e["name"]: e["value"] for e in main["environment"]}


@pytest.fixture(scope="module")
def shop(synthesized: dict[str, Json]) -> Json:
    return synthesized["queues"]


def test_bucket_is_private_kms_encrypted_versioned_and_tls_only(shop: Json) -> None:
    name, bucket = by_path(shop, "aws_s3_bucket", "bucket-media/bucket")
    assert bucket["bucket_prefix"] == "fargate-queues-media-"
    assert bucket["force_destroy"] is False
    bucket_id = ref("aws_s3_bucket", name)
    (encryption,) = where(
        shop, "aws_s3_bucket_server_side_encryption_configuration", bucket=bucket_id
    ).values()
    rule = encryption["rule"][0]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    (versioning,) = where(shop, "aws_s3_bucket_versioning", bucket=bucket_id).values()
    assert versioning["versioning_configuration"]["status"] == "Enabled"
    (block,) = where(shop, "aws_s3_bucket_public_access_block", bucket=bucket_id).values()
    assert all(block[k] is True for k in ("block_public_acls", "restrict_public_buckets"))
    (policy,) = where(shop, "aws_s3_bucket_policy", bucket=bucket_id).values()
    (deny,) = json.loads(policy["policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"
    (lifecycle,) = where(shop, "aws_s3_bucket_lifecycle_configuration", bucket=bucket_id).values()
    assert lifecycle["rule"][0]["expiration"] == [{"days": 365}]


def test_bucket_grants_are_exact_and_bucket_scoped(shop: Json) -> None:
    name, _ = by_path(shop, "aws_s3_bucket", "bucket-media/bucket")
    arn = ref("aws_s3_bucket", name, "arn")
    assert task_policies(shop, "service-worker")["bucket-media-read_write"] == [
        {"Sid": "BucketList", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": arn},
        {
            "Sid": "BucketObjects",
            "Effect": "Allow",
            "Action": [
                "s3:AbortMultipartUpload",
                "s3:DeleteObject",
                "s3:GetObject",
                "s3:PutObject",
            ],
            "Resource": f"{arn}/*",
        },
    ]
    assert task_policies(shop, "service-frontend")["bucket-media-read"] == [
        {"Sid": "BucketList", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": arn},
        {
            "Sid": "BucketObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": f"{arn}/*",
        },
    ]
    bucket_name = ref("aws_s3_bucket", name, "bucket")
    assert environment_of(shop, "service-worker")["MEDIA_BUCKET"] == bucket_name
    assert environment_of(shop, "service-frontend")["MEDIA_BUCKET"] == bucket_name
    # Not granted: no policy, no variable.
    assert not [p for p in task_policies(shop, "service-backend") if p.startswith("bucket-media")]
    assert "MEDIA_BUCKET" not in environment_of(shop, "service-backend")


def test_grants_by_arn_expand_to_least_privilege_statements(shop: Json) -> None:
    statements = {s["Sid"]: s for s in task_policies(shop, "service-backend")["application"]}
    assert statements["Grant0Dynamodb"]["Resource"] == [ORDERS_TABLE, f"{ORDERS_TABLE}/index/*"]
    assert statements["Grant0Dynamodb"]["Action"] == [
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:DescribeTable",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:UpdateItem",
    ]
    assert statements["Grant1Sns"] == {
        "Sid": "Grant1Sns",
        "Effect": "Allow",
        "Action": ["sns:Publish"],
        "Resource": TOPIC,
    }
    assert statements["Grant2S3List"]["Resource"] == PARTNER_BUCKET
    assert statements["Grant2S3Objects"] == {
        "Sid": "Grant2S3Objects",
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": f"{PARTNER_BUCKET}/*",
    }
    assert statements["Grant3Sqs"]["Action"] == [
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:SendMessage",
    ]
    assert statements["Grant3Sqs"]["Resource"] == PARTNER_QUEUE


@pytest.mark.invariant
# The user's environments (any of them may have none) and a fixture that has some, so the
# check provably runs.
@pytest.mark.parametrize("env", (*DEFAULT_ENVIRONMENTS, "https-shop"))
def test_every_bucket_grant_is_scoped_to_its_bucket(synthesized: dict[str, Json], env: str) -> None:
    stack = synthesized[env]
    config = ENVIRONMENTS[env]
    grants = [grant for bucket in config.buckets.values() for grant in bucket.grants]
    assert grants or env not in VARIANTS, f"fixture {env} grants no bucket: nothing checked"
    for bucket_name, bucket in config.buckets.items():
        name, body = by_path(stack, "aws_s3_bucket", f"bucket-{bucket_name}/bucket")
        assert body["bucket_prefix"] == config.bucket_prefix(bucket_name)
        arn = ref("aws_s3_bucket", name, "arn")
        for workload, access in bucket.grants.items():
            kind = "service" if workload in {s.name for s in config.services} else "job"
            policy = task_policies(stack, f"{kind}-{workload}")[f"bucket-{bucket_name}-{access}"]
            assert {s["Resource"] for s in policy} <= {arn, f"{arn}/*"}
            writes = any("s3:PutObject" in s["Action"] for s in policy)
            assert writes == (access != "read")


@pytest.mark.parametrize(
    "overrides,expected",
    [
        (
            {"buckets": {"media": {"grants": {"billing": "read"}}}},
            "envs/dev.py: buckets.media.grants: 'billing' is not a service or job of this "
            "environment; known: frontend, backend, worker, migrate, nightly-report",
        ),
        (
            {"buckets": {"media": {"grants": {"backend": "admin"}}}},
            "buckets.media.grants.backend: Input should be 'read', 'write' or 'read_write'",
        ),
        (
            {"buckets": {"a-very-long-bucket": {}}},
            "buckets.a-very-long-bucket: 'a-very-long-bucket' is not a valid name",
        ),
        (
            {"project": "fargate-platform", "buckets": {"media-assets-xyz": {}}},
            "buckets.media-assets-xyz: the application bucket 'media-assets-xyz' would be "
            "named 'fargate-platform-dev-media-assets-xyz-' (38 characters) but AWS allows 37; "
            "shorten the bucket name",
        ),
        (
            {"buckets": {"media": {"expiration_days": 0}}},
            "buckets.media.expiration_days: must be >= 1 day; got 0",
        ),
        (
            {
                "services": {
                    "backend": {"resource_grants": [{"arn": "arn:aws:rds:x", "access": "read"}]}
                }
            },
            "services.backend.resource_grants.0.arn: 'arn:aws:rds:x' is not a DynamoDB table, SQS "
            "queue, S3 bucket or SNS topic ARN",
        ),
        (
            {"services": {"backend": {"resource_grants": [{"arn": TOPIC, "access": "read"}]}}},
            "services.backend.resource_grants.0.access: an SNS topic can only be published to; "
            "use 'write' (got 'read')",
        ),
    ],
)
def test_rejected_resources(overrides: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_example(merge(DEV, overrides), source="envs/dev.py")
    assert expected in caught.value.render()


def test_restricted_s3_gateway_admits_the_application_buckets(
    synthesized: dict[str, Json],
) -> None:
    stack = synthesized["https-shop"]  # restrict_s3_gateway with one named bucket
    name, _ = by_path(stack, "aws_s3_bucket", "bucket-uploads/bucket")
    _, gateway = by_path(stack, "aws_vpc_endpoint", "endpoints/s3")
    statements = {s["Sid"]: s for s in json.loads(gateway["policy"])["Statement"]}
    arn = ref("aws_s3_bucket", name, "arn")
    assert arn in statements["NamedBuckets"]["Resource"]
    assert f"{arn}/*" in statements["NamedBuckets"]["Resource"]
    assert "arn:aws:s3:::shop-uploads" in statements["NamedBuckets"]["Resource"]
    assert len(resources(stack, "aws_s3_bucket")) >= 1
