"""Rules: egress a workload or a listener needs."""

from __future__ import annotations

from collections.abc import Iterator

from ops.preflight.finding import Finding, When
from ops.preflight.model import Address, Model, address, addresses, as_list
from ops.preflight.rules import per_stack, rule
from ops.preflight.workloads import needs, reach, workloads


@rule(
    "workload-egress",
    "every ECS task reaches what it needs to start and run: its image registry, log, secret "
    "and ECS Exec endpoints, through NAT or VPC endpoints",
    "https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html (ecr.api, ecr.dkr "
    "and the S3 gateway), https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"
    "vpc-endpoints.html (logs, ssm, secretsmanager, ssmmessages; kms for exec encryption)",
)
@per_stack
def _workload_egress(model: Model) -> Iterator[Finding]:
    for workload in workloads(model):
        reachable = reach(model, workload)
        if reachable.internet:
            continue
        for need, endpoints in needs(model, workload):
            if endpoints is None:
                missing = ["the internet (NAT and 443 egress)"]
            else:
                missing = [
                    e
                    for e in endpoints
                    if not (reachable.s3_gateway if e == "s3 gateway" else e in reachable.interface)
                ]
            if missing:
                yield model.finding(
                    "workload-egress",
                    workload.type,
                    workload.name,
                    When.RUN,
                    f"{need} needs {', '.join(missing)}, which its subnets and security groups "
                    "cannot reach: tasks fail to start or run",
                    "add the VPC endpoint(s) with 443 open from the task's security groups, or "
                    "route the subnets through NAT with 443 egress",
                )


@rule(
    "cognito-idp-egress",
    "a load balancer that authenticates with Cognito may reach the IdP on 443",
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/"
    "listener-authenticate-users.html (the security group must allow outbound 443 to the IdP)",
)
@per_stack
def _cognito_egress(model: Model) -> Iterator[Finding]:
    listeners: dict[str, Address | None] = {
        name: address(body.get("load_balancer_arn"))
        for name, body in model.items("aws_lb_listener")
    }
    for type_, key in (("aws_lb_listener", "default_action"), ("aws_lb_listener_rule", "action")):
        for name, body in model.items(type_):
            if not any(a.get("type") == "authenticate-cognito" for a in as_list(body.get(key))):
                continue
            if type_ == "aws_lb_listener":
                lb_ref = listeners.get(name)
            else:
                listener = address(body.get("listener_arn"))
                lb_ref = listeners.get(listener.name) if listener else None
            lb = model.get(lb_ref)
            groups = [str(a) for a in addresses((lb or {}).get("security_groups"))]
            if lb is not None and not model.reaches_internet(groups):
                yield model.finding(
                    "cognito-idp-egress",
                    type_,
                    name,
                    When.RUN,
                    f"authenticates with Cognito, but {lb_ref}'s security groups have no "
                    "egress 443 to the internet: sign-in ends in HTTP 500",
                    "add an egress rule tcp 443 to 0.0.0.0/0 on the load balancer's security group",
                )
