"""Rules: creation order the provider does not enforce (internet gateway, listeners)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from ops.preflight.finding import Finding, When
from ops.preflight.model import Model, address, addresses, as_list, depends_on
from ops.preflight.rules import per_stack, rule


@rule(
    "lb-after-internet-gateway",
    "an internet-facing load balancer depends on its VPC's internet gateway",
    "CreateLoadBalancer fails with InvalidSubnet ('VPC ... has no internet gateway') until the "
    "gateway is attached; the provider does not retry it (internal/service/elbv2/"
    "load_balancer.go) and its acceptance tests add depends_on for this "
    "(internal/service/elbv2/load_balancer_test.go)",
)
@per_stack
def _lb_after_igw(model: Model) -> Iterator[Finding]:
    for name, lb in model.items("aws_lb"):
        if lb.get("internal") is True:
            continue
        vpc = model.vpc_of_subnets(addresses(lb.get("subnets")))
        gateways = [
            f"aws_internet_gateway.{g}"
            for g, body in model.items("aws_internet_gateway")
            if str(address(body.get("vpc_id"))) == vpc
        ]
        if gateways and not depends_on(lb) & set(gateways):
            yield model.finding(
                "lb-after-internet-gateway",
                "aws_lb",
                name,
                When.APPLY,
                f"internet-facing, but not ordered after {gateways[0]}: CreateLoadBalancer can "
                "run first and fail with InvalidSubnet",
                f'add depends_on = ["{gateways[0]}"]',
            )


@rule(
    "service-after-listener",
    "an ECS service behind a target group depends on the listener or rule forwarding to it",
    "CreateService rejects a target group not yet associated with a load balancer: "
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"
    "troubleshoot-service-load-balancers.html; the aws_ecs_service docs "
    "(website/docs/r/ecs_service.html.markdown) note the depends_on on the listener",
)
@per_stack
def _service_after_listener(model: Model) -> Iterator[Finding]:
    forwarders: dict[str, set[str]] = defaultdict(set)
    for type_, key in (("aws_lb_listener", "default_action"), ("aws_lb_listener_rule", "action")):
        for name, body in model.items(type_):
            for target in addresses(body.get(key)):
                if target.type == "aws_lb_target_group":
                    forwarders[target.name].add(f"{type_}.{name}")
    for name, service in model.items("aws_ecs_service"):
        for attachment in as_list(service.get("load_balancer")):
            group = address(attachment.get("target_group_arn"))
            if group is None or group.type != "aws_lb_target_group":
                continue
            routes = forwarders.get(group.name, set())
            if not routes:
                yield model.finding(
                    "service-after-listener",
                    "aws_ecs_service",
                    name,
                    When.APPLY,
                    f"target group {group} has no listener or listener rule forwarding to it",
                    "route a listener or listener rule to the target group",
                )
            elif not depends_on(service) & routes:
                yield model.finding(
                    "service-after-listener",
                    "aws_ecs_service",
                    name,
                    When.APPLY,
                    f"not ordered after {sorted(routes)[0]}, which attaches {group} to its load "
                    "balancer: CreateService can run first and fail",
                    f'add depends_on = ["{sorted(routes)[0]}"]',
                )
