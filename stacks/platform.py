"""One environment's platform: provider, S3 state backend, default tags, constructs, outputs."""

from __future__ import annotations

from cdktf import S3Backend, TerraformOutput, TerraformStack
from constructs import Construct

from envs.schema import EnvironmentConfig
from modules.aws import provider
from modules.network import Network

MANAGED_BY = "cdktf"


def default_tags(config: EnvironmentConfig) -> dict[str, str]:
    """Tags on every resource of the environment (the provider's `default_tags`)."""
    return {
        **config.tags,
        "Project": config.project,
        "Environment": config.name,
        "ManagedBy": MANAGED_BY,
    }


class PlatformStack(TerraformStack):
    """Everything one environment runs on; state in S3 under `<project>/<env>/terraform.tfstate`."""

    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, config.name)
        self.config = config
        provider.AwsProvider(
            self,
            "aws",
            region=config.region,
            default_tags=[provider.AwsProviderDefaultTags(tags=default_tags(config))],
        )
        S3Backend(
            self,
            bucket=config.state.bucket,
            key=config.state_key,
            region=config.state.region,
            encrypt=True,
        )
        # cdktf 0.21's S3Backend predates S3-native locking (Terraform >= 1.10); add it raw.
        self.add_override("terraform.backend.s3.use_lockfile", True)

        self.network = Network(self, "network", config.network, name=config.resource_prefix)

        TerraformOutput(self, "vpc_id", value=self.network.vpc_id)
        TerraformOutput(self, "vpc_cidr", value=self.network.vpc_cidr)
        TerraformOutput(self, "public_subnet_ids", value=self.network.public_subnet_ids)
        TerraformOutput(self, "private_subnet_ids", value=self.network.private_subnet_ids)
        TerraformOutput(self, "availability_zones", value=list(self.network.availability_zones))
