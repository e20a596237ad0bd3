"""The environment's alarm topic: every alarm and failed-job rule notifies it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from constructs import Construct

from envs.schema.alarms import AlarmsConfig
from modules.aws import sns_topic, sns_topic_policy, sns_topic_subscription
from modules.iam import policy_document, policy_json
from modules.kms import customer_managed_key, key_admin_statement

PUBLISHERS = ("cloudwatch.amazonaws.com", "events.amazonaws.com")
"""CloudWatch alarms and EventBridge rules publish to the topic."""


class AlarmTopic(Construct):
    """A KMS-encrypted SNS topic with the configured subscriptions.

    The topic has its own customer managed key: the roles in `admin_role_arns` administer it,
    and only CloudWatch and EventBridge may use it (to publish encrypted messages). The topic policy
    admits those two publishers only for alarms and rules of this account.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: AlarmsConfig,
        *,
        name: str,
        region: str,
        account_id: str,
        admin_role_arns: Sequence[str],
    ) -> None:
        super().__init__(scope, id_)
        key_policy = policy_document(
            [
                key_admin_statement(admin_role_arns),
                {
                    # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
                    "Sid": "PublishersEncrypt",
                    "Effect": "Allow",
                    "Principal": {"Service": list(PUBLISHERS)},
                    "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                    "Resource": "*",
                },
            ]
        )
        self.key = customer_managed_key(
            self,
            description=f"{name}: alarm notifications",
            alias=f"alias/{name}-alarms",
            policy=key_policy,
        )
        self.topic = sns_topic.SnsTopic(
            self, "topic", name=f"{name}-alarms", kms_master_key_id=self.key.arn
        )
        self.arn: str = self.topic.arn
        sources = {
            "cloudwatch.amazonaws.com": f"arn:aws:cloudwatch:{region}:{account_id}:alarm:*",
            "events.amazonaws.com": f"arn:aws:events:{region}:{account_id}:rule/*",
        }
        sns_topic_policy.SnsTopicPolicy(
            self,
            "policy",
            arn=self.topic.arn,
            policy=policy_json(
                [
                    {
                        "Sid": "OwnerManages",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                        "Action": [
                            "sns:GetTopicAttributes",
                            "sns:SetTopicAttributes",
                            "sns:Subscribe",
                            "sns:ListSubscriptionsByTopic",
                            "sns:Publish",
                        ],
                        "Resource": self.topic.arn,
                    },
                    *(
                        {
                            "Sid": "PublishFrom" + principal.split(".")[0].capitalize(),
                            "Effect": "Allow",
                            "Principal": {"Service": principal},
                            "Action": "sns:Publish",
                            "Resource": self.topic.arn,
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": account_id},
                                "ArnLike": {"aws:SourceArn": source},
                            },
                        }
                        for principal, source in sources.items()
                    ),
                ]
            ),
        )
        for subscription in config.subscriptions:
            sns_topic_subscription.SnsTopicSubscription(
                self,
                # Construct ids may not hold '/': the endpoint, made id-safe, stays stable.
                re.sub(r"[^A-Za-z0-9@.-]", "-", f"{subscription.protocol}-{subscription.endpoint}"),
                topic_arn=self.topic.arn,
                protocol=subscription.protocol.value,
                endpoint=subscription.endpoint,
            )
