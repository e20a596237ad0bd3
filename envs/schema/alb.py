"""The load balancers (public and internal ALB), their WAF, Cognito and access logs."""

from __future__ import annotations

import enum
import re
from typing import Annotated

from pydantic import Field, StrictBool, StrictInt, field_validator

from envs.schema.common import Strict, between

# AWS limits (Elastic Load Balancing v2 API reference).
IDLE_TIMEOUT_SECONDS = between(1, 4000)

# Rate-based rule limit (requests per evaluation window, 5 minutes here): 10 to 2,000,000,000.
# Provider: internal/service/wafv2/schemas.go, rateBasedStatementSchema "limit",
# validation.IntBetween(10, 2000000000); AWS: API_RateBasedStatement.html (Limit).
WAF_RATE_LIMIT = between(10, 2_000_000_000)

# Security policies that exist and negotiate TLS 1.2 or newer only. "PQ" policies add hybrid
# post-quantum key exchange; "FIPS" ones use FIPS 140-3 validated modules.
TLS12_PLUS_POLICIES = frozenset(
    {
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
    }
)

# Policies that exist but still accept TLS 1.0 or 1.1: refused by this platform.
LEGACY_POLICIES = frozenset(
    {
        "ELBSecurityPolicy-2016-08",
        "ELBSecurityPolicy-2015-05",
        "ELBSecurityPolicy-TLS-1-0-2015-04",
        "ELBSecurityPolicy-TLS-1-1-2017-01",
        "ELBSecurityPolicy-TLS-1-2-2017-01",
        "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
        "ELBSecurityPolicy-FS-2018-06",
        "ELBSecurityPolicy-FS-1-1-2019-08",
        "ELBSecurityPolicy-FS-1-2-2019-08",
        "ELBSecurityPolicy-FS-1-2-Res-2019-08",
        "ELBSecurityPolicy-FS-1-2-Res-2020-10",
        "ELBSecurityPolicy-TLS13-1-0-2021-06",
        "ELBSecurityPolicy-TLS13-1-1-2021-06",
        "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04",
        "ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04",
    }
)
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ACM_ARN = re.compile(
    r"^arn:aws(?:-cn|-us-gov)?:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$"
)
USER_POOL_ARN = re.compile(
    r"^arn:aws(?:-cn|-us-gov)?:cognito-idp:(?P<region>[a-z0-9-]+):\d{12}:userpool/[\w-]+_\w+$"
)


class ManagedRuleGroup(enum.StrEnum):
    """AWS managed rule groups the web ACL runs, in evaluation order."""

    AMAZON_IP_REPUTATION = "AWSManagedRulesAmazonIpReputationList"
    """Addresses Amazon threat intelligence saw in bots and attacks."""
    ANONYMOUS_IP = "AWSManagedRulesAnonymousIpList"
    """VPNs, proxies, Tor nodes and hosting providers that hide the client."""
    COMMON = "AWSManagedRulesCommonRuleSet"
    """OWASP-style core rules (includes SizeRestrictions_BODY: bodies above 8 KB)."""
    KNOWN_BAD_INPUTS = "AWSManagedRulesKnownBadInputsRuleSet"
    """Request patterns of known exploits (Log4Shell and friends)."""


# A RuleActionOverride names a rule of the group: 1-128 of [A-Za-z0-9_-]; at most 100 per group.
# https://docs.aws.amazon.com/waf/latest/APIReference/API_RuleActionOverride.html
# https://docs.aws.amazon.com/waf/latest/APIReference/API_ManagedRuleGroupStatement.html
WAF_RULE_NAME = re.compile(r"^[\w-]{1,128}$")
WAF_RULE_OVERRIDES_MAX = 100


class WafConfig(Strict):
    """AWS WAF in front of the public ALB: AWS managed rule groups plus a per-IP rate limit."""

    enabled: StrictBool = True
    """Create the web ACL and associate it with the public ALB."""
    rate_limit_per_5_minutes: Annotated[StrictInt, WAF_RATE_LIMIT] = 2000
    """Requests one client IP may send in any 5-minute window before it is blocked."""
    count_only_rules: dict[ManagedRuleGroup, tuple[str, ...]] = Field(default_factory=dict)
    """Managed rules that only count (never block), by group: the way to exclude a rule that
    blocks legitimate traffic, e.g. {"AWSManagedRulesCommonRuleSet": ["SizeRestrictions_BODY"]}
    for request bodies above 8 KB. Empty: every rule of every group blocks."""

    @field_validator("count_only_rules")
    @classmethod
    def _rules(
        cls, value: dict[ManagedRuleGroup, tuple[str, ...]]
    ) -> dict[ManagedRuleGroup, tuple[str, ...]]:
        for group, rules in value.items():
            bad = [rule for rule in rules if not WAF_RULE_NAME.fullmatch(rule)]
            if bad:
                raise ValueError(
                    f"{group}: {bad} are not WAF rule names (1-128 letters, digits, '_', '-'); "
                    "copy the names from the rule group's page in the AWS WAF guide"
                )
            if len(rules) > WAF_RULE_OVERRIDES_MAX or len(set(rules)) != len(rules):
                raise ValueError(
                    f"{group}: list each rule once, at most {WAF_RULE_OVERRIDES_MAX}; got {rules}"
                )
        return value


class CognitoConfig(Strict):
    """Cognito user pool authentication in front of the public listener (HTTPS only)."""

    user_pool_arn: str
    """ARN of the Cognito user pool."""
    user_pool_client_id: str
    """App client id of the user pool."""
    user_pool_domain: str
    """The domain prefix (or custom domain) of the user pool's hosted UI."""

    @field_validator("user_pool_arn")
    @classmethod
    def _arn(cls, value: str) -> str:
        if not USER_POOL_ARN.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a Cognito user pool ARN "
                "(arn:aws:cognito-idp:<region>:<account>:userpool/<region>_<id>)"
            )
        return value

    @field_validator("user_pool_client_id")
    @classmethod
    def _client(cls, value: str) -> str:
        if not re.fullmatch(r"[\w+]{1,128}", value):
            raise ValueError(f"{value!r} is not a Cognito app client id (1-128 word characters)")
        return value


class AccessLogsConfig(Strict):
    """ALB access logs to an S3 bucket the ALB construct creates."""

    enabled: StrictBool = False
    """Write access logs to an S3 bucket the ALB construct creates."""
    retention_days: StrictInt = 90
    """Days before log objects expire from the bucket."""

    @field_validator("retention_days")
    @classmethod
    def _days(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"retention_days must be at least 1; got {value}")
        return value


class AlbConfig(Strict):
    """One application load balancer's listener and protection settings."""

    certificate_arn: str | None = None
    """Existing ACM certificate (same region). Set: HTTPS on 443 + HTTP 80 redirecting to HTTPS,
    and with a `domain` no new certificate is requested (records are still created). Unset:
    HTTPS with a certificate the platform requests when `domain` names this ALB, else HTTP 80."""
    ssl_policy: str = DEFAULT_SSL_POLICY
    """TLS negotiation policy for HTTPS; only TLS 1.2+ policies are accepted."""
    cognito: CognitoConfig | None = None
    """Authenticate every request with Cognito first (public ALB, HTTPS only: a certificate_arn
    or domain hosts)."""
    access_logs: AccessLogsConfig = AccessLogsConfig()
    """S3 access logs for this ALB."""
    deletion_protection: StrictBool = False
    """Refuse deletion of the ALB (turn off before destroying the environment)."""
    idle_timeout_seconds: Annotated[StrictInt, IDLE_TIMEOUT_SECONDS] = 60
    """Seconds a connection may stay idle."""

    @field_validator("certificate_arn")
    @classmethod
    def _certificate(cls, value: str | None) -> str | None:
        if value is not None and not ACM_ARN.fullmatch(value):
            raise ValueError(
                f"{value!r} is not an ACM certificate ARN; expected "
                "arn:aws:acm:<region>:<12-digit account>:certificate/<uuid>"
            )
        return value

    @field_validator("ssl_policy")
    @classmethod
    def _policy(cls, value: str) -> str:
        if value in LEGACY_POLICIES:
            raise ValueError(
                f"{value!r} still accepts TLS 1.0/1.1 or weak ciphers; use "
                f"{DEFAULT_SSL_POLICY} or another TLS 1.2+ policy"
            )
        if value not in TLS12_PLUS_POLICIES:
            raise ValueError(
                f"{value!r} is not an Elastic Load Balancing security policy; use "
                f"{DEFAULT_SSL_POLICY}, ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09 or another "
                "TLS 1.2+ policy listed in envs/schema/alb.py"
            )
        return value


def certificate_region(arn: str) -> str:
    match = ACM_ARN.fullmatch(arn)
    assert match is not None
    return match["region"]
