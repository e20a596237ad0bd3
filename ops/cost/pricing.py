"""Pricing a stack: the region's price list and one line item per billed resource."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ops.cost.model import (
    NEVER_EXPIRE_MONTHS,
    Assumptions,
    BreakEven,
    Estimate,
    LineItem,
    ServiceTasks,
)
from ops.cost.reading import service_tasks
from ops.synth_reader import (
    Resource,
    Stack,
    SynthError,
    endpoint_service,
    service_name,
)

PRICES_DIR = Path(__file__).resolve().parents[1] / "prices"
DAYS_PER_MONTH = 730 / 24


def load_prices(region: str, prices_dir: Path = PRICES_DIR) -> dict[str, Any]:
    """The price book of `region`; SynthError when there is none."""
    path = prices_dir / f"{region}.json"
    if not path.is_file():
        have = ", ".join(sorted(p.stem for p in prices_dir.glob("*.json"))) or "none"
        raise SynthError(f"no price data for region {region} in {prices_dir} (have: {have})")
    prices: dict[str, Any] = json.loads(path.read_text())
    return prices


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

    def app_storage(self) -> None:
        """SQS queues (requests), S3 buckets and EFS file systems (storage), each at an assumed
        usage: none has a fixed fee, so a line appears only where the stack creates one."""
        sqs = self.prices.get("sqs")
        queues = [q for _, q in self.stack.items("aws_sqs_queue")]
        if sqs and queues:
            fifo = sum(1 for q in queues if q.get("fifo_queue"))
            requests = self.assume.sqs_million_requests
            for kind, count, key in (
                ("standard", len(queues) - fifo, "standard_million_requests"),
                ("FIFO", fifo, "fifo_million_requests"),
            ):
                self.add(
                    f"SQS requests ({kind})",
                    f"{count} queues x {requests:g} M requests (assumed)",
                    count * requests,
                    "M requests",
                    sqs[key],
                )
        for table, resource_type, item, what, gb in (
            ("s3", "aws_s3_bucket", "S3 Standard storage", "buckets", self.assume.s3_gb),
            (
                "efs",
                "aws_efs_file_system",
                "EFS Standard storage",
                "file systems",
                self.assume.efs_gb,
            ),
        ):
            prices = self.prices.get(table)
            found = list(self.stack.items(resource_type))
            if prices and found:
                names = ", ".join(_construct_name(body) for _, body in found)
                self.add(
                    item,
                    f"{len(found)} {what} ({names}) x {gb:g} GB (assumed)",
                    len(found) * gb,
                    "GB-month",
                    prices["standard_gb_month"],
                )


def _construct_name(body: Resource) -> str:
    """`bucket-uploads` for `prod/bucket-uploads/bucket`: the construct path less the stack and
    the resource's own id."""
    path = str((body.get("//") or {}).get("metadata", {}).get("path", ""))
    return " ".join(path.split("/")[1:-1]) or "?"


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
    pricer.app_storage()
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
