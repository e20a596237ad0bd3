"""A shared EFS file system and the access points workloads mount it through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from constructs import Construct

from envs.schema.storage import EFS_PORT, EfsMountConfig, FileSystemConfig
from modules.aws import (
    efs_access_point,
    efs_backup_policy,
    efs_file_system,
    efs_file_system_policy,
    efs_mount_target,
    iam_role_policy,
    kms_key,
)
from modules.iam import policy_json
from modules.network import Network
from modules.security_group import SecurityGroup

if TYPE_CHECKING:
    from modules.workload import TaskWorkload

# What an IAM-authorized NFS client needs: mount, and write unless read-only
# (https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html).
MOUNT_ACTIONS = ("elasticfilesystem:ClientMount",)
WRITE_ACTIONS = ("elasticfilesystem:ClientWrite",)
ACCESS_POINT_PERMISSIONS = "0750"


@dataclass(frozen=True)
class EfsVolume:
    """One EFS mount of a task: the task-definition volume and the main container's mount."""

    name: str
    file_system_id: str
    access_point_id: str
    container_path: str
    read_only: bool


class SharedFileSystem(Construct):
    """An EFS file system encrypted with its own KMS key (rotation on), a mount target in
    each private subnet behind a security group that starts closed, a file system policy
    refusing non-TLS access, and the backup policy from config.

    `access_point` makes an access point (POSIX user, root directory) for one workload's
    mount; `admit` opens 2049 from that workload's group only; `grant` lets its task role
    mount (and write) through that access point only.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: FileSystemConfig,
        *,
        name: str,
        network: Network,
    ) -> None:
        super().__init__(scope, id_)
        self.name = name
        self.key = kms_key.KmsKey(
            self,
            "key",
            description=f"EFS {name}",
            enable_key_rotation=True,  # AWS's default key policy: the account administers it
        )
        self.file_system = efs_file_system.EfsFileSystem(
            self,
            "file-system",
            encrypted=True,
            kms_key_id=self.key.arn,
            tags={"Name": name},
        )
        self.id: str = self.file_system.id
        self.arn: str = self.file_system.arn
        efs_backup_policy.EfsBackupPolicy(
            self,
            "backup",
            file_system_id=self.id,
            backup_policy=efs_backup_policy.EfsBackupPolicyBackupPolicy(
                status="ENABLED" if config.backup else "DISABLED"
            ),
        )
        efs_file_system_policy.EfsFileSystemPolicy(
            self,
            "policy",
            file_system_id=self.id,
            policy=policy_json(
                [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": {"AWS": "*"},
                        "Action": "*",
                        "Resource": self.arn,
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ]
            ),
        )
        self.security_group = SecurityGroup(
            self,
            "mount-targets",
            name=f"{name}-efs",
            description=f"EFS {name}: NFS from mounting workloads only",
            vpc_id=network.vpc_id,
        )
        for index, subnet_id in enumerate(network.private_subnet_ids):
            efs_mount_target.EfsMountTarget(
                self,
                f"mount-target-{index}",
                file_system_id=self.id,
                subnet_id=subnet_id,
                security_groups=[self.security_group.id],
            )

    def access_point(
        self, workload: str, index: int, mount: EfsMountConfig
    ) -> efs_access_point.EfsAccessPoint:
        ap = efs_access_point
        return ap.EfsAccessPoint(
            self,
            f"access-point-{workload}-{index}",
            file_system_id=self.id,
            posix_user=ap.EfsAccessPointPosixUser(uid=mount.uid, gid=mount.gid),
            root_directory=ap.EfsAccessPointRootDirectory(
                path=mount.root_directory or f"/{workload}",
                creation_info=ap.EfsAccessPointRootDirectoryCreationInfo(
                    owner_uid=mount.uid,
                    owner_gid=mount.gid,
                    permissions=ACCESS_POINT_PERMISSIONS,
                ),
            ),
            tags={"Name": f"{self.name}-{workload}"},
        )

    def admit(self, workload: SecurityGroup) -> None:
        self.security_group.allow_from(
            workload, EFS_PORT, description=f"{workload.name} mounts {self.name}"
        )

    def grant(
        self,
        workload: TaskWorkload,
        access_point: efs_access_point.EfsAccessPoint,
        *,
        read_only: bool,
        index: int,
    ) -> None:
        statement: dict[str, Any] = {
            "Sid": "MountThroughAccessPoint",
            "Effect": "Allow",
            "Action": list(MOUNT_ACTIONS + (() if read_only else WRITE_ACTIONS)),
            "Resource": self.arn,
            "Condition": {"StringEquals": {"elasticfilesystem:AccessPointArn": access_point.arn}},
        }
        iam_role_policy.IamRolePolicy(
            workload,
            f"efs-{index}",
            role=workload.task_role.id,
            name=f"efs-{index}",
            policy=policy_json([statement]),
        )
