"""ECR repositories for images the project builds."""

from __future__ import annotations

import json

from constructs import Construct

from envs.schema.ecs import EcrConfig
from modules.aws import ecr_lifecycle_policy, ecr_repository


class EcrRepository(Construct):
    """A private repository: scan on push, encrypted, lifecycle keeping the last N images."""

    def __init__(self, scope: Construct, id_: str, config: EcrConfig, *, name: str) -> None:
        super().__init__(scope, id_)
        self.repository = ecr_repository.EcrRepository(
            self,
            "repository",
            name=name,
            image_tag_mutability="IMMUTABLE" if config.immutable_tags else "MUTABLE",
            image_scanning_configuration=ecr_repository.EcrRepositoryImageScanningConfiguration(
                scan_on_push=True
            ),
            encryption_configuration=[
                ecr_repository.EcrRepositoryEncryptionConfiguration(encryption_type="KMS")
            ],
            force_delete=config.force_delete,
        )
        self.url: str = self.repository.repository_url
        self.arn: str = self.repository.arn
        ecr_lifecycle_policy.EcrLifecyclePolicy(
            self,
            "lifecycle",
            repository=self.repository.name,
            policy=json.dumps(
                {
                    "rules": [
                        {
                            "rulePriority": 1,
                            "description": f"keep the last {config.keep_last_images} images",
                            "selection": {
                                "tagStatus": "any",
                                "countType": "imageCountMoreThan",
                                "countNumber": config.keep_last_images,
                            },
                            "action": {"type": "expire"},
                        }
                    ]
                }
            ),
        )
