"""Workloads: what ECS runs, where, and what it needs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ops.preflight.model import Address, Model, address, addresses, as_list
from ops.run_task_contract import SPECS_OUTPUT
from ops.synth_reader import (
    Resource,
    container_definitions,
)


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
    """Everything that starts ECS tasks, with its task definition and network: services,
    schedules, and one-off jobs as `ops run-task` starts them."""
    seen: set[tuple[str, tuple[Address, ...], tuple[str, ...], bool]] = set()
    for workload in _services_and_schedules(model):
        seen.add(_launch(workload))
        yield workload
    for workload in one_off_jobs(model):
        if _launch(workload) not in seen:  # a schedule already starts it the same way
            yield workload


def _launch(workload: Workload) -> tuple[str, tuple[Address, ...], tuple[str, ...], bool]:
    """What a task start depends on: its task definition, subnets, groups and public IP."""
    definition = str(workload.task_definition.get("family", id(workload.task_definition)))
    return definition, workload.subnets, workload.security_groups, workload.public_ip


def one_off_jobs(model: Model) -> Iterator[Workload]:
    """Jobs started by `python -m ops run-task`, from the stack's run-task specs (the
    SPECS_OUTPUT output, ops/run_task_contract.py): the spec's subnets, security groups and
    public-IP setting are what RunTask receives. Reported at the job's task definition.
    run-task never turns ECS Exec on, so only the rules for every task apply (egress, ENI
    security-group quota)."""
    output = model.stack.document.get("output", {}).get(SPECS_OUTPUT, {})
    specs = output.get("value") if isinstance(output, dict) else None
    if not isinstance(specs, dict):
        return
    for _, spec in sorted(specs.items()):
        ref = address(spec.get("task_definition_arn")) if isinstance(spec, dict) else None
        task = model.get(ref)
        if ref is None or task is None:
            continue
        yield Workload(
            ref.type,
            ref.name,
            task,
            tuple(addresses(spec.get("subnets"))),
            tuple(str(a) for a in addresses(spec.get("security_groups"))),
            False,
            model.get(address(spec.get("cluster_arn"))),
            spec.get("assign_public_ip") == "ENABLED",
        )


def _services_and_schedules(model: Model) -> Iterator[Workload]:
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
