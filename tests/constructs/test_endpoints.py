"""VPC endpoints: types, subnets, private DNS, S3 gateway on every private route table."""

from __future__ import annotations

import json
from typing import Any

from envs import load_environments
from tests.tf import by_path, only, ref, resources, where

Json = dict[str, Any]


def private_ids(stack: Json, type_: str) -> list[str]:
    return sorted(
        ref(type_, name)
        for name, body in resources(stack, type_).items()
        if "private" in body["//"]["metadata"]["path"]
    )


def test_dev_interface_endpoints_in_private_subnets_with_private_dns(dev: Json) -> None:
    interface = where(dev, "aws_vpc_endpoint", vpc_endpoint_type="Interface")
    assert sorted(e["service_name"] for e in interface.values()) == [
        "com.amazonaws.ap-northeast-1.ecr.api",
        "com.amazonaws.ap-northeast-1.ecr.dkr",
        "com.amazonaws.ap-northeast-1.kms",
        "com.amazonaws.ap-northeast-1.logs",
        "com.amazonaws.ap-northeast-1.sqs",
        "com.amazonaws.ap-northeast-1.ssmmessages",
    ]
    sg_name, _ = by_path(dev, "aws_security_group", "endpoints/endpoints/sg")
    for endpoint in interface.values():
        assert endpoint["private_dns_enabled"] is True
        assert sorted(endpoint["subnet_ids"]) == private_ids(dev, "aws_subnet")
        assert endpoint["security_group_ids"] == [ref("aws_security_group", sg_name)]


def test_optional_endpoints_come_from_config(prod: Json) -> None:
    services = {
        e["service_name"].rsplit(".", 1)[-1]
        if "ecr" not in e["service_name"]
        else e["service_name"].split("ap-northeast-1.")[1]
        for e in where(prod, "aws_vpc_endpoint", vpc_endpoint_type="Interface").values()
    }
    assert services == {"ecr.api", "ecr.dkr", "logs", "ssm", "secretsmanager", "kms", "sts", "sqs"}


def test_s3_gateway_on_every_private_route_table(synthesized: dict[str, Json]) -> None:
    for env in ("dev", "prod", "nat-none", "nat-per-az"):
        stack = synthesized[env]
        (gateway,) = where(stack, "aws_vpc_endpoint", vpc_endpoint_type="Gateway").values()
        assert gateway["service_name"] == "com.amazonaws.ap-northeast-1.s3"
        assert sorted(gateway["route_table_ids"]) == private_ids(stack, "aws_route_table")
        assert (
            ref("aws_route_table", by_path(stack, "aws_route_table", "public-rt")[0])
            not in (gateway["route_table_ids"])
        )


def test_s3_gateway_policy_is_restricted_unless_opened(synthesized: dict[str, Json]) -> None:
    for env in load_environments():
        if not env.endpoints.enabled or not env.endpoints.restrict_s3_gateway:
            continue
        (gateway,) = where(
            synthesized[env.name], "aws_vpc_endpoint", vpc_endpoint_type="Gateway"
        ).values()
        layers, *named = json.loads(gateway["policy"])["Statement"]
        assert layers["Resource"] == f"arn:aws:s3:::prod-{env.region}-starport-layer-bucket/*"
        # The named buckets, then the environment's application buckets (bucket and objects).
        arns = [f"arn:aws:s3:::{b}" for b in env.endpoints.s3_allowed_buckets]
        arns += [
            ref(
                "aws_s3_bucket",
                by_path(synthesized[env.name], "aws_s3_bucket", f"bucket-{b}/bucket")[0],
                "arn",
            )
            for b in env.buckets
        ]
        assert [s["Resource"] for s in named] == (
            [arns + [f"{arn}/*" for arn in arns]] if arns else []
        )
    (opened,) = where(
        synthesized["nat-per-az"], "aws_vpc_endpoint", vpc_endpoint_type="Gateway"
    ).values()
    assert "policy" not in opened
    (restricted,) = where(
        synthesized["https-shop"], "aws_vpc_endpoint", vpc_endpoint_type="Gateway"
    ).values()
    statements = json.loads(restricted["policy"])["Statement"]
    uploads, _ = by_path(synthesized["https-shop"], "aws_s3_bucket", "bucket-uploads/bucket")
    assert statements == [
        {
            "Sid": "EcrImageLayers",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::prod-ap-northeast-1-starport-layer-bucket/*",
        },
        {
            "Sid": "NamedBuckets",
            "Effect": "Allow",
            "Principal": "*",
            "Action": [
                "s3:AbortMultipartUpload",
                "s3:DeleteObject",
                "s3:GetBucketLocation",
                "s3:GetObject",
                "s3:ListBucket",
                "s3:ListMultipartUploadParts",
                "s3:PutObject",
            ],
            # The named bucket, then the environment's application buckets.
            "Resource": [
                "arn:aws:s3:::shop-uploads",
                ref("aws_s3_bucket", uploads, "arn"),
                "arn:aws:s3:::shop-uploads/*",
                ref("aws_s3_bucket", uploads, "arn") + "/*",
            ],
        },
    ]


def test_nat_none_still_reaches_ecr_s3_and_logs(synthesized: dict[str, Json]) -> None:
    stack = synthesized["nat-none"]
    names = {e["service_name"] for e in resources(stack, "aws_vpc_endpoint").values()}
    assert {
        "com.amazonaws.ap-northeast-1.ecr.api",
        "com.amazonaws.ap-northeast-1.ecr.dkr",
        "com.amazonaws.ap-northeast-1.logs",
        "com.amazonaws.ap-northeast-1.s3",
        "com.amazonaws.ap-northeast-1.ssmmessages",
    } <= names


def test_disabled_endpoints_create_nothing(synthesized: dict[str, Json]) -> None:
    stack = synthesized["no-endpoints"]
    assert resources(stack, "aws_vpc_endpoint") == {}
    assert not any(
        b["name"].endswith("vpc-endpoints") for b in resources(stack, "aws_security_group").values()
    )
    _, nat = only(stack, "aws_nat_gateway")
    assert nat["connectivity_type"] == "public"
