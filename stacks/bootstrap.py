"""The state bootstrap stack: the S3 state buckets and their KMS keys. Deploy it first."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from constructs import Construct

from envs.schema.environment import EnvironmentConfig
from envs.schema.names import BOOTSTRAP_STACK_NAME
from envs.schema.state import state_key_alias
from modules.aws import provider
from modules.kms import StateKey
from modules.literal import literal
from modules.state_bucket import StateBucket
from stacks.platform import MANAGED_BY

# Relative to the stack's working directory (cdktf.out/stacks/state-bootstrap): the project
# root, so re-synthesizing never deletes the bootstrap state.
BOOTSTRAP_STATE_PATH = "../../../{name}.tfstate"


class StateBootstrapStack(TerraformStack):
    """Per account and region the environments use: one AWS provider locked to that account
    (`allowed_account_ids`, assuming the first environment's `role_arn` there), and per state
    bucket in it a KMS key (alias `alias/tfstate-<bucket>`) and the bucket. Local state.

    `main.py --env NAME` limits it to the selected environments' accounts, so each account
    can be bootstrapped with its own credentials. `name` is the stack's name (the tests
    synthesize a second bootstrap, of state buckets in two regions, beside the default one).
    """

    def __init__(
        self,
        scope: Construct,
        environments: Sequence[EnvironmentConfig],
        *,
        name: str = BOOTSTRAP_STACK_NAME,
    ) -> None:
        super().__init__(scope, name)
        LocalBackend(self, path=BOOTSTRAP_STATE_PATH.format(name=name))
        environments = literal(tuple(environments))  # user text reaches Terraform literally
        places = sorted({(env.account_id, env.state.region) for env in environments})
        projects = sorted({env.project for env in environments})
        providers = {}
        for index, (account, region) in enumerate(places):
            in_account = [env for env in environments if env.account_id == account]
            role = next((env.role_arn for env in in_account if env.role_arn), None)
            providers[account, region] = provider.AwsProvider(
                self,
                f"aws-{account}-{region}",
                region=region,
                alias=None if index == 0 else f"a{account}-{region}",
                allowed_account_ids=[account],
                assume_role=[provider.AwsProviderAssumeRole(role_arn=role)] if role else None,
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
        for bucket_name in sorted({env.state.bucket for env in environments}):
            users = [env for env in environments if env.state.bucket == bucket_name]
            first = users[0]  # validate_together: one account and region per bucket
            aws = providers[first.account_id, first.state.region]
            key = StateKey(
                self,
                f"{bucket_name}-key",
                alias=state_key_alias(bucket_name),
                region=first.state.region,
                admin_role_arns=list(dict.fromkeys(a for env in users for a in env.key_admins)),
                user_role_arns=[env.role_arn for env in users if env.role_arn],
                provider=aws,
            )
            state_bucket = StateBucket(
                self,
                bucket_name,
                bucket_name=bucket_name,
                key=key,
                key_alias_arn=first.state_kms_key_arn,
                provider=aws,
            )
            self.buckets.append(state_bucket)
            TerraformOutput(self, f"{bucket_name}-arn", value=state_bucket.bucket_arn)
            TerraformOutput(self, f"{bucket_name}-key-arn", value=key.arn)
