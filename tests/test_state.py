"""S3 backend per environment, default tags, and the state bootstrap bucket's protections."""

from __future__ import annotations

import json
from typing import Any

from tests.tf import only, ref

Json = dict[str, Any]


def test_each_environment_has_its_own_encrypted_locked_state(synthesized: dict[str, Json]) -> None:
    keys = set()
    for env in ("dev", "stg", "prod"):
        backend = synthesized[env]["terraform"]["backend"]["s3"]
        assert backend == {
            "bucket": "fargate-platform-tfstate-example",
            "key": f"fargate/{env}/terraform.tfstate",
            "region": "ap-northeast-1",
            "encrypt": True,
            "use_lockfile": True,
        }
        keys.add(backend["key"])
    assert len(keys) == 3


def test_default_tags_on_provider(synthesized: dict[str, Json]) -> None:
    for env in ("dev", "stg", "prod"):
        (aws,) = synthesized[env]["provider"]["aws"]
        assert aws["region"] == "ap-northeast-1"
        assert aws["default_tags"] == [
            {
                "tags": {
                    "Project": "fargate",
                    "Environment": env,
                    "ManagedBy": "cdktf",
                    "CostCenter": "platform",
                }
            }
        ]


def test_bootstrap_uses_local_state_outside_cdktf_out(synthesized: dict[str, Json]) -> None:
    bootstrap = synthesized["state-bootstrap"]
    assert bootstrap["terraform"]["backend"] == {
        "local": {"path": "../../../state-bootstrap.tfstate"}
    }


def test_bootstrap_bucket_is_versioned_encrypted_private_and_protected(
    synthesized: dict[str, Json],
) -> None:
    stack = synthesized["state-bootstrap"]
    name, bucket = only(stack, "aws_s3_bucket")
    bucket_id = ref("aws_s3_bucket", name)
    assert bucket["bucket"] == "fargate-platform-tfstate-example"
    assert bucket["lifecycle"] == {"prevent_destroy": True}
    assert bucket["force_destroy"] is False

    _, versioning = only(stack, "aws_s3_bucket_versioning")
    assert versioning["bucket"] == bucket_id
    assert versioning["versioning_configuration"] == {"status": "Enabled"}

    _, sse = only(stack, "aws_s3_bucket_server_side_encryption_configuration")
    assert sse["bucket"] == bucket_id
    (rule,) = sse["rule"]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"

    _, block = only(stack, "aws_s3_bucket_public_access_block")
    assert block["bucket"] == bucket_id
    for flag in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert block[flag] is True

    _, policy = only(stack, "aws_s3_bucket_policy")
    (statement,) = json.loads(policy["policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(statement["Resource"]) == {
        ref("aws_s3_bucket", name, "arn"),
        ref("aws_s3_bucket", name, "arn") + "/*",
    }

    _, lifecycle = only(stack, "aws_s3_bucket_lifecycle_configuration")
    (expiry,) = lifecycle["rule"]
    assert expiry["status"] == "Enabled"
    assert expiry["noncurrent_version_expiration"] == [{"noncurrent_days": 90}]
