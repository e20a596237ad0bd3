"""`python -m ops cost` on the session synth: quantities, prices and notes against the JSON."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from envs import DEFAULT_ENVIRONMENTS
from ops import cost
from ops.__main__ import main
from ops.synth_reader import load_stack
from tests.constants import ROOT
from tests.variants import EXAMPLE

HOURS = 730
FORBIDDEN_IMPORTS = ("cdktf", "jsii", "constructs", "cdktf_cdktf_provider_aws")


def prices(region: str = "ap-northeast-1") -> dict[str, Any]:
    return cost.load_prices(region)


def resources(document: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return list(document["resource"].get(resource_type, {}).values())


@pytest.fixture(scope="module")
def estimates(synth_outdir: Path) -> dict[str, cost.Estimate]:
    names = (
        EXAMPLE,
        *DEFAULT_ENVIRONMENTS,
        "nat-per-az",
        "domain-shared",
        "nat-none",
        "https-shop",
        "no-endpoints",
        "dns-external",
        "rollouts",
        "sidecars",
        "connect",
    )
    return {name: cost.estimate(load_stack(synth_outdir, name)) for name in dict.fromkeys(names)}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ops", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


# --------------------------------------------------------------------------- line items


def test_single_nat_runs_one_nat_gateway_all_month(
    estimates: dict[str, cost.Estimate], synthesized: dict[str, dict[str, Any]]
) -> None:
    assert len(resources(synthesized[EXAMPLE], "aws_nat_gateway")) == 1
    line = estimates[EXAMPLE].line("NAT gateway hours")
    assert line.quantity == 1 * HOURS
    assert line.unit_price == prices()["nat_gateway"]["hour"] == 0.062
    assert line.monthly == round(HOURS * 0.062, 2) == 45.26


def test_hosted_zones_and_their_queries_are_priced_as_an_assumption(
    estimates: dict[str, cost.Estimate], synthesized: dict[str, Any]
) -> None:
    route53 = prices()["route53"]
    for env in ("domain-shared", "dns-external"):
        stack = synthesized[env]
        private = len(stack["resource"].get("aws_route53_zone", {}))
        public = len(stack.get("data", {}).get("aws_route53_zone", {}))
        result = estimates[env]
        zones = result.line("Route 53 hosted zones")
        assert zones.quantity == private == 1 and zones.unit_price == route53["hosted_zone_month"]
        queries = result.line("Route 53 queries")
        assert queries.quantity == (private + public) * cost.Assumptions().dns_million_queries
        assert queries.unit_price == route53["million_queries"] and "(assumed)" in queries.basis
        assert any(note.startswith("DNS: assumed 1 M queries/month") for note in result.notes)
    # DNS outside Route 53: only the private zone is queried through Route 53.
    assert estimates["dns-external"].line("Route 53 queries").quantity == 1
    assert not any("Route 53" in line.item for line in estimates[EXAMPLE].lines)


def test_per_az_nat_runs_a_nat_gateway_and_eip_per_az(
    estimates: dict[str, cost.Estimate], synthesized: dict[str, dict[str, Any]]
) -> None:
    prod = synthesized["nat-per-az"]  # three AZs
    assert len(resources(prod, "aws_nat_gateway")) == 3
    assert estimates["nat-per-az"].nat_gateways == 3
    assert estimates["nat-per-az"].line("NAT gateway hours").quantity == 3 * HOURS
    data = estimates["nat-per-az"].line("NAT data processing")
    assert data.quantity == 3 * cost.Assumptions().nat_gb
    public_albs = [lb for lb in resources(prod, "aws_lb") if not lb["internal"]]
    addresses = len(resources(prod, "aws_eip")) + sum(len(lb["subnets"]) for lb in public_albs)
    assert addresses == 3 + 3
    assert estimates["nat-per-az"].line("Public IPv4 addresses").quantity == addresses * HOURS


@pytest.mark.parametrize("env", dict.fromkeys((*DEFAULT_ENVIRONMENTS, EXAMPLE, "https-shop")))
def test_interface_endpoints_are_priced_per_eni(
    estimates: dict[str, cost.Estimate], synthesized: dict[str, dict[str, Any]], env: str
) -> None:
    endpoints = resources(synthesized[env], "aws_vpc_endpoint")
    interface = [e for e in endpoints if e["vpc_endpoint_type"] == "Interface"]
    private = [
        s for s in resources(synthesized[env], "aws_subnet") if s["tags"]["Tier"] == "private"
    ]
    assert all(len(e["subnet_ids"]) == len(private) for e in interface)
    line = estimates[env].line("Interface endpoint hours")
    assert line.quantity == len(interface) * len(private) * HOURS
    assert line.unit_price == prices()["interface_endpoint"]["hour_per_az"]
    data = estimates[env].line("Interface endpoint data")
    assert data.quantity == len(interface) * cost.Assumptions().endpoint_gb
    assert estimates[env].line("Gateway endpoints (s3)").monthly == 0


def test_service_connect_saving_is_the_internal_alb_it_replaces(
    estimates: dict[str, cost.Estimate],
) -> None:
    alb = prices()["alb"]
    saved = HOURS * (alb["hour"] + 1.0 * alb["lcu_hour"])  # the default 1 LCU assumption
    (note,) = [n for n in estimates["connect"].notes if n.startswith("Service Connect:")]
    assert f"no internal ALB; saves ${saved:,.2f}/month" in note
    # The README quotes the line (its text up to "..." and Tokyo's price).
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"`{note.split(' Service Connect itself')[0]} ...`" in readme
    assert estimates["connect"].line("ALB hours").quantity == 1 * HOURS  # the public one
    # With an internal ALB there is nothing saved, and no line says so.
    assert not any(n.startswith("Service Connect:") for n in estimates[EXAMPLE].notes)


def test_two_albs_with_assumed_lcus(estimates: dict[str, cost.Estimate]) -> None:
    assert estimates[EXAMPLE].line("ALB hours").quantity == 2 * HOURS
    assert estimates[EXAMPLE].line("ALB hours").unit_price == 0.0243
    lcus = estimates[EXAMPLE].line("ALB LCUs")
    assert lcus.quantity == 2 * cost.Assumptions().alb_lcu * HOURS
    assert lcus.unit_price == 0.008


def _prefix(document: dict[str, Any]) -> str:
    """The stack's resource prefix (`<project>-<env>`): its ECS cluster's name."""
    (cluster,) = document["resource"]["aws_ecs_cluster"].values()
    name: str = cluster["name"]
    return name


def _fargate_hours(result: cost.Estimate, service: str, resource: str) -> float:
    return sum(
        line.quantity
        for line in result.lines
        if line.item.startswith(f"Fargate {resource}: {service} ")
    )


@pytest.mark.invariant
@pytest.mark.parametrize("env", (*DEFAULT_ENVIRONMENTS, EXAMPLE, "https-shop", "no-endpoints"))
def test_fargate_hours_follow_synthesized_size_and_count(
    estimates: dict[str, cost.Estimate], synthesized: dict[str, dict[str, Any]], env: str
) -> None:
    document = synthesized[env]
    services = document["resource"]["aws_ecs_service"]
    definitions = document["resource"]["aws_ecs_task_definition"]
    assert {s.name for s in estimates[env].services} == {
        s["name"].removeprefix(f"{_prefix(document)}-") for s in services.values()
    }
    for service in services.values():
        name = service["name"].removeprefix(f"{_prefix(document)}-")
        task = definitions[service["task_definition"].split(".")[1]]
        tasks = service["desired_count"]
        vcpu_hours = tasks * int(task["cpu"]) / 1024 * HOURS
        gb_hours = tasks * int(task["memory"]) / 1024 * HOURS
        assert _fargate_hours(estimates[env], name, "vCPU") == pytest.approx(vcpu_hours)
        assert _fargate_hours(estimates[env], name, "memory") == pytest.approx(gb_hours)


def test_arm64_service_is_priced_at_the_arm_rate(
    estimates: dict[str, cost.Estimate], synthesized: dict[str, dict[str, Any]]
) -> None:
    definitions = synthesized["https-shop"]["resource"]["aws_ecs_task_definition"]
    admin = next(d for d in definitions.values() if d["family"].endswith("-admin"))
    assert admin["runtime_platform"]["cpu_architecture"] == "ARM64"
    arm = prices()["fargate"]["ARM64"]
    result = estimates["https-shop"]
    assert result.line("Fargate vCPU: admin ARM64 on-demand").unit_price == arm["vcpu_hour"]
    assert result.line("Fargate memory: admin ARM64 on-demand").unit_price == arm["gb_hour"]
    spot = result.line("Fargate vCPU: admin ARM64 Spot").unit_price
    assert spot == pytest.approx(arm["vcpu_hour"] * (1 - prices()["fargate"]["spot_discount"]))
    x86 = result.line("Fargate vCPU: frontend X86_64 on-demand").unit_price
    assert x86 == prices()["fargate"]["X86_64"]["vcpu_hour"] == 0.05056


# --------------------------------------------------------------------------- Spot share


@pytest.mark.parametrize(
    ("strategy", "tasks", "spot"),
    [
        # dev: no base, weights 3:1 for Spot -> three quarters of every task on Spot
        ([("FARGATE_SPOT", 0, 3), ("FARGATE", 0, 1)], 1, 0.75),
        ([("FARGATE_SPOT", 0, 3), ("FARGATE", 0, 1)], 4, 3.0),
        # prod: two on-demand tasks first, the third split 3:1 in favour of on-demand
        ([("FARGATE", 2, 3), ("FARGATE_SPOT", 0, 1)], 3, 0.25),
        ([("FARGATE", 2, 3), ("FARGATE_SPOT", 0, 1)], 2, 0.0),
        ([("FARGATE", 2, 3), ("FARGATE_SPOT", 0, 1)], 1, 0.0),
        # stg: one on-demand base, the rest 1:1
        ([("FARGATE", 1, 1), ("FARGATE_SPOT", 0, 1)], 2, 0.5),
        # a Spot base: the base on Spot, the rest by weight (Spot weight 0)
        ([("FARGATE_SPOT", 1, 0), ("FARGATE", 0, 1)], 3, 1.0),
        ([("FARGATE_SPOT", 0, 1)], 5, 5.0),
        ([], 3, 0.0),
        ([("FARGATE_SPOT", 0, 3), ("FARGATE", 0, 1)], 0, 0.0),
    ],
)
def test_expected_spot_tasks(strategy: list[tuple[str, int, int]], tasks: int, spot: float) -> None:
    items = [{"capacity_provider": p, "base": b, "weight": w} for p, b, w in strategy]
    assert cost.expected_spot_tasks(items, tasks) == pytest.approx(spot)


@pytest.mark.parametrize(("env", "share"), [(EXAMPLE, 0.75)])
def test_services_use_their_synthesized_strategy(
    estimates: dict[str, cost.Estimate],
    synthesized: dict[str, dict[str, Any]],
    env: str,
    share: float,
) -> None:
    services = synthesized[env]["resource"]["aws_ecs_service"].values()
    by_name = {s["name"].removeprefix(f"{_prefix(synthesized[env])}-"): s for s in services}
    assert sorted(svc.name for svc in estimates[env].services) == sorted(by_name)
    for svc in estimates[env].services:
        raw = by_name[svc.name]
        expected = cost.expected_spot_tasks(raw["capacity_provider_strategy"], svc.tasks)
        assert svc.spot_tasks == pytest.approx(expected)
        if not raw.get("load_balancer"):
            continue  # `share` is the web services' (it depends on their task counts)
        assert svc.spot_tasks / svc.tasks == pytest.approx(share)
        spot_vcpu = estimates[env].line(f"Fargate vCPU: {svc.name} {svc.architecture} Spot")
        assert spot_vcpu.quantity == pytest.approx(svc.spot_tasks * svc.vcpu * HOURS)


def test_cluster_default_strategy_applies_when_the_service_has_none(
    synth_outdir: Path, tmp_path: Path
) -> None:
    document = json.loads((synth_outdir / "stacks" / EXAMPLE / "cdk.tf.json").read_text())
    for service in document["resource"]["aws_ecs_service"].values():
        service.pop("capacity_provider_strategy")
    outdir = _write_stack(tmp_path, EXAMPLE, document)
    services = cost.estimate(load_stack(outdir, EXAMPLE)).services
    default = document["resource"]["aws_ecs_cluster_capacity_providers"]
    strategy = next(iter(default.values()))["default_capacity_provider_strategy"]
    assert len(services) == len(document["resource"]["aws_ecs_service"])
    for svc in services:
        assert svc.spot_tasks == pytest.approx(cost.expected_spot_tasks(strategy, svc.tasks))


# --------------------------------------------------------------------------- totals, notes


@pytest.mark.parametrize(
    "env", dict.fromkeys((*DEFAULT_ENVIRONMENTS, EXAMPLE, "nat-none", "https-shop", "no-endpoints"))
)
def test_total_is_the_sum_of_the_lines(estimates: dict[str, cost.Estimate], env: str) -> None:
    result = estimates[env]
    for line in result.lines:
        assert line.monthly == round(line.quantity * line.unit_price, 2)
    assert result.total == round(sum(line.monthly for line in result.lines), 2)
    assert result.total > 0


@pytest.mark.parametrize("env", dict.fromkeys((*DEFAULT_ENVIRONMENTS, EXAMPLE)))
def test_log_groups_are_priced_from_their_retention(
    estimates: dict[str, cost.Estimate], synthesized: dict[str, dict[str, Any]], env: str
) -> None:
    groups = resources(synthesized[env], "aws_cloudwatch_log_group")
    gb = cost.Assumptions().log_gb
    ingestion = estimates[env].line("CloudWatch Logs ingestion")
    assert ingestion.quantity == len(groups) * gb
    assert ingestion.unit_price == 0.76
    months = [g["retention_in_days"] / (HOURS / 24) for g in groups]
    storage = estimates[env].line("CloudWatch Logs storage")
    assert storage.quantity == pytest.approx(sum(gb * m for m in months), abs=1e-3)


def test_break_even_of_endpoints_against_nat(estimates: dict[str, cost.Estimate]) -> None:
    result = estimates[EXAMPLE]
    even = result.break_even
    assert even is not None
    hours = result.line("Interface endpoint hours")
    assert even.hourly_monthly == hours.monthly
    assert even.enis * HOURS == hours.quantity
    expected = hours.monthly / (0.062 - 0.01)
    assert even.gb_per_month == pytest.approx(expected)
    assert math.isclose(even.via_nat, even.assumed_gb * 0.062)
    assert math.isclose(even.via_endpoints, hours.monthly + even.assumed_gb * 0.01)
    assert f"above {expected:,.0f} GB/month" in result.notes[0]
    assert result.notes[0].startswith("NAT for everything vs endpoints + NAT")


def test_nat_none_says_endpoints_are_mandatory(estimates: dict[str, cost.Estimate]) -> None:
    result = estimates["nat-none"]
    assert result.nat_gateways == 0
    assert not [line for line in result.lines if line.item.startswith("NAT")]
    assert "endpoints are mandatory" in result.notes[0]
    assert "ssmmessages" in result.line("Interface endpoint hours").basis


def test_no_endpoints_env_sends_everything_through_nat(
    estimates: dict[str, cost.Estimate],
) -> None:
    result = estimates["no-endpoints"]
    assert result.break_even is None
    assert not [line for line in result.lines if line.item.startswith("Interface")]
    assert (
        result.notes[0]
        == "No interface endpoints: all AWS API traffic goes through NAT at $0.062/GB."
    )


def test_region_comes_from_the_provider_block(synth_outdir: Path, tmp_path: Path) -> None:
    document = json.loads((synth_outdir / "stacks" / EXAMPLE / "cdk.tf.json").read_text())
    document["provider"]["aws"][0]["region"] = "us-east-1"
    result = cost.estimate(load_stack(_write_stack(tmp_path, EXAMPLE, document), EXAMPLE))
    assert result.region == "us-east-1"
    assert result.line("NAT gateway hours").unit_price == 0.045
    assert result.line("Fargate vCPU: frontend X86_64 on-demand").unit_price == 0.04048
    assert result.break_even is not None
    assert result.break_even.gb_per_month == pytest.approx(
        result.break_even.hourly_monthly / (0.045 - 0.01)
    )


def test_assumptions_come_from_the_options(
    synth_outdir: Path, synthesized: dict[str, dict[str, Any]]
) -> None:
    dev = synthesized[EXAMPLE]
    assume = cost.Assumptions(nat_gb=100, endpoint_gb=0, alb_lcu=2, log_gb=3)
    result = cost.estimate(load_stack(synth_outdir, EXAMPLE), assume)
    assert result.line("NAT data processing").quantity == 100
    assert result.line("ALB LCUs").quantity == 2 * 2 * HOURS
    groups = len(resources(dev, "aws_cloudwatch_log_group"))
    assert result.line("CloudWatch Logs ingestion").quantity == groups * 3
    with pytest.raises(KeyError):
        result.line("Interface endpoint data")


@pytest.mark.parametrize("region", ["ap-northeast-1", "us-east-1"])
def test_price_files_are_dated_and_sourced(region: str) -> None:
    book = prices(region)
    assert book["region"] == region
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", book["as_of"])
    assert book["source"].startswith("https://aws.amazon.com/")
    assert "ESTIMATES" in book["note"]
    for key in ("nat_gateway", "interface_endpoint", "alb", "fargate", "public_ipv4"):
        assert book[key]["source"].startswith("https://aws.amazon.com/")
    assert book["public_ipv4"]["hour"] == 0.005
    assert 0 < book["fargate"]["spot_discount"] < 1


# --------------------------------------------------------------------------- CLI


def test_text_output(synth_outdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--env", EXAMPLE, "--outdir", str(synth_outdir)]) == 0
    out = capsys.readouterr().out
    result = cost.estimate(load_stack(synth_outdir, EXAMPLE))
    assert out.startswith(f"{EXAMPLE} (ap-northeast-1): estimated monthly fixed cost, USD")
    total = re.escape(f"{result.total:,.2f}")
    assert re.search(rf"^Total[\s|]+{total}$", out, re.MULTILINE)
    # One row per line item, columns aligned (rich, ASCII rules), no colour codes in a pipe.
    rows = [line for line in out.splitlines() if " | " in line]
    assert len(rows) == 1 + len(result.lines) + 1  # header, items, total
    assert len({line.index(" | ") for line in rows}) == 1
    assert "\x1b[" not in out
    assert "NAT for everything vs endpoints + NAT" in out
    assert "ESTIMATE, not a quote" in out and "as of 2025-01-01" in out


def test_markdown_output(synth_outdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    envs = (EXAMPLE, "nat-per-az")  # one NAT, then one per AZ (three)
    args = ["cost", "--env", *envs, "--outdir", str(synth_outdir), "--format", "markdown"]
    assert main(args) == 0
    out = capsys.readouterr().out
    totals = [cost.estimate(load_stack(synth_outdir, env)).total for env in envs]
    assert "| Item | Basis | Quantity | Unit price | USD/month |" in out
    assert "|---|---|---:|---:|---:|" in out
    assert f"| **Total** | | | | **{totals[0]:,.2f}** |" in out
    assert f"| **All** | **{sum(totals):,.2f}** |" in out
    rows = [line for line in out.splitlines() if line.startswith("| NAT gateway hours")]
    assert rows == [
        "| NAT gateway hours | 1 x 730 h | 730 h | $0.062/h | 45.26 |",
        "| NAT gateway hours | 3 x 730 h | 2,190 h | $0.062/h | 135.78 |",
    ]


def test_default_is_every_environment_stack(
    synth_outdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cost", "--outdir", str(synth_outdir)]) == 0
    titles = re.findall(r"^(\S+) \(ap-northeast-1\): estimated", capsys.readouterr().out, re.M)
    assert "state-bootstrap" not in titles
    assert {*DEFAULT_ENVIRONMENTS, EXAMPLE, "nat-none", "https-shop"} <= set(titles)


def _assert_clean_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    for fragment in fragments:
        assert fragment in result.stderr


def test_missing_outdir_is_a_clean_error() -> None:
    result = run_cli("cost", "--outdir", "/nonexistent")
    _assert_clean_error(result, "no synthesized stacks in /nonexistent", "python main.py")


def test_unknown_env_is_a_clean_error(synth_outdir: Path) -> None:
    result = run_cli("cost", "--env", "no-such-env", "--outdir", str(synth_outdir))
    _assert_clean_error(
        result, "no stack 'no-such-env'", "(available: ", f" {EXAMPLE}, ", "https-shop"
    )


def test_region_without_prices_is_a_clean_error(synth_outdir: Path, tmp_path: Path) -> None:
    document = json.loads((synth_outdir / "stacks" / EXAMPLE / "cdk.tf.json").read_text())
    document["provider"]["aws"][0]["region"] = "eu-west-3"
    outdir = _write_stack(tmp_path, EXAMPLE, document)
    result = run_cli("cost", "--outdir", str(outdir))
    _assert_clean_error(result, "no price data for region eu-west-3", "ap-northeast-1, us-east-1")


def test_imports_no_cdktf_or_jsii() -> None:
    code = (
        "import sys, ops.__main__, ops.cost, ops.diagram, ops.synth_reader\n"
        f"print([m for m in sys.modules if m.split('.')[0] in {FORBIDDEN_IMPORTS!r}])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def _write_stack(root: Path, env: str, document: dict[str, Any]) -> Path:
    stack_dir = root / "stacks" / env
    stack_dir.mkdir(parents=True)
    (stack_dir / "cdk.tf.json").write_text(json.dumps(document))
    return root


def test_monitoring_lines_count_what_was_synthesized(
    estimates: dict[str, cost.Estimate], synthesized: dict[str, dict[str, Any]]
) -> None:
    stack = synthesized["rollouts"]
    result = estimates["rollouts"]
    alarms = resources(stack, "aws_cloudwatch_metric_alarm")
    # An alarm costs per metric it reads: metric-math alarms read several.
    metrics = sum(len([q for q in a.get("metric_query", []) if "metric" in q]) or 1 for a in alarms)
    assert metrics > len(alarms)
    line = result.line("CloudWatch alarms")
    assert (line.quantity, line.unit_price) == (
        metrics,
        prices()["cloudwatch"]["alarm_metric_month"],
    )
    assert result.line("CloudWatch dashboards").monthly == prices()["cloudwatch"]["dashboard_month"]
    filters = len(resources(stack, "aws_cloudwatch_log_metric_filter"))
    assert result.line("CloudWatch custom metrics").quantity == filters == 3  # 3 scheduled jobs
    # frontend, backend and api each have a primary and an alternate group (worker: none).
    groups = resources(stack, "aws_lb_target_group")
    assert result.line("Target groups").quantity == len(groups) == 6
    assert result.line("Target groups").monthly == 0
    assert result.line("SNS topics").quantity == 1


# --------------------------------------------------------------------------- app resources


@pytest.mark.parametrize("env", dict.fromkeys((*DEFAULT_ENVIRONMENTS, EXAMPLE, "sidecars")))
def test_queues_buckets_and_file_systems_are_priced_where_created(
    estimates: dict[str, cost.Estimate], synthesized: dict[str, dict[str, Any]], env: str
) -> None:
    document, result, assume = synthesized[env], estimates[env], cost.Assumptions()
    book = prices(result.region)
    items = {line.item: line for line in result.lines}
    queues = resources(document, "aws_sqs_queue")
    fifo = [q for q in queues if q.get("fifo_queue")]
    standard = items.get("SQS requests (standard)")
    if len(queues) - len(fifo):
        assert standard is not None
        assert standard.quantity == (len(queues) - len(fifo)) * assume.sqs_million_requests
        assert standard.unit_price == book["sqs"]["standard_million_requests"]
    else:
        assert standard is None
    assert ("SQS requests (FIFO)" in items) == bool(fifo)
    for resource_type, item in (
        ("aws_s3_bucket", "S3 Standard storage"),
        ("aws_efs_file_system", "EFS Standard storage"),
    ):
        found = document["resource"].get(resource_type, {})
        line = items.get(item)
        if not found:
            assert line is None, item
            continue
        assert line is not None, item
        gb = assume.s3_gb if resource_type == "aws_s3_bucket" else assume.efs_gb
        assert line.quantity == len(found) * gb and "(assumed)" in line.basis
        table = "s3" if resource_type == "aws_s3_bucket" else "efs"
        assert line.unit_price == book[table]["standard_gb_month"]
        for body in found.values():  # each one named by its construct
            assert body["//"]["metadata"]["path"].split("/")[1] in line.basis


def test_efs_is_priced_in_the_variant_that_creates_one(
    estimates: dict[str, cost.Estimate], synthesized: dict[str, dict[str, Any]]
) -> None:
    assert len(synthesized["sidecars"]["resource"]["aws_efs_file_system"]) == 1
    line = estimates["sidecars"].line("EFS Standard storage")
    assert line.monthly == round(
        cost.Assumptions().efs_gb * prices()["efs"]["standard_gb_month"], 2
    )
    assert not any(line.item.startswith("EFS") for line in estimates[EXAMPLE].lines)


@pytest.mark.parametrize("region", ["ap-northeast-1", "us-east-1"])
def test_app_storage_prices_cite_their_pages(region: str) -> None:
    book = prices(region)
    assert book["sqs"]["source"] == "https://aws.amazon.com/sqs/pricing/"
    assert book["s3"]["source"] == "https://aws.amazon.com/s3/pricing/"
    assert book["efs"]["source"] == "https://aws.amazon.com/efs/pricing/"
    assert book["sqs"]["fifo_million_requests"] > book["sqs"]["standard_million_requests"] > 0


def test_app_storage_assumptions_are_flags(synth_outdir: Path) -> None:
    result = run_cli(
        "cost", "--env", EXAMPLE, "--outdir", str(synth_outdir), "--s3-gb", "100",
        "--sqs-million-requests", "10",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    s3 = next(line for line in result.stdout.splitlines() if line.startswith("S3 Standard"))
    assert "x 100 GB (assumed)" in s3
    sqs = next(line for line in result.stdout.splitlines() if line.startswith("SQS requests"))
    assert "x 10 M requests (assumed)" in sqs
