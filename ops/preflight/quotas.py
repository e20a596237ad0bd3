"""Rules: default service quotas."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from ops.preflight.finding import Finding, When
from ops.preflight.model import Model, address, addresses, as_list
from ops.preflight.rules import per_stack, rule
from ops.preflight.workloads import workloads

SG_RULES_PER_DIRECTION = 60  # default quota, adjustable
SGS_PER_ENI = 5
EIPS_PER_REGION = 5
ALB_RULES = 100  # listener rules per ALB, not counting the default rules
ALB_TARGET_GROUPS = 100


@rule(
    "quota-security-group-rules",
    f"at most {SG_RULES_PER_DIRECTION} inbound and {SG_RULES_PER_DIRECTION} outbound rules per "
    "security group",
    "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups",
)
@per_stack
def _sg_rules(model: Model) -> Iterator[Finding]:
    for direction in ("ingress", "egress"):
        counts: dict[str, int] = defaultdict(int)
        for body in model.rules(direction):
            group = address(body.get("security_group_id"))
            if group is not None:
                counts[group.name] += max(1, len(as_list(body.get("cidr_blocks"))))
        for group_name, count in counts.items():
            if count > SG_RULES_PER_DIRECTION:
                yield model.finding(
                    "quota-security-group-rules",
                    "aws_security_group",
                    group_name,
                    When.APPLY,
                    f"{count} {direction} rules, above the default quota of "
                    f"{SG_RULES_PER_DIRECTION} (RulesPerSecurityGroupLimitExceeded)",
                    "share one source security group instead of a rule per peer, or raise "
                    "the quota",
                )


@rule(
    "quota-security-groups-per-eni",
    f"at most {SGS_PER_ENI} security groups per network interface",
    "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups",
)
@per_stack
def _sgs_per_eni(model: Model) -> Iterator[Finding]:
    for workload in workloads(model):
        if len(workload.security_groups) > SGS_PER_ENI:
            yield model.finding(
                "quota-security-groups-per-eni",
                workload.type,
                workload.name,
                When.RUN,
                f"{len(workload.security_groups)} security groups on the task's ENI "
                f"(quota {SGS_PER_ENI}): tasks fail to start",
                "merge security groups",
            )
    for name, body in model.items("aws_lb"):
        if len(addresses(body.get("security_groups"))) > SGS_PER_ENI:
            yield model.finding(
                "quota-security-groups-per-eni",
                "aws_lb",
                name,
                When.APPLY,
                f"more than {SGS_PER_ENI} security groups",
                "merge security groups",
            )


@rule(
    "quota-alb",
    f"at most {ALB_RULES} listener rules and {ALB_TARGET_GROUPS} target groups per ALB",
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html",
)
@per_stack
def _alb_quotas(model: Model) -> Iterator[Finding]:
    listener_lb = {
        name: str(address(body.get("load_balancer_arn")))
        for name, body in model.items("aws_lb_listener")
    }
    rules: dict[str, int] = defaultdict(int)
    groups: dict[str, set[str]] = defaultdict(set)
    for _, body in model.items("aws_lb_listener_rule"):
        listener = address(body.get("listener_arn"))
        lb = listener_lb.get(listener.name if listener else "", "")
        rules[lb] += 1
        groups[lb] |= {
            str(a) for a in addresses(body.get("action")) if a.type == "aws_lb_target_group"
        }
    for name, body in model.items("aws_lb_listener"):
        lb = listener_lb[name]
        groups[lb] |= {
            str(a) for a in addresses(body.get("default_action")) if a.type == "aws_lb_target_group"
        }
    for lb, count in rules.items():
        if count > ALB_RULES and lb.startswith("aws_lb."):
            yield model.finding(
                "quota-alb",
                "aws_lb",
                lb.split(".", 1)[1],
                When.APPLY,
                f"{count} listener rules (quota {ALB_RULES}; TooManyRules)",
                "split services over more load balancers, or raise the quota",
            )
    for lb, found in groups.items():
        if len(found) > ALB_TARGET_GROUPS and lb.startswith("aws_lb."):
            yield model.finding(
                "quota-alb",
                "aws_lb",
                lb.split(".", 1)[1],
                When.APPLY,
                f"{len(found)} target groups (quota {ALB_TARGET_GROUPS}; TooManyTargetGroups)",
                "split services over more load balancers, or raise the quota",
            )


@rule(
    "quota-eips",
    f"at most {EIPS_PER_REGION} Elastic IPs per region across the stacks sharing an account",
    "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-eips",
)
def _eips(models: Sequence[Model]) -> Iterator[Finding]:
    by_region: dict[str, list[tuple[Model, str]]] = defaultdict(list)
    for model in models:
        by_region[model.region] += [(model, name) for name, _ in model.items("aws_eip")]
    for region, eips in by_region.items():
        if len(eips) > EIPS_PER_REGION:
            model, name = eips[EIPS_PER_REGION]
            yield model.finding(
                "quota-eips",
                "aws_eip",
                name,
                When.APPLY,
                f"{len(eips)} Elastic IPs in {region} across {len({m.name for m, _ in eips})} "
                f"stack(s), above the default quota of {EIPS_PER_REGION} (AddressLimitExceeded)",
                "use fewer NAT gateways (single NAT), or raise the quota",
            )
