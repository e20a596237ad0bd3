"""AWS WAF web ACL in front of the public load balancer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from constructs import Construct

from envs.schema.alb import ManagedRuleGroup, WafConfig
from modules.alb import LoadBalancer
from modules.aws import (
    cloudwatch_log_group,
    cloudwatch_log_resource_policy,
    wafv2_web_acl,
    wafv2_web_acl_association,
    wafv2_web_acl_logging_configuration,
)
from modules.iam import policy_json
from modules.kms import LogsKey

waf = wafv2_web_acl

# Evaluation order: IP lists first (cheap), then the common OWASP-style rules, then known bad
# inputs. IP reputation and anonymous IP lists: checkov CKV2_AWS_76 / the AWS WAF guide,
# https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-ip-rep.html
MANAGED_RULE_GROUPS = tuple(ManagedRuleGroup)


class _Visibility(TypedDict):
    """Keyword arguments shared by the rule and web ACL visibility configs."""

    cloudwatch_metrics_enabled: bool
    metric_name: str
    sampled_requests_enabled: bool


def _visibility(metric: str) -> _Visibility:
    return {
        "cloudwatch_metrics_enabled": True,
        "metric_name": metric,
        "sampled_requests_enabled": True,
    }


class WebAcl(Construct):
    """A regional web ACL allowing by default, blocking what AWS's managed rule groups match
    and any client above `config.rate_limit_per_5_minutes` requests, associated with
    `load_balancer`.

    Requests are logged to a KMS-encrypted log group (`aws-waf-logs-<name>`) with the
    Authorization and Cookie headers redacted.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        config: WafConfig,
        *,
        load_balancer: LoadBalancer,
        logs_key: LogsKey,
        name: str,
        region: str,
        account_id: str,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, id_)
        count_only_rules: Mapping[ManagedRuleGroup, tuple[str, ...]] = config.count_only_rules
        rules = [
            waf.Wafv2WebAclRule(
                name=group.value,
                priority=priority,
                override_action=waf.Wafv2WebAclRuleOverrideAction(
                    none=waf.Wafv2WebAclRuleOverrideActionNone()
                ),
                statement={
                    "managed_rule_group_statement": {
                        "name": group.value,
                        "vendor_name": "AWS",
                        **(
                            {
                                "rule_action_override": [
                                    {"name": rule, "action_to_use": {"count": {}}}
                                    for rule in count_only_rules[group]
                                ]
                            }
                            if count_only_rules.get(group)
                            else {}
                        ),
                    }
                },
                visibility_config=waf.Wafv2WebAclRuleVisibilityConfig(**_visibility(group.value)),
            )
            for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1)
        ]
        rules.append(
            waf.Wafv2WebAclRule(
                name="rate-limit-per-ip",
                priority=len(rules) + 1,
                action=waf.Wafv2WebAclRuleAction(block=waf.Wafv2WebAclRuleActionBlock()),
                statement={
                    "rate_based_statement": {
                        "limit": config.rate_limit_per_5_minutes,
                        "aggregate_key_type": "IP",
                    }
                },
                visibility_config=waf.Wafv2WebAclRuleVisibilityConfig(
                    **_visibility("rate-limit-per-ip")
                ),
            )
        )
        self.acl = waf.Wafv2WebAcl(
            self,
            "acl",
            name=name,
            scope="REGIONAL",
            default_action=waf.Wafv2WebAclDefaultAction(allow=waf.Wafv2WebAclDefaultActionAllow()),
            rule=rules,
            visibility_config=waf.Wafv2WebAclVisibilityConfig(**_visibility(name)),
        )
        wafv2_web_acl_association.Wafv2WebAclAssociation(
            self, "association", resource_arn=load_balancer.arn, web_acl_arn=self.acl.arn
        )
        self.arn: str = self.acl.arn
        self._logging(name, region, account_id, log_retention_days, logs_key)

    def _logging(
        self, name: str, region: str, account_id: str, retention_days: int, logs_key: LogsKey
    ) -> None:
        # WAF only delivers to log groups whose name starts with aws-waf-logs-.
        group = cloudwatch_log_group.CloudwatchLogGroup(
            self,
            "logs",
            name=f"aws-waf-logs-{name}",
            retention_in_days=retention_days,
            kms_key_id=logs_key.arn,
        )
        delivery = cloudwatch_log_resource_policy.CloudwatchLogResourcePolicy(
            self,
            "log-delivery",
            policy_name=f"{name}-waf-log-delivery",
            policy_document=policy_json(
                [
                    {
                        "Sid": "WafLogDelivery",
                        "Effect": "Allow",
                        "Principal": {"Service": "delivery.logs.amazonaws.com"},
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": f"{group.arn}:*",
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": account_id},
                            "ArnLike": {"aws:SourceArn": f"arn:aws:logs:{region}:{account_id}:*"},
                        },
                    }
                ]
            ),
        )
        logging = wafv2_web_acl_logging_configuration
        logging.Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            resource_arn=self.acl.arn,
            log_destination_configs=[group.arn],
            redacted_fields=[
                logging.Wafv2WebAclLoggingConfigurationRedactedFields(
                    single_header=logging.Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(
                        name=header
                    )
                )
                for header in ("authorization", "cookie")
            ],
            depends_on=[delivery],
        )
