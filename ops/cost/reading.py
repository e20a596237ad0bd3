"""Reading what a stack runs: capacity strategies, task counts, expected Spot share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ops.cost.model import ServiceTasks
from ops.synth_reader import (
    Resource,
    Stack,
    SynthError,
    ref,
    refs,
    service_name,
)

SPOT = "FARGATE_SPOT"


def expected_spot_tasks(strategy: Sequence[Mapping[str, Any]], tasks: int) -> float:
    """Expected tasks on FARGATE_SPOT: bases are filled first, the rest split by weight."""
    remaining = float(tasks)
    placed: dict[str, float] = {}
    for item in strategy:
        provider = str(item.get("capacity_provider"))
        base = min(float(item.get("base") or 0), remaining)
        placed[provider] = placed.get(provider, 0.0) + base
        remaining -= base
    weights = {str(i.get("capacity_provider")): float(i.get("weight") or 0) for i in strategy}
    total_weight = sum(weights.values())
    if remaining > 0 and total_weight > 0:
        for provider, weight in weights.items():
            placed[provider] = placed.get(provider, 0.0) + remaining * weight / total_weight
    return placed.get(SPOT, 0.0)


def describe_strategy(strategy: Sequence[Mapping[str, Any]]) -> str:
    """`FARGATE_SPOT w3, FARGATE w1 base 2`-style summary."""
    parts = []
    for item in strategy:
        base = int(item.get("base") or 0)
        text = f"{item.get('capacity_provider')} w{item.get('weight') or 0}"
        parts.append(text + (f" base {base}" if base else ""))
    return ", ".join(parts) or "on-demand"


def capacity_strategy(stack: Stack, service: Resource) -> list[Mapping[str, Any]]:
    """The service's own strategy, else (no launch type) its cluster's default strategy."""
    own = service.get("capacity_provider_strategy")
    if own:
        return list(own)
    if service.get("launch_type"):
        return []
    cluster = ref(service.get("cluster"))
    for _, providers in stack.items("aws_ecs_cluster_capacity_providers"):
        target = ref(providers.get("cluster_name"))
        if cluster and target and target.name == cluster.name:
            return list(providers.get("default_capacity_provider_strategy") or [])
    return []


def min_capacity(stack: Stack, logical_name: str) -> int:
    """The autoscaling minimum of the ECS service `logical_name` (0 if not scaled)."""
    for _, target in stack.items("aws_appautoscaling_target"):
        if any(r.type == "aws_ecs_service" and r.name == logical_name for r in refs(target)):
            return int(target.get("min_capacity") or 0)
    return 0


def _number(value: Any, what: str, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SynthError(f"{where}: {what} {value!r} is not a number") from None


def service_tasks(stack: Stack, logical_name: str, service: Resource) -> ServiceTasks:
    """Task count, size, architecture and Spot share of one ECS service."""
    name = service_name(stack, service)
    task_definition = stack.resolve(ref(service.get("task_definition"))) or {}
    where = f"{stack.name} service {name}"
    tasks = max(int(service.get("desired_count") or 0), min_capacity(stack, logical_name))
    strategy = capacity_strategy(stack, service)
    platform = task_definition.get("runtime_platform") or {}
    return ServiceTasks(
        name=name,
        tasks=tasks,
        vcpu=_number(task_definition.get("cpu"), "task cpu", where) / 1024,
        memory_gb=_number(task_definition.get("memory"), "task memory", where) / 1024,
        architecture=str(platform.get("cpu_architecture") or "X86_64"),
        spot_tasks=expected_spot_tasks(strategy, tasks),
        strategy=describe_strategy(strategy),
    )
