"""Config for shared storage: EFS file systems per environment, mounted by workloads."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import model_validator

from envs.schema.common import Strict, between

# EFS access point limits (CreateAccessPoint: PosixUser Uid/Gid 0-4294967295; RootDirectory
# Path 1-100 characters, at most four subdirectories:
# https://docs.aws.amazon.com/efs/latest/ug/API_CreateAccessPoint.html).
POSIX_ID = between(0, 4294967295)
ROOT_DIRECTORY_MAX_CHARS = 100
ROOT_DIRECTORY_MAX_DEPTH = 4
ROOT_DIRECTORY = re.compile(r"^(/[A-Za-z0-9._-]+)+$")
EFS_PORT = 2049
"""NFS: the only port a mount target needs (https://docs.aws.amazon.com/efs/latest/ug/network-access.html)."""


class FileSystemConfig(Strict):
    """An EFS file system: KMS-encrypted, a mount target in each private subnet, reachable on
    2049 only from the workloads that mount it, TLS-only and IAM-authorized."""

    backup: bool = True
    """Daily AWS Backup of the file system (EFS automatic backups)."""


class EfsMountConfig(Strict):
    """Mount an environment file system into the main container through an access point of
    this workload's own (its POSIX user and root directory)."""

    file_system: str
    """Name of a file system in the environment's `file_systems`."""
    container_path: str
    """Absolute path in the container, e.g. /data."""
    read_only: bool = False
    """Mount read-only (and grant ClientMount without ClientWrite)."""
    uid: Annotated[int, POSIX_ID] = 1000
    """POSIX user ID every file operation runs as."""
    gid: Annotated[int, POSIX_ID] = 1000
    """POSIX group ID every file operation runs as."""
    root_directory: str | None = None
    """Directory of the file system the access point exposes; default `/<workload>`."""
    transit_encryption: bool = True
    """TLS between the task and EFS; required, since the platform authorizes mounts with IAM."""

    @model_validator(mode="after")
    def _limits(self) -> EfsMountConfig:
        problems = []
        if not self.container_path.startswith("/") or self.container_path in ("/", "/tmp"):
            problems.append(
                f"container_path: {self.container_path!r} must be an absolute path other than "
                "/ and /tmp"
            )
        root = self.root_directory
        if root is not None and (
            not ROOT_DIRECTORY.fullmatch(root)
            or len(root) > ROOT_DIRECTORY_MAX_CHARS
            or root.count("/") > ROOT_DIRECTORY_MAX_DEPTH
        ):
            problems.append(
                f"root_directory: {root!r} must be an absolute path of at most "
                f"{ROOT_DIRECTORY_MAX_CHARS} characters and {ROOT_DIRECTORY_MAX_DEPTH} levels"
            )
        if not self.transit_encryption:
            # EFSAuthorizationConfig: "If IAM is enabled, transit encryption must be enabled"
            # (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_EFSAuthorizationConfig.html).
            problems.append(
                "transit_encryption: the platform authorizes EFS mounts with IAM, which ECS "
                "allows only with transit encryption; set it to true"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self
