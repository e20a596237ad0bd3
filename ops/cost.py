"""Estimate each environment's monthly fixed AWS cost from its synthesized stack.

    python -m ops cost                      # every environment in cdktf.out
    python -m ops cost --env dev --env prod --format markdown

What is priced is what synth will deploy (`cdktf.out/stacks/<env>/cdk.tf.json`), not the env
config: NAT gateways, interface endpoints (one ENI per subnet), ALBs, Fargate tasks at their
desired counts (ARM64 at the ARM rate, the expected FARGATE_SPOT share from the capacity
provider strategy at the Spot discount), public IPv4 addresses, CloudWatch Logs, WAF web ACLs
and rules, KMS keys; 730 h/month. Usage-driven charges are covered by stated assumptions
(GB/month through NAT and endpoints, LCUs per ALB, log GB per group; see the options). Prices
come from ops/prices/<region>.json (region: the stack's aws provider): public on-demand list
prices as of the date in the file. The result is an ESTIMATE, not a quote.

Exit status: 0 success; 2 bad input (no cdktf.out, unknown env, no prices for the region).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.common import handle
from ops.synth_reader import (
    Resource,
    Stack,
    SynthError,
    add_stack_arguments,
    endpoint_service,
    load_stacks,
    ref,
    refs,
    service_name,
)

PRICES_DIR = Path(__file__).resolve().parent / "prices"
SPOT = "FARGATE_SPOT"
DAYS_PER_MONTH = 730 / 24
NEVER_EXPIRE_MONTHS = 12  # log storage assumed for groups without a retention period


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Assumptions:
    """Usage the fixed-cost estimate cannot read from the stack."""

    nat_gb: float = 10.0  # GB/month processed per NAT gateway
    endpoint_gb: float = 5.0  # GB/month processed per interface endpoint
    alb_lcu: float = 1.0  # average LCUs per ALB, all month
    log_gb: float = 1.0  # GB/month ingested per log group
    dns_million_queries: float = 1.0  # million DNS queries/month per hosted zone the stack uses

    def describe(self) -> str:
        """One sentence listing the assumptions."""
        return (
            f"{self.nat_gb:g} GB/month through each NAT gateway, {self.endpoint_gb:g} GB/month "
            f"through each interface endpoint, {self.alb_lcu:g} LCU per ALB, "
            f"{self.log_gb:g} GB/month ingested per log group (stored for its retention period, "
            f"{NEVER_EXPIRE_MONTHS} months if it never expires)"
        )


@dataclass(frozen=True)
class LineItem:
    """One priced line: quantity x unit price."""

    item: str
    basis: str
    quantity: float
    unit: str
    unit_price: float

    @property
    def monthly(self) -> float:
        """USD per month, rounded to cents (the total is the sum of these)."""
        return round(self.quantity * self.unit_price, 2)


@dataclass(frozen=True)
class ServiceTasks:
    """What one ECS service runs: tasks, their size and the expected Spot share."""

    name: str
    tasks: int
    vcpu: float
    memory_gb: float
    architecture: str
    spot_tasks: float
    strategy: str

    @property
    def on_demand_tasks(self) -> float:
        return self.tasks - self.spot_tasks


@dataclass(frozen=True)
class BreakEven:
    """Interface endpoints' hourly cost against NAT's per-GB processing charge."""

    endpoints: int
    enis: int
    hourly_monthly: float  # the endpoints' hourly charge, USD/month
    nat_gb_price: float
    endpoint_gb_price: float
    assumed_gb: float  # GB/month through the endpoints (assumption)

    @property
    def saving_per_gb(self) -> float:
        """USD saved per GB sent through an endpoint instead of NAT."""
        return self.nat_gb_price - self.endpoint_gb_price

    @property
    def gb_per_month(self) -> float | None:
        """Monthly GB above which the endpoints are cheaper (None: never)."""
        if self.saving_per_gb <= 0:
            return None
        return self.hourly_monthly / self.saving_per_gb

    @property
    def via_nat(self) -> float:
        """USD/month if the assumed endpoint traffic went through NAT instead."""
        return self.assumed_gb * self.nat_gb_price

    @property
    def via_endpoints(self) -> float:
        """USD/month of the endpoints at the assumed traffic."""
        return self.hourly_monthly + self.assumed_gb * self.endpoint_gb_price


@dataclass(frozen=True)
class Estimate:
    """The monthly estimate of one environment."""

    env: str
    region: str
    lines: tuple[LineItem, ...]
    services: tuple[ServiceTasks, ...]
    nat_gateways: int
    break_even: BreakEven | None
    notes: tuple[str, ...]
    prices: Mapping[str, Any] = field(repr=False)

    @property
    def total(self) -> float:
        return round(sum(line.monthly for line in self.lines), 2)

    def line(self, item: str) -> LineItem:
        """The line named `item` (KeyError if absent)."""
        for line in self.lines:
            if line.item == item:
                return line
        raise KeyError(item)


# --------------------------------------------------------------------------- prices


def load_prices(region: str, prices_dir: Path = PRICES_DIR) -> dict[str, Any]:
    """The price book of `region`; SynthError when there is none."""
    path = prices_dir / f"{region}.json"
    if not path.is_file():
        have = ", ".join(sorted(p.stem for p in prices_dir.glob("*.json"))) or "none"
        raise SynthError(f"no price data for region {region} in {prices_dir} (have: {have})")
    prices: dict[str, Any] = json.loads(path.read_text())
    return prices


# --------------------------------------------------------------------------- reading


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


# --------------------------------------------------------------------------- pricing


class Pricer:
    """Builds the line items of one stack."""

    def __init__(self, stack: Stack, prices: Mapping[str, Any], assume: Assumptions) -> None:
        self.stack = stack
        self.prices = prices
        self.assume = assume
        self.hours = float(prices.get("hours_per_month", 730))
        self.lines: list[LineItem] = []

    def add(self, item: str, basis: str, quantity: float, unit: str, price: float) -> None:
        if quantity > 0:
            self.lines.append(LineItem(item, basis, quantity, unit, price))

    def nat(self) -> int:
        nat = self.prices["nat_gateway"]
        count = len(self.stack.resources("aws_nat_gateway"))
        self.add(
            "NAT gateway hours", f"{count} x {self.hours:g} h", count * self.hours, "h", nat["hour"]
        )
        self.add(
            "NAT data processing",
            f"{count} x {self.assume.nat_gb:g} GB (assumed)",
            count * self.assume.nat_gb,
            "GB",
            nat["gb_processed"],
        )
        return count

    def endpoints(self) -> BreakEven | None:
        price = self.prices["interface_endpoint"]
        interface = [e for _, e in self.stack.items("aws_vpc_endpoint") if _is_interface(e)]
        gateway = [e for _, e in self.stack.items("aws_vpc_endpoint") if not _is_interface(e)]
        enis = sum(len(e.get("subnet_ids") or []) for e in interface)
        names = ", ".join(endpoint_service(e) for e in interface)
        azs = {len(e.get("subnet_ids") or []) for e in interface}
        shape = f"{len(interface)} x {azs.pop()} AZs" if len(azs) == 1 else f"{enis} ENIs"
        self.add(
            "Interface endpoint hours",
            f"{shape} x {self.hours:g} h ({names})",
            enis * self.hours,
            "ENI-h",
            price["hour_per_az"],
        )
        assumed_gb = len(interface) * self.assume.endpoint_gb
        self.add(
            "Interface endpoint data",
            f"{len(interface)} x {self.assume.endpoint_gb:g} GB (assumed)",
            assumed_gb,
            "GB",
            price["gb_processed"],
        )
        if gateway:
            free = self.prices.get("gateway_endpoint", {}).get("hour", 0.0)
            names = ", ".join(endpoint_service(e) for e in gateway)
            self.add(
                f"Gateway endpoints ({names})",
                "no hourly or data charge",
                len(gateway) * self.hours,
                "h",
                free,
            )
        if not interface:
            return None
        return BreakEven(
            endpoints=len(interface),
            enis=enis,
            hourly_monthly=round(enis * self.hours * price["hour_per_az"], 2),
            nat_gb_price=self.prices["nat_gateway"]["gb_processed"],
            endpoint_gb_price=price["gb_processed"],
            assumed_gb=assumed_gb,
        )

    def albs(self) -> None:
        alb = self.prices["alb"]
        lbs = [lb for _, lb in self.stack.items("aws_lb") if _is_alb(lb)]
        kinds = ", ".join("internal" if lb.get("internal") else "public" for lb in lbs)
        count = len(lbs)
        self.add(
            "ALB hours",
            f"{count} ALBs ({kinds}) x {self.hours:g} h",
            count * self.hours,
            "h",
            alb["hour"],
        )
        self.add(
            "ALB LCUs",
            f"{count} x {self.assume.alb_lcu:g} LCU (assumed) x {self.hours:g} h",
            count * self.assume.alb_lcu * self.hours,
            "LCU-h",
            alb["lcu_hour"],
        )

    def fargate(self) -> list[ServiceTasks]:
        fargate = self.prices["fargate"]
        services = [service_tasks(self.stack, n, s) for n, s in self.stack.items("aws_ecs_service")]
        discount = float(fargate.get("spot_discount", 0.0))
        for svc in services:
            rates = fargate.get(svc.architecture)
            if rates is None:
                raise SynthError(f"no Fargate price for {svc.architecture} in {self.stack.region}")
            for market, tasks, factor in (
                ("on-demand", svc.on_demand_tasks, 1.0),
                ("Spot", svc.spot_tasks, 1.0 - discount),
            ):
                label = f"{svc.name} {svc.architecture} {market}"
                basis = f"{tasks:.4g} tasks x {{size}} x {self.hours:g} h"
                self.add(
                    f"Fargate vCPU: {label}",
                    basis.format(size=f"{svc.vcpu:g} vCPU"),
                    tasks * svc.vcpu * self.hours,
                    "vCPU-h",
                    round(rates["vcpu_hour"] * factor, 6),
                )
                self.add(
                    f"Fargate memory: {label}",
                    basis.format(size=f"{svc.memory_gb:g} GB"),
                    tasks * svc.memory_gb * self.hours,
                    "GB-h",
                    round(rates["gb_hour"] * factor, 6),
                )
        return services

    def public_ipv4(self, services: Iterable[ServiceTasks]) -> None:
        eips = len(self.stack.resources("aws_eip"))
        alb_ips = sum(
            len(lb.get("subnets") or lb.get("subnet_mapping") or [])
            for _, lb in self.stack.items("aws_lb")
            if not lb.get("internal")
        )
        tasks = {s.name: s.tasks for s in services}
        task_ips = sum(
            tasks.get(service_name(self.stack, svc), 0)
            for _, svc in self.stack.items("aws_ecs_service")
            if (svc.get("network_configuration") or {}).get("assign_public_ip")
        )
        counts = ((eips, "Elastic IP (NAT)"), (alb_ips, "public ALB (1/AZ)"), (task_ips, "task"))
        parts = [f"{n} {what}" for n, what in counts if n]
        count = eips + alb_ips + task_ips
        self.add(
            "Public IPv4 addresses",
            f"{' + '.join(parts)} x {self.hours:g} h",
            count * self.hours,
            "IP-h",
            self.prices["public_ipv4"]["hour"],
        )

    def logs(self) -> None:
        logs = self.prices["cloudwatch_logs"]
        groups = [g for _, g in self.stack.items("aws_cloudwatch_log_group")]
        gb = self.assume.log_gb
        months = [
            (int(g.get("retention_in_days") or 0) / DAYS_PER_MONTH) or NEVER_EXPIRE_MONTHS
            for g in groups
        ]
        retention = sorted({int(g.get("retention_in_days") or 0) for g in groups})
        days = "/".join(str(d) if d else "never" for d in retention)
        self.add(
            "CloudWatch Logs ingestion",
            f"{len(groups)} groups x {gb:g} GB (assumed)",
            len(groups) * gb,
            "GB",
            logs["ingested_gb"],
        )
        self.add(
            "CloudWatch Logs storage",
            f"{len(groups)} groups, retention {days} days",
            round(sum(gb * m for m in months), 3),
            "GB-month",
            logs["stored_gb_month"],
        )

    def monthly_fees(self) -> None:
        """WAF web ACLs and their rules, customer-managed KMS keys (request charges excluded)."""
        waf, kms = self.prices.get("waf"), self.prices.get("kms")
        acls = [acl for _, acl in self.stack.items("aws_wafv2_web_acl")]
        rules = sum(len(acl.get("rule") or []) for acl in acls)
        keys = len(self.stack.resources("aws_kms_key"))
        if waf:
            self.add(
                "WAF web ACLs",
                f"{len(acls)} x 1 month",
                len(acls),
                "ACL-month",
                waf["web_acl_month"],
            )
            self.add(
                "WAF rules",
                f"{rules} rules/rule groups x 1 month",
                rules,
                "rule-month",
                waf["rule_month"],
            )
        if kms:
            self.add(
                "KMS keys",
                f"{keys} customer-managed x 1 month",
                keys,
                "key-month",
                kms["key_month"],
            )

    def monitoring(self) -> None:
        """Alarms (per metric they read), dashboards, custom metrics (job log-event filters),
        SNS topics and target groups. The last two have no fixed fee: they are listed at $0 so
        the estimate shows they were counted (notifications and LCUs are billed per use)."""
        watch = self.prices.get("cloudwatch")
        if watch:
            alarms = [a for _, a in self.stack.items("aws_cloudwatch_metric_alarm")]
            metrics = sum(
                sum(1 for q in a.get("metric_query") or [] if q.get("metric")) or 1 for a in alarms
            )
            self.add(
                "CloudWatch alarms",
                f"{len(alarms)} alarms reading {metrics} metrics x 1 month",
                metrics,
                "alarm-metric-month",
                watch["alarm_metric_month"],
            )
            dashboards = len(self.stack.resources("aws_cloudwatch_dashboard"))
            self.add(
                "CloudWatch dashboards",
                f"{dashboards} x 1 month",
                dashboards,
                "dashboard-month",
                watch["dashboard_month"],
            )
            filters = len(self.stack.resources("aws_cloudwatch_log_metric_filter"))
            self.add(
                "CloudWatch custom metrics",
                f"{filters} log metric filters x 1 month",
                filters,
                "metric-month",
                watch["custom_metric_month"],
            )
        for kind, key, unit, price_key in (
            ("SNS topics", "aws_sns_topic", "topic-month", ("sns", "topic_month")),
            ("Target groups", "aws_lb_target_group", "group-month", ("target_group", "month")),
        ):
            table = self.prices.get(price_key[0])
            count = len(self.stack.resources(key))
            if table:
                self.add(
                    kind, f"{count} x 1 month (no fixed fee)", count, unit, table[price_key[1]]
                )

    def dns(self) -> int:
        """Route 53: private hosted zones the stack creates; queries to every zone it uses (the
        public zone is looked up, so its monthly fee is not the stack's). Returns zones used."""
        route53 = self.prices.get("route53")
        created = len(self.stack.resources("aws_route53_zone"))
        looked_up = len(self.stack.document.get("data", {}).get("aws_route53_zone", {}))
        if not route53 or not created + looked_up:
            return 0
        if created:
            self.add(
                "Route 53 hosted zones",
                f"{created} private x 1 month",
                created,
                "zone-month",
                route53["hosted_zone_month"],
            )
        zones = created + looked_up
        self.add(
            "Route 53 queries",
            f"{zones} zones x {self.assume.dns_million_queries:g} M queries (assumed)",
            zones * self.assume.dns_million_queries,
            "M queries",
            route53["million_queries"],
        )
        return zones


def _is_interface(endpoint: Resource) -> bool:
    return str(endpoint.get("vpc_endpoint_type", "Gateway")).lower() == "interface"


def _is_alb(lb: Resource) -> bool:
    return str(lb.get("load_balancer_type", "application")) == "application"


def estimate(
    stack: Stack, assume: Assumptions | None = None, prices_dir: Path = PRICES_DIR
) -> Estimate:
    """Price one synthesized environment."""
    assume = assume or Assumptions()
    prices = load_prices(stack.region, prices_dir)
    pricer = Pricer(stack, prices, assume)
    nat_gateways = pricer.nat()
    break_even = pricer.endpoints()
    pricer.albs()
    services = pricer.fargate()
    pricer.public_ipv4(services)
    pricer.logs()
    pricer.monthly_fees()
    pricer.monitoring()
    zones = pricer.dns()
    notes = _notes(stack, nat_gateways, break_even, services, prices)
    saving = service_connect_saving(stack, prices, assume)
    if saving is not None:
        notes.append(saving)
    if zones:
        notes.append(
            f"DNS: assumed {assume.dns_million_queries:g} M queries/month per hosted zone (an "
            "upper bound: Route 53 does not charge alias queries to the ALBs); ACM public "
            "certificates are free; the public hosted zone is looked up, its own "
            "monthly fee is not counted here."
        )
    return Estimate(
        env=stack.name,
        region=stack.region,
        lines=tuple(pricer.lines),
        services=tuple(services),
        nat_gateways=nat_gateways,
        break_even=break_even,
        notes=tuple(notes),
        prices=prices,
    )


def service_connect_saving(
    stack: Stack, prices: Mapping[str, Any], assume: Assumptions
) -> str | None:
    """The line for an environment whose services call each other through Service Connect
    and so have no internal ALB: what that ALB would cost (hours and the assumed LCUs)."""
    if not stack.resources("aws_service_discovery_http_namespace"):
        return None
    if any(lb.get("internal") for _, lb in stack.items("aws_lb") if _is_alb(lb)):
        return None
    alb = prices["alb"]
    hours = float(prices.get("hours_per_month", 730))
    saved = hours * (alb["hour"] + assume.alb_lcu * alb["lcu_hour"])
    return (
        f"Service Connect: services call each other through Service Connect, so there is no "
        f"internal ALB; saves ${saved:,.2f}/month (1 ALB x {hours:g} h + {assume.alb_lcu:g} LCU "
        "assumed). Service Connect itself has no charge; its proxy shares each task's CPU and "
        "memory."
    )


def _notes(
    stack: Stack,
    nat_gateways: int,
    break_even: BreakEven | None,
    services: Sequence[ServiceTasks],
    prices: Mapping[str, Any],
) -> list[str]:
    notes = [comparison(nat_gateways, break_even, prices)]
    for svc in services:
        if svc.spot_tasks:
            notes.append(
                f"Spot: {svc.name} runs {svc.tasks} task(s), expected {svc.spot_tasks:.4g} on "
                f"FARGATE_SPOT ({svc.spot_tasks / svc.tasks:.0%}; strategy {svc.strategy}) at "
                f"{float(prices['fargate'].get('spot_discount', 0)):.0%} off"
            )
    schedules = len(stack.resources("aws_scheduler_schedule"))
    if schedules:
        notes.append(f"{schedules} scheduled job(s) not priced: their cost depends on run time")
    return notes


def comparison(nat_gateways: int, even: BreakEven | None, prices: Mapping[str, Any]) -> str:
    """The "NAT for everything" vs "endpoints + NAT" sentence of one environment."""
    nat_gb = prices["nat_gateway"]["gb_processed"]
    if nat_gateways == 0:
        return (
            "NAT mode none (no NAT gateway): the interface endpoints are mandatory, tasks reach "
            "AWS APIs only through them; there is no NAT alternative to compare."
        )
    if even is None:
        return f"No interface endpoints: all AWS API traffic goes through NAT at ${nat_gb}/GB."
    if even.gb_per_month is None:
        return "Interface endpoints never pay for themselves: NAT is not dearer per GB."
    delta = even.via_endpoints - even.via_nat
    return (
        f"NAT for everything vs endpoints + NAT: the {even.endpoints} interface endpoints "
        f"({even.enis} ENIs) cost ${even.hourly_monthly:,.2f}/month in hours; each GB through "
        f"them instead of NAT saves ${even.saving_per_gb:.3f} (${even.nat_gb_price} - "
        f"${even.endpoint_gb_price}), so they pay for themselves above "
        f"{even.gb_per_month:,.0f} GB/month. At the assumed {even.assumed_gb:g} GB/month: NAT "
        f"for everything ${even.via_nat:,.2f} vs endpoints ${even.via_endpoints:,.2f} "
        f"({'+' if delta >= 0 else '-'}${abs(delta):,.2f}/month for endpoints)."
    )


# --------------------------------------------------------------------------- rendering

HEADERS = ("Item", "Basis", "Quantity", "Unit price", "USD/month")


def _price(value: float, unit: str) -> str:
    return f"${value:.6f}".rstrip("0").rstrip(".") + f"/{unit}"


def _rows(result: Estimate) -> list[tuple[str, str, str, str, str]]:
    return [
        (
            line.item,
            line.basis,
            f"{line.quantity:,.6g} {line.unit}",
            _price(line.unit_price, line.unit),
            f"{line.monthly:,.2f}",
        )
        for line in result.lines
    ]


def _title(result: Estimate) -> str:
    return f"{result.env} ({result.region}): estimated monthly fixed cost, USD"


def _footer(result: Estimate, assume: Assumptions) -> list[str]:
    prices = result.prices
    sources = sorted(
        {str(v["source"]) for v in prices.values() if isinstance(v, dict) and "source" in v}
    )
    return [
        *result.notes,
        f"Assumptions: {prices.get('hours_per_month', 730)} h/month; {assume.describe()}.",
        f"ESTIMATE, not a quote: public on-demand list prices as of {prices.get('as_of')} "
        f"(ops/prices/{result.region}.json; {', '.join(sources)}). Not included: data transfer "
        "out, per-request charges (WAF, KMS, Secrets Manager, SNS deliveries), S3, ECR storage, "
        "one-off and scheduled jobs, taxes.",
    ]


def render_text(results: Sequence[Estimate], assume: Assumptions) -> str:
    """Plain-text tables, one per environment."""
    blocks = []
    for result in results:
        rows = [HEADERS, *_rows(result), ("Total", "", "", "", f"{result.total:,.2f}")]
        widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]

        def fmt(row: Sequence[str], widths: list[int] = widths) -> str:
            left = [cell.ljust(width) for cell, width in zip(row[:2], widths[:2], strict=True)]
            right = [cell.rjust(width) for cell, width in zip(row[2:], widths[2:], strict=True)]
            return "  ".join(left + right).rstrip()

        rule = "-" * len(fmt(["-" * w for w in widths]))
        table = [fmt(rows[0]), rule, *(fmt(r) for r in rows[1:-1]), rule, fmt(rows[-1])]
        blocks.append("\n".join([_title(result), *table, "", *_footer(result, assume)]))
    if len(results) > 1:
        each = ", ".join(f"{r.env} ${r.total:,.2f}" for r in results)
        blocks.append(f"All environments: {each}; ${sum(r.total for r in results):,.2f}/month")
    return "\n\n".join(blocks) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(results: Sequence[Estimate], assume: Assumptions) -> str:
    """GitHub-flavoured Markdown (for PR comments)."""
    blocks = []
    for result in results:
        lines = [
            f"### {_title(result)}: ${result.total:,.2f}",
            "",
            "| " + " | ".join(HEADERS) + " |",
            "|---|---|---:|---:|---:|",
            *("| " + " | ".join(_cell(c) for c in row) + " |" for row in _rows(result)),
            f"| **Total** | | | | **{result.total:,.2f}** |",
            "",
            *(f"- {_cell(note)}" for note in _footer(result, assume)),
        ]
        blocks.append("\n".join(lines))
    if len(results) > 1:
        rows = "\n".join(f"| {r.env} | {r.total:,.2f} |" for r in results)
        total = sum(r.total for r in results)
        blocks.append(
            f"| Environment | USD/month |\n|---|---:|\n{rows}\n| **All** | **{total:,.2f}** |"
        )
    return "\n\n".join(blocks) + "\n"


# --------------------------------------------------------------------------- CLI


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `cost` subcommand."""
    parser = subparsers.add_parser(
        "cost",
        help="estimate each environment's monthly fixed cost from the synthesized stacks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_stack_arguments(parser)
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    defaults = Assumptions()
    for flag, dest, help_text in (
        ("--nat-gb", "nat_gb", "GB/month through each NAT gateway"),
        ("--endpoint-gb", "endpoint_gb", "GB/month through each interface endpoint"),
        ("--alb-lcu", "alb_lcu", "average LCUs per ALB"),
        ("--log-gb", "log_gb", "GB/month ingested per log group"),
    ):
        default = getattr(defaults, dest)
        parser.add_argument(
            flag,
            dest=dest,
            type=_non_negative,
            default=default,
            metavar="N",
            help=f"{help_text} (assumption; default {default:g})",
        )
    parser.set_defaults(handler=handle(run))


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return value


def run(args: argparse.Namespace) -> int:
    """The `cost` handler."""
    assume = Assumptions(args.nat_gb, args.endpoint_gb, args.alb_lcu, args.log_gb)
    results = [estimate(stack, assume) for stack in load_stacks(args.outdir, args.env)]
    render = render_markdown if args.format == "markdown" else render_text
    sys.stdout.write(render(results, assume))
    return 0
