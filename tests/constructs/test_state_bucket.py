"""S3 backend per environment, default tags, and the state bootstrap bucket's protections."""

from __future__ import annotations

import json
from typing import Any

import pytest

from envs import DEFAULT_ENVIRONMENTS, load_environments
from tests.tf import only, ref, resources
from tests.variants import STATE_BUCKETS_BY_REGION, TWO_REGION_BOOTSTRAP

Json = dict[str, Any]


def test_each_environment_has_its_own_encrypted_locked_state(synthesized: dict[str, Json]) -> None:
    keys = set()
    for env in load_environments():
        backend = synthesized[env.name]["terraform"]["backend"]["s3"]
        expected_role = {"assume_role": {"role_arn": env.role_arn}} if env.role_arn else {}
        assert backend == {
            "bucket": env.state.bucket,
            "key": f"{env.state.key_prefix}{env.project}/{env.name}/terraform.tfstate",
            "region": env.state.region,
            "encrypt": True,
            # The customer-managed state key of the bucket's account, by alias.
            "kms_key_id": (
                f"arn:aws:kms:{env.state.region}:{env.account_id}:alias/tfstate-"
                + env.state.bucket.replace(".", "-")
            ),
            "use_lockfile": True,
            **expected_role,
        }
        keys.add(backend["key"])
    assert len(keys) == len(DEFAULT_ENVIRONMENTS)


@pytest.mark.invariant
@pytest.mark.parametrize("env", DEFAULT_ENVIRONMENTS)
def test_default_tags_on_provider(synthesized: dict[str, Json], env: str) -> None:
    config = {c.name: c for c in load_environments()}[env]
    (aws,) = synthesized[env]["provider"]["aws"]
    assert aws["region"] == config.region
    assert aws["default_tags"] == [
        {
            "tags": {
                **config.tags,
                "Project": config.project,
                "Environment": env,
                "ManagedBy": "cdktf",
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
    (bucket_name,) = {env.state.bucket for env in load_environments()}
    assert bucket["bucket"] == bucket_name
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
    statements = {st["Sid"]: st for st in json.loads(policy["policy"])["Statement"]}
    statement = statements["DenyInsecureTransport"]
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


def test_state_is_encrypted_with_the_bootstrap_key_and_puts_without_it_are_denied(
    synthesized: dict[str, Json],
) -> None:
    """The bucket's default key, its alias (what the backends name) and the bucket policy all
    point at the one key the bootstrap stack creates."""
    stack = synthesized["state-bootstrap"]
    key, _ = only(stack, "aws_kms_key")
    _, alias = only(stack, "aws_kms_alias")
    bucket, _ = only(stack, "aws_s3_bucket")
    key_arn = ref("aws_kms_key", key, "arn")
    assert alias["target_key_id"] == ref("aws_kms_key", key, "key_id")
    for env in load_environments():
        backend_key = synthesized[env.name]["terraform"]["backend"]["s3"]["kms_key_id"]
        assert backend_key.endswith(":" + alias["name"]), env.name

    _, sse = only(stack, "aws_s3_bucket_server_side_encryption_configuration")
    (rule,) = sse["rule"]
    assert rule["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": key_arn,
    }
    _, policy = only(stack, "aws_s3_bucket_policy")
    statements = {st["Sid"]: st for st in json.loads(policy["policy"])["Statement"]}
    objects = ref("aws_s3_bucket", bucket, "arn") + "/*"
    no_kms = statements["DenyPutsWithoutKms"]
    assert (no_kms["Effect"], no_kms["Action"], no_kms["Resource"]) == (
        "Deny",
        "s3:PutObject",
        objects,
    )
    assert no_kms["Condition"] == {
        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}
    }
    other_key = statements["DenyPutsWithAnotherKey"]
    assert (other_key["Effect"], other_key["Action"], other_key["Resource"]) == (
        "Deny",
        "s3:PutObject",
        objects,
    )
    allowed = other_key["Condition"]["StringNotEquals"][
        "s3:x-amz-server-side-encryption-aws-kms-key-id"
    ]
    backend_keys = {
        synthesized[env.name]["terraform"]["backend"]["s3"]["kms_key_id"]
        for env in load_environments()
    }
    assert set(allowed) == {key_arn, *backend_keys}


def test_state_key_is_administered_by_named_roles_and_used_only_through_s3(
    synthesized: dict[str, Json],
) -> None:
    stack = synthesized["state-bootstrap"]
    _, key = only(stack, "aws_kms_key")
    assert key["enable_key_rotation"] is True
    statements = {st["Sid"]: st for st in json.loads(key["policy"])["Statement"]}
    environments = load_environments()
    admins = {arn for env in environments for arn in env.key_admins}
    deployers = {env.role_arn for env in environments if env.role_arn}
    admin = statements["NamedRolesAdministerTheKey"]
    assert set(admin["Principal"]["AWS"]) == admins
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} & set(admin["Action"])
    use = statements["StateThroughS3"]
    assert set(use["Principal"]["AWS"]) == admins | deployers
    assert use["Condition"] == {
        "StringEquals": {"kms:ViaService": f"s3.{environments[0].state.region}.amazonaws.com"}
    }
    # Nobody else: no statement trusts the account root.
    assert not any(":root" in json.dumps(st.get("Principal")) for st in statements.values())


def test_every_provider_is_locked_to_its_account_and_assumes_its_role(
    synthesized: dict[str, Json],
) -> None:
    for env in load_environments():
        (aws,) = synthesized[env.name]["provider"]["aws"]
        assert aws["allowed_account_ids"] == [env.account_id]
        expected = [{"role_arn": env.role_arn}] if env.role_arn else None
        assert aws.get("assume_role") == expected
    accounts = {env.account_id for env in load_environments()}
    bootstrap = synthesized["state-bootstrap"]["provider"]["aws"]
    assert {tuple(p["allowed_account_ids"]) for p in bootstrap} == {(a,) for a in accounts}
    assert resources(synthesized["state-bootstrap"], "aws_s3_bucket")


def test_state_buckets_in_two_regions_are_each_made_by_their_regions_provider(
    synthesized: dict[str, Json],
) -> None:
    """A bucket (and its key, encryption, policy, ...) created through another region's
    provider would land in the wrong region: each follows its own region's alias."""
    stack = synthesized[TWO_REGION_BOOTSTRAP]
    providers = stack["provider"]["aws"]
    by_region = {p["region"]: f"aws.{p['alias']}" if "alias" in p else "aws" for p in providers}
    assert sorted(by_region) == sorted(STATE_BUCKETS_BY_REGION)
    assert len(set(by_region.values())) == len(by_region)  # one default, the others aliased
    buckets = resources(stack, "aws_s3_bucket")
    assert sorted(b["bucket"] for b in buckets.values()) == sorted(STATE_BUCKETS_BY_REGION.values())
    for region, bucket_name in STATE_BUCKETS_BY_REGION.items():
        (name,) = [n for n, b in buckets.items() if b["bucket"] == bucket_name]
        provider = by_region[region]
        assert buckets[name].get("provider") == provider, (region, bucket_name)
        attached = {
            (type_, key): body
            for type_, by_name in stack["resource"].items()
            for key, body in by_name.items()
            if body.get("bucket") == ref("aws_s3_bucket", name)
        }
        assert {type_ for type_, _ in attached} >= {
            "aws_s3_bucket_versioning",
            "aws_s3_bucket_server_side_encryption_configuration",
            "aws_s3_bucket_public_access_block",
            "aws_s3_bucket_policy",
        }
        for (type_, key), body in attached.items():
            assert body.get("provider") == provider, (region, type_, key)
        (sse,) = [
            body
            for (type_, _), body in attached.items()
            if type_ == "aws_s3_bucket_server_side_encryption_configuration"
        ]
        key_arn = sse["rule"][0]["apply_server_side_encryption_by_default"]["kms_master_key_id"]
        kms_name = key_arn.split(".")[1]
        assert resources(stack, "aws_kms_key")[kms_name].get("provider") == provider, region
