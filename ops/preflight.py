"""Preflight: find apply-time traps in the synthesized Terraform JSON before Terraform runs.

    python -m ops preflight                 # every stack in cdktf.out (or $CDKTF_OUTDIR)
    python -m ops preflight --env dev       # one or more stacks

Reads `cdktf.out/stacks/*/cdk.tf.json` only (no provider, no AWS, standard library) and judges
it generically, by resource type and reference, never by this project's construct names: it
works on any CDKTF/Terraform JSON app. Every rule cites where its limit comes from (the AWS
provider's source, hashicorp/terraform-provider-aws `internal/service/...`, or the AWS
documentation). Each finding names the resource address, the construct path, what fails and
when (plan / apply / run time), and the fix.

Warnings (printed, exit status unchanged) flag what synthesizes and plans but should not be
deployed as is, e.g. a domain under a reserved placeholder zone.

Exit status: 0 no findings (warnings allowed); 1 findings; 2 bad input (no cdktf.out, unknown
env).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ops.synth_reader import (
    Resource,
    Stack,
    SynthError,
    add_stack_arguments,
    available,
    container_definitions,
    load_stack,
)

EXIT_FINDINGS = 1
HTTPS = 443
ANYWHERE = "0.0.0.0/0"


class When(StrEnum):
    """When the trap springs."""

    PLAN = "plan"
    APPLY = "apply"
    RUN = "run time"


@dataclass(frozen=True)
class Finding:
    rule: str
    stack: str
    address: str
    """Terraform resource address, e.g. `aws_lb.public-alb_lb_4D3A5E1B`."""
    path: str
    """Construct path from the resource's `//.metadata.path` (empty when absent)."""
    when: When
    problem: str
    fix: str

    def render(self) -> str:
        where = f"{self.stack}: {self.address}" + (f" ({self.path})" if self.path else "")
        return f"{where}: [{self.rule}] fails at {self.when}: {self.problem}; fix: {self.fix}"


# --- reading the JSON generically -------------------------------------------------------------

# A live reference: `${type.name...}` or `${data.type.name...}`, not escaped as `$${`.
LIVE_REFERENCE = re.compile(r"(?<!\$)\$\{(data\.)?([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)")
NON_RESOURCE_ROOTS = {"var", "local", "module", "each", "count", "path", "self", "terraform"}


@dataclass(frozen=True)
class Address:
    type: str
    name: str
    data: bool = False

    def __str__(self) -> str:
        return f"{'data.' if self.data else ''}{self.type}.{self.name}"


def addresses(value: Any) -> list[Address]:
    """Every resource or data source a JSON value references (through `${...}`)."""
    text = value if isinstance(value, str) else json.dumps(value)
    found = []
    for data, type_, name in LIVE_REFERENCE.findall(text):
        if not data and type_ in NON_RESOURCE_ROOTS:
            continue
        found.append(Address(type_, name, bool(data)))
    return found


def address(value: Any) -> Address | None:
    found = addresses(value) if value is not None else []
    return found[0] if found else None


def construct_path(body: Resource) -> str:
    metadata = (body.get("//") or {}).get("metadata") or {}
    return str(metadata.get("path", ""))


def literal(value: Any) -> str | None:
    """A plain string without interpolation (its value is known at plan), else None."""
    if isinstance(value, str) and not addresses(value) and "${" not in value.replace("$${", ""):
        return value.replace("$${", "${").replace("%%{", "%{")
    return None


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def depends_on(body: Resource) -> set[str]:
    return {str(item) for item in as_list(body.get("depends_on"))}


class Model:
    """One stack, with the lookups the rules share."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.name = stack.name

    def items(self, type_: str) -> Iterator[tuple[str, Resource]]:
        return self.stack.items(type_)

    def get(self, ref: Address | None) -> Resource | None:
        if ref is None or ref.data:
            return None
        return self.stack.resources(ref.type).get(ref.name)

    def finding(
        self, rule: str, type_: str, name: str, when: When, problem: str, fix: str
    ) -> Finding:
        body = self.stack.resources(type_).get(name, {})
        return Finding(rule, self.name, f"{type_}.{name}", construct_path(body), when, problem, fix)

    @property
    def region(self) -> str:
        providers = self.stack.document.get("provider", {}).get("aws") or [{}]
        return str(providers[0].get("region", ""))

    # --- network --------------------------------------------------------------------------

    def route_tables_of(self, subnet: str) -> set[str]:
        return {
            str(address(assoc.get("route_table_id")))
            for _, assoc in self.items("aws_route_table_association")
            if (a := address(assoc.get("subnet_id"))) and a.name == subnet
        }

    def internet_routes(self) -> dict[str, set[str]]:
        """Route table address -> kinds of its 0.0.0.0/0 targets ('nat', 'igw')."""
        routes: dict[str, set[str]] = defaultdict(set)
        entries: list[tuple[str, Resource]] = [
            (str(address(r.get("route_table_id"))), r) for _, r in self.items("aws_route")
        ]
        for name, body in self.items("aws_route_table"):
            entries += [(f"aws_route_table.{name}", r) for r in as_list(body.get("route"))]
        for table_address, route in entries:
            if route.get("destination_cidr_block") != ANYWHERE:
                continue
            if route.get("nat_gateway_id"):
                routes[table_address].add("nat")
            elif str(route.get("gateway_id", "")).startswith("${aws_internet_gateway."):
                routes[table_address].add("igw")
        return routes

    def vpc_of_subnets(self, subnets: Iterable[Address]) -> str | None:
        for subnet in subnets:
            body = self.get(subnet)
            if body and (vpc := address(body.get("vpc_id"))):
                return str(vpc)
        return None

    # --- security groups ------------------------------------------------------------------

    def rules(self, direction: str) -> list[Resource]:
        standalone = [body for _, body in self.items(f"aws_vpc_security_group_{direction}_rule")]
        kind = "ingress" if direction == "ingress" else "egress"
        legacy = [
            {**body, "security_group_id": body.get("security_group_id")}
            for _, body in self.items("aws_security_group_rule")
            if body.get("type") == kind
        ]
        inline = [
            {**rule, "security_group_id": f"${{aws_security_group.{name}.id}}"}
            for name, group in self.items("aws_security_group")
            for rule in as_list(group.get(kind))
        ]
        return standalone + legacy + inline

    def egress_443(self, groups: Iterable[str]) -> list[Resource]:
        chosen = set(groups)
        return [
            rule
            for rule in self.rules("egress")
            if str(address(rule.get("security_group_id"))) in chosen and covers(rule, HTTPS)
        ]

    def reaches_internet(self, groups: Iterable[str]) -> bool:
        return any(
            rule.get("cidr_ipv4") == ANYWHERE or ANYWHERE in as_list(rule.get("cidr_blocks"))
            for rule in self.egress_443(groups)
        )

    def reaches_group(self, groups: Iterable[str], target: str) -> bool:
        """Some group in `groups` may open 443 to `target` and `target` admits it."""
        chosen = {str(g) for g in groups}
        out = any(
            str(
                address(
                    rule.get("referenced_security_group_id") or rule.get("source_security_group_id")
                )
            )
            == target
            or rule.get("cidr_ipv4") == ANYWHERE
            for rule in self.egress_443(chosen)
        )
        into = any(
            str(address(rule.get("security_group_id"))) == target
            and covers(rule, HTTPS)
            and (
                str(
                    address(
                        rule.get("referenced_security_group_id")
                        or rule.get("source_security_group_id")
                    )
                )
                in chosen
            )
            for rule in self.rules("ingress")
        )
        return out and into


def covers(rule: Resource, port: int) -> bool:
    if str(rule.get("ip_protocol", rule.get("protocol", ""))) in ("-1", "all"):
        return True
    low, high = rule.get("from_port"), rule.get("to_port")
    return isinstance(low, int) and isinstance(high, int) and low <= port <= high


# --- workloads: what ECS runs, where, and what it needs ---------------------------------------


@dataclass(frozen=True)
class Workload:
    type: str
    name: str
    task_definition: Resource
    subnets: tuple[Address, ...]
    security_groups: tuple[str, ...]
    exec_enabled: bool
    cluster: Resource | None
    public_ip: bool = False
    """assign_public_ip: in a subnet routed to an internet gateway, the task reaches out."""


def workloads(model: Model) -> Iterator[Workload]:
    """ECS services and scheduled tasks with their task definition and network."""
    for name, service in model.items("aws_ecs_service"):
        task = model.get(address(service.get("task_definition")))
        network = (as_list(service.get("network_configuration")) or [{}])[0]
        if task is None:
            continue
        yield Workload(
            "aws_ecs_service",
            name,
            task,
            tuple(addresses(network.get("subnets"))),
            tuple(str(a) for a in addresses(network.get("security_groups"))),
            service.get("enable_execute_command") is True,
            model.get(address(service.get("cluster"))),
            network.get("assign_public_ip") is True,
        )
    for name, schedule in model.items("aws_scheduler_schedule"):
        target = (as_list(schedule.get("target")) or [{}])[0]
        ecs = (as_list(target.get("ecs_parameters")) or [{}])[0]
        task = model.get(address(ecs.get("task_definition_arn")))
        if task is None:
            continue
        network = (as_list(ecs.get("network_configuration")) or [{}])[0]
        yield Workload(
            "aws_scheduler_schedule",
            name,
            task,
            tuple(addresses(network.get("subnets"))),
            tuple(str(a) for a in addresses(network.get("security_groups"))),
            False,
            model.get(address(target.get("arn"))),
            network.get("assign_public_ip") is True,
        )


@dataclass(frozen=True)
class Reach:
    """What a workload's network can reach."""

    internet: bool
    interface: frozenset[str]
    """Interface endpoint services (`ecr.api`, `logs`, ...) reachable on 443."""
    s3_gateway: bool


def reach(model: Model, workload: Workload) -> Reach:
    tables = set()
    for subnet in workload.subnets:
        tables |= model.route_tables_of(subnet.name)
    routes = model.internet_routes()
    # Out through NAT, or through the internet gateway with a public IP.
    usable = {"nat", "igw"} if workload.public_ip else {"nat"}
    routed = bool(tables) and all(routes.get(t, set()) & usable for t in tables)
    internet = routed and model.reaches_internet(workload.security_groups)
    vpc = model.vpc_of_subnets(workload.subnets)
    interface: set[str] = set()
    s3 = False
    for _, endpoint in model.items("aws_vpc_endpoint"):
        if str(address(endpoint.get("vpc_id"))) != vpc:
            continue
        service = ".".join(str(endpoint.get("service_name", "")).split(".")[3:])
        if endpoint.get("vpc_endpoint_type") == "Gateway" and service == "s3":
            on_tables = {str(a) for a in addresses(endpoint.get("route_table_ids"))}
            s3 = bool(tables) and tables <= on_tables
        elif endpoint.get("vpc_endpoint_type") == "Interface":
            groups = [str(a) for a in addresses(endpoint.get("security_group_ids"))]
            if any(model.reaches_group(workload.security_groups, g) for g in groups):
                interface.add(service)
    return Reach(internet, frozenset(interface), s3)


def needs(model: Model, workload: Workload) -> list[tuple[str, tuple[str, ...] | None]]:
    """(need, interface endpoint services that meet it; None: only the internet can)."""
    found: list[tuple[str, tuple[str, ...] | None]] = []
    for container in container_definitions(workload.task_definition):
        image = str(container.get("image", ""))
        in_region_ecr = image.startswith("${aws_ecr_repository.") or (
            f".dkr.ecr.{model.region}.amazonaws.com/" in image
        )
        if in_region_ecr:
            found.append((f"pulling {image} from ECR", ("ecr.api", "ecr.dkr", "s3 gateway")))
        elif image:
            found.append((f"pulling {image} (not this region's ECR)", None))
        log = container.get("logConfiguration") or {}
        if log.get("logDriver") == "awslogs":
            found.append(("shipping awslogs", ("logs",)))
        for secret in as_list(container.get("secrets")):
            source = str(secret.get("valueFrom", ""))
            if ":ssm:" in source or not source.startswith("arn:"):
                found.append(("reading SSM parameter secrets", ("ssm",)))
            elif ":secretsmanager:" in source:
                found.append(("reading Secrets Manager secrets", ("secretsmanager",)))
    if workload.exec_enabled:
        found.append(("ECS Exec sessions", ("ssmmessages",)))
        if exec_kms_key(workload.cluster):
            found.append(("ECS Exec session encryption", ("kms",)))
    return list(dict.fromkeys(found))


def exec_kms_key(cluster: Resource | None) -> Any:
    for configuration in as_list((cluster or {}).get("configuration")):
        for exec_config in as_list(configuration.get("execute_command_configuration")):
            if exec_config.get("kms_key_id"):
                return exec_config["kms_key_id"]
    return None


# --- rules ------------------------------------------------------------------------------------

Check = Callable[[Sequence[Model]], Iterator[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    source: str
    check: Check


RULES: list[Rule] = []


def rule(id_: str, summary: str, source: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULES.append(Rule(id_, summary, source, check))
        return check

    return register


def per_stack(check: Callable[[Model], Iterator[Finding]]) -> Check:
    def run(models: Sequence[Model]) -> Iterator[Finding]:
        for model in models:
            yield from check(model)

    return run


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


EXEC_WRITABLE = ("/var/lib/amazon", "/var/log/amazon")


@rule(
    "exec-writable-filesystem",
    "ECS Exec containers with a read-only root have the SSM agent's paths writable",
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html (Considerations: "
    "the SSM agent needs a writable container file system); workaround: writable volumes at "
    "/var/lib/amazon and /var/log/amazon (github.com/aws/containers-roadmap/issues/1359)",
)
@per_stack
def _exec_writable(model: Model) -> Iterator[Finding]:
    for workload in workloads(model):
        if not workload.exec_enabled:
            continue
        volumes = {v.get("name") for v in as_list(workload.task_definition.get("volume"))}
        for container in container_definitions(workload.task_definition):
            if container.get("readonlyRootFilesystem") is not True:
                continue
            writable = {
                m.get("containerPath")
                for m in as_list(container.get("mountPoints"))
                if m.get("readOnly") is not True and m.get("sourceVolume") in volumes
            }
            missing = [path for path in EXEC_WRITABLE if path not in writable]
            if missing:
                yield model.finding(
                    "exec-writable-filesystem",
                    workload.type,
                    workload.name,
                    When.RUN,
                    f"ECS Exec is on and container {container.get('name')!r} has a read-only "
                    f"root without writable {', '.join(missing)}: the SSM agent cannot start, "
                    "`aws ecs execute-command` fails",
                    f"mount task volumes read-write at {', '.join(missing)}, or turn "
                    "readonlyRootFilesystem off for it",
                )


EXEC_ACTIONS = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)


def allowed_actions(model: Model, role: Address | None) -> set[str]:
    """Actions the inline policies of `role` allow (as written; wildcards kept)."""
    actions: set[str] = set()
    if role is None:
        return actions
    for _, policy in model.items("aws_iam_role_policy"):
        if address(policy.get("role")) != Address(role.type, role.name):
            continue
        try:
            document = json.loads(str(policy.get("policy", "{}")))
        except ValueError:
            continue
        for statement in as_list(document.get("Statement")):
            if statement.get("Effect") == "Allow":
                actions |= {str(a) for a in as_list(statement.get("Action"))}
    return actions


def grants(actions: set[str], action: str) -> bool:
    service = action.split(":")[0]
    return action in actions or f"{service}:*" in actions or "*" in actions


@rule(
    "exec-task-role",
    "an ECS Exec task's role may open the ssmmessages channels (and use the session key)",
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html (IAM "
    "permissions required for ECS Exec: the four ssmmessages actions on the task role, "
    "kms:Decrypt on the key when sessions are encrypted)",
)
@per_stack
def _exec_task_role(model: Model) -> Iterator[Finding]:
    for workload in workloads(model):
        if not workload.exec_enabled:
            continue
        role = address(workload.task_definition.get("task_role_arn"))
        actions = allowed_actions(model, role)
        required = list(EXEC_ACTIONS) + (["kms:Decrypt"] if exec_kms_key(workload.cluster) else [])
        missing = [action for action in required if not grants(actions, action)]
        if missing:
            yield model.finding(
                "exec-task-role",
                workload.type,
                workload.name,
                When.RUN,
                f"ECS Exec is on but the task role {role or '(none)'} is not allowed "
                f"{', '.join(missing)}: `aws ecs execute-command` fails",
                "grant those actions in the task role's policy",
            )


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


@dataclass(frozen=True)
class NameRule:
    attribute: str
    pattern: str
    max_length: int
    source: str
    min_length: int = 1
    forbidden_prefix: str | None = None


NAME_RULES: dict[str, NameRule] = {
    "aws_lb": NameRule(
        "name",
        r"[0-9A-Za-z-]+",
        32,
        "internal/service/elbv2/validate.go validName",
        forbidden_prefix="internal-",
    ),
    "aws_lb_target_group": NameRule(
        "name", r"[0-9A-Za-z-]+", 32, "internal/service/elbv2/validate.go validTargetGroupName"
    ),
    "aws_iam_role": NameRule(
        "name", r"[\w+=,.@-]+", 64, "internal/service/iam/role.go (roleNameMaxLen = 64)"
    ),
    "aws_iam_role_policy": NameRule(
        "name", r"[\w+=,.@-]+", 128, "internal/service/iam/role_policy.go (rolePolicyNameMaxLen)"
    ),
    "aws_cloudwatch_log_group": NameRule(
        "name", r"[0-9A-Za-z_./#-]+", 512, "internal/service/logs/validate.go validLogGroupName"
    ),
    "aws_ecs_cluster": NameRule(
        "name",
        r"[0-9A-Za-z_-]+",
        255,
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html",
    ),
    "aws_ecs_service": NameRule(
        "name",
        r"[0-9A-Za-z_-]+",
        255,
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html",
    ),
    "aws_ecs_task_definition": NameRule(
        "family",
        r"[0-9A-Za-z_-]+",
        255,
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html",
    ),
    "aws_ecr_repository": NameRule(
        "name",
        r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
        256,
        "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html",
        min_length=2,
    ),
    "aws_scheduler_schedule": NameRule(
        "name", r"[0-9A-Za-z_.-]+", 64, "internal/service/scheduler/schedule.go (name)"
    ),
    "aws_sqs_queue": NameRule(
        "name", r"[0-9A-Za-z_-]+", 80, "internal/service/sqs/queue.go (non-FIFO queue name)"
    ),
    "aws_security_group": NameRule(
        "name",
        r"[ -~]+",
        255,
        "internal/service/ec2/vpc_security_group.go (name)",
        forbidden_prefix="sg-",
    ),
    "aws_s3_bucket": NameRule(
        "bucket",
        r"[a-z0-9][a-z0-9.-]*[a-z0-9]",
        63,
        "internal/service/s3/bucket.go validBucketName",
        min_length=3,
    ),
    "aws_wafv2_web_acl": NameRule(
        "name", r"[\w-]+", 128, "internal/service/wafv2/web_acl.go (name)"
    ),
}


@rule(
    "name-format",
    "every name the app sets passes the provider's validator for it",
    "; ".join(f"{t}.{r.attribute}: {r.source}" for t, r in NAME_RULES.items()),
)
@per_stack
def _names(model: Model) -> Iterator[Finding]:
    for type_, spec in NAME_RULES.items():
        for name, body in model.items(type_):
            value = literal(body.get(spec.attribute))
            if value is None:
                continue
            problems = []
            if not spec.min_length <= len(value) <= spec.max_length:
                problems.append(
                    f"is {len(value)} characters ({spec.min_length}-{spec.max_length} allowed)"
                )
            if not re.fullmatch(spec.pattern, value):
                problems.append(f"does not match {spec.pattern}")
            if spec.forbidden_prefix and value.startswith(spec.forbidden_prefix):
                problems.append(f"starts with {spec.forbidden_prefix!r}")
            if problems:
                yield model.finding(
                    "name-format",
                    type_,
                    name,
                    When.PLAN,
                    f"{spec.attribute} {value!r} {' and '.join(problems)} ({spec.source})",
                    f"shorten or rename {spec.attribute}",
                )


# Scope of uniqueness: account-wide (IAM), global (S3), or per region.
UNIQUE_NAMES: dict[str, tuple[str, str]] = {
    "aws_iam_role": ("name", "account"),
    "aws_s3_bucket": ("bucket", "global"),
    "aws_lb": ("name", "region"),
    "aws_lb_target_group": ("name", "region"),
    "aws_cloudwatch_log_group": ("name", "region"),
    "aws_ecs_cluster": ("name", "region"),
    "aws_ecr_repository": ("name", "region"),
    "aws_scheduler_schedule": ("name", "region"),
    "aws_sqs_queue": ("name", "region"),
    "aws_wafv2_web_acl": ("name", "region"),
}


@rule(
    "unique-names",
    "names AWS needs unique are unique across every stack (assumed to share one account)",
    "IAM names are unique per account (https://docs.aws.amazon.com/IAM/latest/UserGuide/"
    "reference_iam-quotas.html#reference_iam-quotas-names), S3 bucket names globally, the "
    "others per account and region (their Create* APIs fail with ...AlreadyExists)",
)
def _unique(models: Sequence[Model]) -> Iterator[Finding]:
    seen: dict[tuple[str, str, str], tuple[Model, str]] = {}
    for model in models:
        for type_, (attribute, scope) in UNIQUE_NAMES.items():
            where = {"account": "", "global": ""}.get(scope, model.region)
            for name, body in model.items(type_):
                value = literal(body.get(attribute))
                if value is None:
                    continue
                key = (type_, where, value)
                if key in seen:
                    other, other_name = seen[key]
                    yield model.finding(
                        "unique-names",
                        type_,
                        name,
                        When.APPLY,
                        f"{attribute} {value!r} is also used by {other.name}: "
                        f"{type_}.{other_name} ({scope}-wide name: the second create fails)",
                        "give one of them another name (e.g. prefix it with the stack's name)",
                    )
                else:
                    seen[key] = (model, name)


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


# internal/service/logs/group.go: retention_in_days validation.IntInSlice(...)
LOG_RETENTION_DAYS = (
    0,
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


@rule(
    "provider-validators",
    "attribute values the provider validates at plan (or AWS at apply)",
    "internal/service/elbv2/target_group.go (health_check interval 5-300, timeout 2-120, "
    "thresholds 2-10, deregistration_delay 0-3600, stickiness cookie_duration 1-604800; AWS: "
    "timeout < interval, matcher 200-499), internal/service/elbv2/listener_rule.go (priority "
    "1-50000; AWS: at most 5 condition values per rule, path patterns <= 128 characters), "
    "internal/service/logs/group.go (retention_in_days), internal/service/scheduler/"
    "schedule.go (maximum_retry_attempts 0-185, maximum_event_age_in_seconds 60-86400)",
)
@per_stack
def _validators(model: Model) -> Iterator[Finding]:
    def bad(type_: str, name: str, when: When, problem: str, fix: str) -> Finding:
        return model.finding("provider-validators", type_, name, when, problem, fix)

    def outside(value: Any, low: int, high: int) -> bool:
        number = int(value) if isinstance(value, int | str) and str(value).isdigit() else None
        return number is not None and not low <= number <= high

    for name, group in model.items("aws_lb_target_group"):
        for check in as_list(group.get("health_check")):
            for key, low, high in (
                ("interval", 5, 300),
                ("timeout", 2, 120),
                ("healthy_threshold", 2, 10),
                ("unhealthy_threshold", 2, 10),
            ):
                if outside(check.get(key), low, high):
                    yield bad(
                        "aws_lb_target_group",
                        name,
                        When.PLAN,
                        f"health_check.{key} {check.get(key)} is outside {low}-{high}",
                        f"set health_check.{key} within {low}-{high}",
                    )
            interval, timeout = check.get("interval"), check.get("timeout")
            if isinstance(interval, int) and isinstance(timeout, int) and timeout >= interval:
                yield bad(
                    "aws_lb_target_group",
                    name,
                    When.APPLY,
                    f"health_check.timeout {timeout} is not below interval {interval}",
                    "make the timeout smaller than the interval",
                )
            matcher = literal(check.get("matcher"))
            if matcher is not None and check.get("protocol", "HTTP") in ("HTTP", "HTTPS"):
                codes = [int(c) for c in re.findall(r"\d+", matcher)]
                if not codes or any(not 200 <= c <= 499 for c in codes):
                    yield bad(
                        "aws_lb_target_group",
                        name,
                        When.APPLY,
                        f"health_check.matcher {matcher!r} is outside 200-499",
                        "use HTTP codes between 200 and 499",
                    )
        if outside(group.get("deregistration_delay"), 0, 3600):
            yield bad(
                "aws_lb_target_group",
                name,
                When.PLAN,
                f"deregistration_delay {group.get('deregistration_delay')} is outside 0-3600",
                "set 0-3600 seconds",
            )
        for sticky in as_list(group.get("stickiness")):
            if outside(sticky.get("cookie_duration"), 1, 604800):
                yield bad(
                    "aws_lb_target_group",
                    name,
                    When.PLAN,
                    f"stickiness.cookie_duration {sticky.get('cookie_duration')} is outside "
                    "1-604800",
                    "set 1-604800 seconds",
                )
    priorities: dict[tuple[str, int], str] = {}
    for name, body in model.items("aws_lb_listener_rule"):
        priority = body.get("priority")
        if outside(priority, 1, 50000):
            yield bad(
                "aws_lb_listener_rule",
                name,
                When.PLAN,
                f"priority {priority} is outside 1-50000",
                "use a priority in 1-50000",
            )
        listener = str(body.get("listener_arn"))
        if isinstance(priority, int):
            if (listener, priority) in priorities:
                yield bad(
                    "aws_lb_listener_rule",
                    name,
                    When.APPLY,
                    f"priority {priority} is also used by aws_lb_listener_rule."
                    f"{priorities[listener, priority]} on the same listener (PriorityInUse)",
                    "give each rule of a listener its own priority",
                )
            priorities[listener, priority] = name
        values = []
        for condition in as_list(body.get("condition")):
            for key in ("path_pattern", "host_header"):
                for block in as_list(condition.get(key)):
                    values += [str(v) for v in as_list(block.get("values"))]
        if len(values) > 5:
            yield bad(
                "aws_lb_listener_rule",
                name,
                When.APPLY,
                f"{len(values)} condition values (at most 5 per rule)",
                "split the rule in two",
            )
        for value in values:
            if len(value) > 128:
                yield bad(
                    "aws_lb_listener_rule",
                    name,
                    When.APPLY,
                    f"condition value {value[:40]!r}... is {len(value)} characters (max 128)",
                    "shorten it",
                )
    for name, group in model.items("aws_cloudwatch_log_group"):
        days = group.get("retention_in_days")
        if isinstance(days, int) and days not in LOG_RETENTION_DAYS:
            yield bad(
                "aws_cloudwatch_log_group",
                name,
                When.PLAN,
                f"retention_in_days {days} is not one of {LOG_RETENTION_DAYS}",
                "pick one of the allowed values",
            )
    for name, schedule in model.items("aws_scheduler_schedule"):
        for target in as_list(schedule.get("target")):
            for retry in as_list(target.get("retry_policy")):
                if outside(retry.get("maximum_retry_attempts"), 0, 185):
                    yield bad(
                        "aws_scheduler_schedule",
                        name,
                        When.PLAN,
                        f"maximum_retry_attempts {retry.get('maximum_retry_attempts')} is "
                        "outside 0-185",
                        "set 0-185",
                    )
                if outside(retry.get("maximum_event_age_in_seconds"), 60, 86400):
                    yield bad(
                        "aws_scheduler_schedule",
                        name,
                        When.PLAN,
                        f"maximum_event_age_in_seconds {retry.get('maximum_event_age_in_seconds')}"
                        " is outside 60-86400",
                        "set 60-86400",
                    )


# An unescaped template sequence: `${...}` or `%{...}` not preceded by its escape character.
TEMPLATE = re.compile(r"(?<!\$)\$\{([^}]*)\}|(?<!%)%\{")
TRAVERSAL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_*-]+|\[[^\]]*\])*")


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def unresolved(text: str, declared: set[tuple[bool, str, str]]) -> list[str]:
    """The template sequences in `text` Terraform cannot evaluate against this stack."""
    problems = []
    for match in TEMPLATE.finditer(text):
        expression = match.group(1)
        if expression is None:
            problems.append("%{ (a template directive)")
            continue
        expression = expression.strip()
        if not TRAVERSAL.fullmatch(expression):
            continue  # a function call or operator: left to Terraform
        parts = expression.split(".")
        if parts[0] in NON_RESOURCE_ROOTS:
            continue
        is_data = parts[0] == "data"
        parts = parts[1:] if is_data else parts
        if len(parts) < 2 or (is_data, parts[0], parts[1].split("[")[0]) not in declared:
            problems.append("${" + expression + "}")
    return problems


@rule(
    "references-resolve",
    "every unescaped ${...} names a resource or data source the stack declares, and no "
    "unescaped %{ directive appears",
    "Terraform evaluates every JSON string as a template: 'Reference to undeclared resource' / "
    "'Invalid reference' at plan (https://developer.hashicorp.com/terraform/language/syntax/"
    "json#expression-mapping); literal text must be escaped as $${ and %%{",
)
@per_stack
def _references(model: Model) -> Iterator[Finding]:
    document = model.stack.document
    declared = {
        (kind == "data", type_, name)
        for kind in ("resource", "data")
        for type_, bodies in (document.get(kind) or {}).items()
        for name in bodies
    }
    for kind in ("resource", "data"):
        for type_, bodies in (document.get(kind) or {}).items():
            for name, body in bodies.items():
                for text in strings({k: v for k, v in body.items() if k != "//"}):
                    for problem in unresolved(text, declared):
                        yield model.finding(
                            "references-resolve",
                            type_,
                            name,
                            When.PLAN,
                            f"{problem} is not a reference Terraform can resolve here",
                            "declare what it references, or escape literal text as $${ / %%{",
                        )


CERTIFICATE_USERS = (
    ("aws_lb_listener", "certificate_arn"),
    ("aws_lb_listener_certificate", "certificate_arn"),
)


@rule(
    "certificate-validated",
    "a listener uses a certificate the stack requests only through its "
    "aws_acm_certificate_validation",
    "ELB refuses a certificate that ACM has not issued yet (UnsupportedCertificate); "
    "aws_acm_certificate returns as soon as the request exists, aws_acm_certificate_validation "
    "waits for issuance (internal/service/acm/certificate_validation.go; its docs, "
    "website/docs/r/acm_certificate_validation.html.markdown, wire the listener to "
    "aws_acm_certificate_validation.<name>.certificate_arn)",
)
@per_stack
def _certificate_validated(model: Model) -> Iterator[Finding]:
    validations = {
        str(address(body.get("certificate_arn"))): name
        for name, body in model.items("aws_acm_certificate_validation")
    }
    for type_, attribute in CERTIFICATE_USERS:
        for name, body in model.items(type_):
            certificate = address(body.get(attribute))
            if certificate is None or certificate.type != "aws_acm_certificate":
                continue
            requested = model.get(certificate) or {}
            if requested.get("certificate_body") is not None:  # imported: issued already
                continue
            validation = validations.get(str(certificate))
            yield model.finding(
                "certificate-validated",
                type_,
                name,
                When.APPLY,
                f"uses {certificate} before ACM has issued it: the listener can be created "
                "first and fail with UnsupportedCertificate",
                f"use aws_acm_certificate_validation.{validation}.certificate_arn"
                if validation
                else f"add an aws_acm_certificate_validation for {certificate} and use its "
                "certificate_arn",
            )


# --- warnings: deployable, but not as they are ------------------------------------------------

# Second-level names reserved for documentation (RFC 2606 section 3,
# https://www.rfc-editor.org/rfc/rfc2606#section-3): no one can validate a certificate for them.
PLACEHOLDER_ZONES = ("example.com", "example.net", "example.org")


@dataclass(frozen=True)
class Advisory:
    """A warning: the stack synthesizes and plans, but should not be deployed as it is."""

    rule: str
    stack: str
    address: str
    path: str
    problem: str
    fix: str

    def render(self) -> str:
        where = f"{self.stack}: {self.address}" + (f" ({self.path})" if self.path else "")
        return f"warning: {where}: [{self.rule}] {self.problem}; fix: {self.fix}"


def placeholder(name: object) -> str | None:
    """The reserved zone `name` is in (None: a real name)."""
    text = str(name).rstrip(".").lower()
    return next((z for z in PLACEHOLDER_ZONES if text == z or text.endswith(f".{z}")), None)


def advisories(stacks: Sequence[Stack]) -> list[Advisory]:
    """One `placeholder-zone` warning per stack whose DNS names or certificates sit in a
    reserved zone (the looked-up hosted zone, else the first certificate)."""
    found = []
    for stack in stacks:
        candidates = [
            ("data.aws_route53_zone", name, body, body.get("name"))
            for name, body in sorted(
                (stack.document.get("data", {}).get("aws_route53_zone") or {}).items()
            )
        ] + [
            ("aws_acm_certificate", name, body, body.get("domain_name"))
            for name, body in stack.items("aws_acm_certificate")
        ]
        for kind, name, body, domain in candidates:
            zone = placeholder(domain)
            if zone is not None:
                found.append(
                    Advisory(
                        "placeholder-zone",
                        stack.name,
                        f"{kind}.{name}",
                        construct_path(body),
                        f"{domain} is under {zone}, reserved for documentation (RFC 2606): "
                        "ACM cannot validate a certificate there, so apply would wait for "
                        "validation until it times out",
                        "replace the placeholder zone before deploying (domain.zone_name and "
                        "domain.hosts in the environment's file)",
                    )
                )
                break
    return found


# --- the command ------------------------------------------------------------------------------


def preflight(stacks: Sequence[Stack]) -> list[Finding]:
    """Every finding of every rule over `stacks` (cross-stack rules see them all)."""
    models = [Model(stack) for stack in stacks]
    return [finding for rule_ in RULES for finding in rule_.check(models)]


def summary(
    findings: Sequence[Finding], stacks: Sequence[Stack], warnings: Sequence[Advisory] = ()
) -> str:
    """One line, e.g. for `make synth`."""
    names = ", ".join(stack.name for stack in stacks)
    warned = f", {len(warnings)} warning(s)" if warnings else ""
    if not findings:
        return f"preflight: {len(RULES)} rules, no findings{warned} ({names})"
    return (
        f"preflight: {len(findings)} finding(s){warned} from {len(RULES)} rules ({names}); "
        "run `python -m ops preflight` for details"
    )


def load(outdir: Any, envs: Sequence[str] | None) -> list[Stack]:
    names = envs or available(outdir)
    return [load_stack(outdir, name) for name in names]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "preflight",
        help="find apply-time traps in cdktf.out before Terraform runs",
        description=__doc__.splitlines()[0],
    )
    add_stack_arguments(parser)
    parser.add_argument("--rules", action="store_true", help="list the rules and their sources")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.rules:
        for rule_ in RULES:
            print(f"{rule_.id}: {rule_.summary}\n    source: {rule_.source}")
        return 0
    try:
        stacks = load(args.outdir, args.env)
    except SynthError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    findings = preflight(stacks)
    warnings = advisories(stacks)
    for finding in findings:
        print(finding.render())
    for warning in warnings:
        print(warning.render())
    print(summary(findings, stacks, warnings))
    return EXIT_FINDINGS if findings else 0
