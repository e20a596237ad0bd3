"""The state bootstrap stack: creates the S3 state buckets the environments use. Deploy first."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from constructs import Construct

from envs.names import BOOTSTRAP_STACK_NAME
from envs.schema import EnvironmentConfig
from modules.aws import provider
from modules.literal import literal
from modules.state_bucket import StateBucket
from stacks.platform import MANAGED_BY

# Relative to the stack's working directory (cdktf.out/stacks/state-bootstrap): the project
# root, so re-synthesizing never deletes the bootstrap state.
BOOTSTRAP_STATE_PATH = "../../../state-bootstrap.tfstate"


class StateBootstrapStack(TerraformStack):
    """One bucket per distinct (bucket, region) the environments name; local state."""

    def __init__(self, scope: Construct, environments: Sequence[EnvironmentConfig]) -> None:
        super().__init__(scope, BOOTSTRAP_STACK_NAME)
        LocalBackend(self, path=BOOTSTRAP_STATE_PATH)
        environments = literal(tuple(environments))  # user text reaches Terraform literally
        buckets = sorted({(env.state.bucket, env.state.region) for env in environments})
        regions = sorted({region for _, region in buckets})
        projects = sorted({env.project for env in environments})
        providers = {}
        for index, region in enumerate(regions):
            providers[region] = provider.AwsProvider(
                self,
                f"aws-{region}",
                region=region,
                alias=None if index == 0 else region,
                default_tags=[
                    provider.AwsProviderDefaultTags(
                        tags={
                            "Project": ",".join(projects),
                            "ManagedBy": MANAGED_BY,
                            "Purpose": "terraform-state",
                        }
                    )
                ],
            )
        self.buckets: list[StateBucket] = []
        for bucket_name, region in buckets:
            state_bucket = StateBucket(
                self, bucket_name, bucket_name=bucket_name, provider=providers[region]
            )
            self.buckets.append(state_bucket)
            TerraformOutput(self, f"{bucket_name}-arn", value=state_bucket.bucket_arn)
