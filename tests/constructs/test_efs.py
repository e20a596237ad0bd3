"""EFS: which key, which subnets, which access point, who may reach 2049, who may mount."""

from __future__ import annotations

import json
from typing import Any

import pytest

from envs import ConfigError, merge
from tests.example_envs import build_example
from tests.example_envs.dev import OVERRIDES as DEV
from tests.tf import by_path, container_definitions, ref, resources, rule_set, where

Json = dict[str, Any]


@pytest.fixture(scope="module")
def stack(synthesized: dict[str, Json]) -> Json:
    return synthesized["sidecars"]


def test_file_system_is_kms_encrypted_in_every_private_subnet(stack: Json) -> None:
    fs_name, fs = by_path(stack, "aws_efs_file_system", "efs-shared/file-system")
    key_name, key = by_path(stack, "aws_kms_key", "efs-shared/key")
    assert fs["encrypted"] is True
    assert fs["kms_key_id"] == ref("aws_kms_key", key_name, "arn")
    assert key["enable_key_rotation"] is True
    targets = where(
        stack, "aws_efs_mount_target", file_system_id=ref("aws_efs_file_system", fs_name)
    )
    private = {
        ref("aws_subnet", name)
        for name, body in resources(stack, "aws_subnet").items()
        if "/private-" in body["//"]["metadata"]["path"]
    }
    assert {t["subnet_id"] for t in targets.values()} == private
    assert len(targets) == 2
    (backup,) = resources(stack, "aws_efs_backup_policy").values()
    assert backup["backup_policy"]["status"] == "DISABLED"  # the variant turns it off
    (policy,) = resources(stack, "aws_efs_file_system_policy").values()
    (deny,) = json.loads(policy["policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"


def test_only_mounting_workloads_reach_nfs(stack: Json) -> None:
    ingress = {r for r in rule_set(stack, "ingress") if r[0] == "fargate-sidecars-shared-efs"}
    assert ingress == {
        ("fargate-sidecars-shared-efs", "fargate-sidecars-backend-tasks", 2049),
        ("fargate-sidecars-shared-efs", "fargate-sidecars-worker-tasks", 2049),
    }
    egress_2049 = {r for r in rule_set(stack, "egress") if r[2] == 2049}
    assert {r[0] for r in egress_2049} == {
        "fargate-sidecars-backend-tasks",
        "fargate-sidecars-worker-tasks",
    }


def test_each_workload_mounts_through_its_own_access_point_with_iam_and_tls(stack: Json) -> None:
    fs_name, _ = by_path(stack, "aws_efs_file_system", "efs-shared/file-system")
    for workload, uid, root, writes in (
        ("backend", 1001, "/reports/backend", True),
        ("worker", 1000, "/worker", False),
    ):
        ap_name, ap = by_path(
            stack, "aws_efs_access_point", f"efs-shared/access-point-{workload}-0"
        )
        assert ap["posix_user"] == {"uid": uid, "gid": uid}
        assert ap["root_directory"]["path"] == root
        _, task = by_path(
            stack, "aws_ecs_task_definition", f"service-{workload}/workload/task-definition"
        )
        (volume,) = [v for v in task["volume"] if v["name"] == "efs-0"]
        config = volume["efs_volume_configuration"]
        assert config["file_system_id"] == ref("aws_efs_file_system", fs_name)
        assert config["transit_encryption"] == "ENABLED"
        assert config["authorization_config"] == {
            "access_point_id": ref("aws_efs_access_point", ap_name),
            "iam": "ENABLED",
        }
        main = container_definitions(task)[0]
        (mount,) = [m for m in main["mountPoints"] if m["sourceVolume"] == "efs-0"]
        assert (mount["containerPath"], mount["readOnly"]) == ("/data", not writes)
        role, _ = by_path(stack, "aws_iam_role", f"service-{workload}/workload/task-role")
        (policy,) = where(
            stack, "aws_iam_role_policy", role=ref("aws_iam_role", role), name="efs-0"
        ).values()
        (statement,) = json.loads(policy["policy"])["Statement"]
        expected = ["elasticfilesystem:ClientMount"] + (
            ["elasticfilesystem:ClientWrite"] if writes else []
        )
        assert statement["Action"] == expected
        assert statement["Resource"] == ref("aws_efs_file_system", fs_name, "arn")
        assert statement["Condition"] == {
            "StringEquals": {
                "elasticfilesystem:AccessPointArn": ref("aws_efs_access_point", ap_name, "arn")
            }
        }


@pytest.mark.parametrize(
    "overrides,expected",
    [
        (
            {
                "services": {
                    "backend": {"efs_mounts": [{"file_system": "nfs", "container_path": "/d"}]}
                }
            },
            "services.backend.efs_mounts.0.file_system: 'nfs' is not in file_systems; known: none",
        ),
        (
            {
                "file_systems": {"shared": {}},
                "services": {
                    "backend": {
                        "efs_mounts": [
                            {
                                "file_system": "shared",
                                "container_path": "/d",
                                "transit_encryption": False,
                            }
                        ]
                    }
                },
            },
            "services.backend.efs_mounts.0.transit_encryption: the platform authorizes EFS "
            "mounts with IAM, which ECS allows only with transit encryption; set it to true",
        ),
        (
            {
                "file_systems": {"shared": {}},
                "services": {
                    "backend": {"efs_mounts": [{"file_system": "shared", "container_path": "/tmp"}]}
                },
            },
            "services.backend.efs_mounts.0.container_path: '/tmp' must be an absolute path other",
        ),
        (
            {
                "file_systems": {"shared": {}},
                "services": {
                    "backend": {
                        "efs_mounts": [
                            {
                                "file_system": "shared",
                                "container_path": "/d",
                                "root_directory": "/a/b/c/d/e",
                            }
                        ]
                    }
                },
            },
            "services.backend.efs_mounts.0.root_directory: '/a/b/c/d/e' must be an absolute path",
        ),
    ],
)
def test_rejected_efs(overrides: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_example(merge(DEV, overrides), source="envs/dev.py")
    assert expected in caught.value.render()
