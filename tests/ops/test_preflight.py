"""`python -m ops preflight`: zero findings on every environment and variant, and each rule
fires on a stack broken the way it guards against (a deep copy of a synthesized stack)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from envs import DEFAULT_ENVIRONMENTS
from ops.preflight import (
    RULES,
    Advisory,
    Finding,
    When,
    advisories,
    placeholder,
    preflight,
    summary,
)
from ops.run_task_contract import SPECS_OUTPUT
from ops.synth_reader import Stack
from tests.constants import ROOT
from tests.tf import by_path, resources
from tests.variants import EXAMPLE, VARIANTS

Json = dict[str, Any]


def stack(name: str, document: Json) -> Stack:
    return Stack(name, Path(f"stacks/{name}/cdk.tf.json"), document)


@pytest.mark.invariant
def test_the_environments_together_have_zero_findings(synthesized: dict[str, Json]) -> None:
    """As `make synth` writes them: cross-stack rules (account-wide names, EIPs per region)
    see every environment at once."""
    names = [*DEFAULT_ENVIRONMENTS, "state-bootstrap"]
    assert preflight([stack(name, synthesized[name]) for name in names]) == []


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_has_zero_findings(variant: str, synthesized: dict[str, Json]) -> None:
    """Each test variant on its own (they are fixtures, not environments of one account)."""
    assert preflight([stack(variant, synthesized[variant])]) == []


# --- each rule on a crafted bad stack ---------------------------------------------------------


def _first(document: Json, type_: str, path_suffix: str) -> Json:
    return by_path(document, type_, path_suffix)[1]


def no_igw_dependency(s: dict[str, Json]) -> list[Stack]:
    dev = copy.deepcopy(s[EXAMPLE])
    _first(dev, "aws_lb", "public-alb/lb").pop("depends_on")
    return [stack(EXAMPLE, dev)]


def service_not_after_rule(s: dict[str, Json]) -> list[Stack]:
    shop = copy.deepcopy(s["https-shop"])
    # admin is routed by a listener rule; ordering it after the listener only is the race.
    service = _first(shop, "aws_ecs_service", "service-admin/service")
    service["depends_on"] = [d for d in service["depends_on"] if "listener_rule" not in d]
    return [stack("https-shop", shop)]


def exec_without_writable_paths(s: dict[str, Json]) -> list[Stack]:
    dev = copy.deepcopy(s[EXAMPLE])
    task = _first(dev, "aws_ecs_task_definition", "service-backend/workload/task-definition")
    (container,) = json.loads(task["container_definitions"])
    container["mountPoints"] = container["mountPoints"][:1]  # /tmp only
    task["container_definitions"] = json.dumps([container])
    return [stack(EXAMPLE, dev)]


def exec_without_channel_permissions(s: dict[str, Json]) -> list[Stack]:
    dev = copy.deepcopy(s[EXAMPLE])
    policy = _first(dev, "aws_iam_role_policy", "service-backend/workload/task-policy")
    document = json.loads(policy["policy"])
    document["Statement"] = [
        st for st in document["Statement"] if st.get("Sid") != "EcsExecChannels"
    ]
    policy["policy"] = json.dumps(document)
    return [stack(EXAMPLE, dev)]


def no_logs_endpoint(s: dict[str, Json]) -> list[Stack]:
    isolated = copy.deepcopy(s["nat-none"])
    endpoints = resources(isolated, "aws_vpc_endpoint")
    for name in [n for n, e in endpoints.items() if e["service_name"].endswith(".logs")]:
        del endpoints[name]
    return [stack("nat-none", isolated)]


def cognito_without_idp_egress(s: dict[str, Json]) -> list[Stack]:
    shop = copy.deepcopy(s["https-shop"])
    rules = resources(shop, "aws_vpc_security_group_egress_rule")
    for name in [n for n, r in rules.items() if r.get("cidr_ipv4") == "0.0.0.0/0"]:
        if "public-alb" in r_path(rules[name]):
            del rules[name]
    return [stack("https-shop", shop)]


def r_path(body: Json) -> str:
    return str(body["//"]["metadata"]["path"])


def long_lb_name(s: dict[str, Json]) -> list[Stack]:
    dev = copy.deepcopy(s[EXAMPLE])
    _first(dev, "aws_lb", "public-alb/lb")["name"] = "fargate-development-public-balancer"
    return [stack(EXAMPLE, dev)]


def same_names_in_two_stacks(s: dict[str, Json]) -> list[Stack]:
    return [stack(EXAMPLE, s[EXAMPLE]), stack("example-copy", copy.deepcopy(s[EXAMPLE]))]


def too_many_rules(s: dict[str, Json]) -> list[Stack]:
    dev = copy.deepcopy(s[EXAMPLE])
    rules = resources(dev, "aws_vpc_security_group_ingress_rule")
    template = next(iter(rules.values()))
    for index in range(61):
        rules[f"extra{index}"] = {**template, "from_port": 1000 + index, "to_port": 1000 + index}
    return [stack(EXAMPLE, dev)]


def six_groups_on_a_task(s: dict[str, Json]) -> list[Stack]:
    dev = copy.deepcopy(s[EXAMPLE])
    network = _first(dev, "aws_ecs_service", "service-frontend/service")["network_configuration"]
    network["security_groups"] = network["security_groups"] * 3
    return [stack(EXAMPLE, dev)]


def too_many_listener_rules(s: dict[str, Json]) -> list[Stack]:
    shop = copy.deepcopy(s["https-shop"])
    rules = resources(shop, "aws_lb_listener_rule")
    name, template = next((n, r) for n, r in rules.items() if "public-alb" in r_path(r))
    for index in range(101):
        rules[f"{name}{index}"] = {**template, "priority": 1000 + index}
    return [stack("https-shop", shop)]


def too_many_eips(s: dict[str, Json]) -> list[Stack]:
    per_az = s["nat-per-az"]  # three NAT gateways, one elastic IP each
    # A second stack in the region with only those three elastic IPs: 3 + 3 > 5.
    eips = copy.deepcopy(per_az["resource"]["aws_eip"])
    for body in eips.values():
        body.pop("depends_on", None)
    second = {**copy.deepcopy(per_az), "resource": {"aws_eip": eips}}
    second.pop("output", None)
    return [stack("nat-per-az", per_az), stack("more-eips", second)]


def bad_health_check(s: dict[str, Json]) -> list[Stack]:
    dev = copy.deepcopy(s[EXAMPLE])
    _first(dev, "aws_lb_target_group", "public-alb/tg-frontend")["health_check"]["interval"] = 301
    return [stack(EXAMPLE, dev)]


def unescaped_user_text(s: dict[str, Json]) -> list[Stack]:
    dev = copy.deepcopy(s[EXAMPLE])
    task = _first(dev, "aws_ecs_task_definition", "service-frontend/workload/task-definition")
    (container,) = json.loads(task["container_definitions"])
    container["environment"] = [{"name": "GREETING", "value": "hi ${HOME}"}]
    task["container_definitions"] = json.dumps([container])
    return [stack(EXAMPLE, dev)]


def listener_on_unvalidated_certificate(s: dict[str, Json]) -> list[Stack]:
    shop = copy.deepcopy(s["domain-shared"])
    certificate, _ = by_path(shop, "aws_acm_certificate", "domain/public-certificate/certificate")
    listener = _first(shop, "aws_lb_listener", "public-alb/https")
    listener["certificate_arn"] = f"${{aws_acm_certificate.{certificate}.arn}}"
    return [stack("domain-shared", shop)]


def unnamed_service_connect_port(s: dict[str, Json]) -> list[Stack]:
    connect = copy.deepcopy(s["connect"])
    task = _first(connect, "aws_ecs_task_definition", "service-backend/workload/task-definition")
    containers = json.loads(task["container_definitions"])
    for container in containers:
        for mapping in container.get("portMappings", []):
            mapping["name"] = "web"  # the service publishes port_name 'http'
    task["container_definitions"] = json.dumps(containers)
    return [stack("connect", connect)]


Prefix = str | tuple[str, ...]
BREAKERS: dict[str, tuple[Callable[[dict[str, Json]], list[Stack]], Prefix, When]] = {
    "lb-after-internet-gateway": (no_igw_dependency, "aws_lb.", When.APPLY),
    "service-after-listener": (service_not_after_rule, "aws_ecs_service.", When.APPLY),
    "exec-writable-filesystem": (exec_without_writable_paths, "aws_ecs_service.", When.RUN),
    "exec-task-role": (exec_without_channel_permissions, "aws_ecs_service.", When.RUN),
    "workload-egress": (
        no_logs_endpoint,
        ("aws_ecs_service.", "aws_scheduler_schedule.", "aws_ecs_task_definition."),
        When.RUN,
    ),
    "cognito-idp-egress": (cognito_without_idp_egress, "aws_lb_listener", When.RUN),
    "name-format": (long_lb_name, "aws_lb.", When.PLAN),
    "unique-names": (same_names_in_two_stacks, "aws_", When.APPLY),
    "quota-security-group-rules": (too_many_rules, "aws_security_group.", When.APPLY),
    "quota-security-groups-per-eni": (six_groups_on_a_task, "aws_ecs_service.", When.RUN),
    "quota-alb": (too_many_listener_rules, "aws_lb.", When.APPLY),
    "quota-eips": (too_many_eips, "aws_eip.", When.APPLY),
    "provider-validators": (bad_health_check, "aws_lb_target_group.", When.PLAN),
    "references-resolve": (unescaped_user_text, "aws_ecs_task_definition.", When.PLAN),
    "certificate-validated": (listener_on_unvalidated_certificate, "aws_lb_listener.", When.APPLY),
    "service-connect-port-name": (unnamed_service_connect_port, "aws_ecs_service.", When.APPLY),
}


def test_every_rule_has_a_crafted_case() -> None:
    assert sorted(BREAKERS) == sorted(rule.id for rule in RULES)
    assert all(rule.source and rule.summary for rule in RULES)


@pytest.mark.parametrize("rule_id", sorted(BREAKERS))
def test_rule_fires_on_a_crafted_bad_stack(rule_id: str, synthesized: dict[str, Json]) -> None:
    breaker, address_prefix, when = BREAKERS[rule_id]
    findings = preflight(breaker(synthesized))
    fired = [f for f in findings if f.rule == rule_id]
    assert fired, findings
    assert {f.rule for f in findings} == {rule_id}, [f.render() for f in findings]
    for finding in fired:
        assert finding.address.startswith(address_prefix), finding
        assert finding.path, finding  # the construct path from the resource's metadata
        assert finding.when is when
        rendered = finding.render()
        assert f"fails at {when}" in rendered and "; fix: " in rendered


def test_finding_names_address_path_when_and_fix(synthesized: dict[str, Json]) -> None:
    (finding,) = preflight(no_igw_dependency(synthesized))
    lb_name, _ = by_path(synthesized[EXAMPLE], "aws_lb", "public-alb/lb")
    (igw,) = resources(synthesized[EXAMPLE], "aws_internet_gateway")
    assert finding == Finding(
        "lb-after-internet-gateway",
        EXAMPLE,
        f"aws_lb.{lb_name}",
        f"{EXAMPLE}/public-alb/lb",
        When.APPLY,
        f"internet-facing, but not ordered after aws_internet_gateway.{igw}: "
        "CreateLoadBalancer can run first and fail with InvalidSubnet",
        f'add depends_on = ["aws_internet_gateway.{igw}"]',
    )


# --- one-off jobs (started by `ops run-task` from the run-task specs) ---------------------------


def run_task_specs(document: Json) -> dict[str, Json]:
    specs: dict[str, Json] = document["output"][SPECS_OUTPUT]["value"]
    return specs


def test_one_off_jobs_are_checked_with_the_network_run_task_uses(
    synthesized: dict[str, Json],
) -> None:
    """Without a logs endpoint and without NAT, the one-off job `migrate` cannot ship its
    logs either: reported once, at its task definition; the scheduled `nightly-report`,
    whose schedule starts it with the same network, only at its schedule."""
    findings = preflight(no_logs_endpoint(synthesized))
    by_path_of = {f.path: f for f in findings if "shipping awslogs" in f.problem}
    migrate = next(p for p in by_path_of if p.endswith("/job-migrate/workload/task-definition"))
    assert by_path_of[migrate].address.startswith("aws_ecs_task_definition.")
    nightly = [f.address for f in findings if "/job-nightly-report/" in f.path]
    assert nightly and all(a.startswith("aws_scheduler_schedule.") for a in nightly), nightly
    assert len({(f.address, f.problem) for f in findings}) == len(findings)


def test_one_off_job_with_too_many_groups_in_its_spec_is_reported(
    synthesized: dict[str, Json],
) -> None:
    """The spec's security groups are what RunTask attaches to the ENI: six fail to start."""
    dev = copy.deepcopy(synthesized[EXAMPLE])
    spec = run_task_specs(dev)["migrate"]
    spec["security_groups"] = spec["security_groups"] * 6
    (finding,) = preflight([stack(EXAMPLE, dev)])
    definition, _ = by_path(dev, "aws_ecs_task_definition", "job-migrate/workload/task-definition")
    assert finding.rule == "quota-security-groups-per-eni"
    assert finding.address == f"aws_ecs_task_definition.{definition}"
    assert finding.when is When.RUN


def test_one_off_job_without_internet_or_endpoints_is_reported(
    synthesized: dict[str, Json],
) -> None:
    """Only `migrate`'s spec moves to subnets whose route table has no way out: its image
    pull, logs and secrets are reported; the services in the private subnets are not."""
    dev = copy.deepcopy(synthesized[EXAMPLE])
    spec = run_task_specs(dev)["migrate"]
    public = [
        f"${{aws_subnet.{name}.id}}"
        for name, body in resources(dev, "aws_subnet").items()
        if body["tags"].get("Tier") == "public"
    ]
    assert public
    spec["subnets"] = public  # routed to the internet gateway, and RunTask gives no public IP
    findings = preflight([stack(EXAMPLE, dev)])
    assert findings and {f.rule for f in findings} == {"workload-egress"}
    assert {f.path.rsplit("/", 3)[-3] for f in findings} == {"job-migrate"}
    assert any("pulling" in f.problem for f in findings)


# --- the command ------------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops", "preflight", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_command_reports_and_exits_1_on_findings(
    synthesized: dict[str, Json], tmp_path: Path
) -> None:
    (broken,) = no_igw_dependency(synthesized)
    (tmp_path / "stacks" / "dev").mkdir(parents=True)
    (tmp_path / "stacks" / "dev" / "cdk.tf.json").write_text(json.dumps(broken.document))
    result = run_cli("--outdir", str(tmp_path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("dev: aws_lb.") and "[lb-after-internet-gateway]" in lines[0]
    assert lines[-1].startswith(f"preflight: 1 finding(s) from {len(RULES)} rules (dev)")


@pytest.mark.invariant
def test_every_default_environment_has_no_findings(synth_outdir: Path) -> None:
    """Invariant over envs.DEFAULT_ENVIRONMENTS (timing lives in bench/ops_bench.py)."""
    environments = [*DEFAULT_ENVIRONMENTS, "state-bootstrap"]
    result = run_cli("--outdir", str(synth_outdir), "--env", *environments)
    assert result.returncode == 0, result.stdout  # warnings do not fail
    *warnings, last = result.stdout.strip().splitlines()
    assert last.startswith(f"preflight: {len(RULES)} rules, no findings, 2 warning(s) (")
    assert all(line.startswith("warning: ") for line in warnings) and len(warnings) == 2


def test_missing_output_is_a_clean_error(tmp_path: Path) -> None:
    result = run_cli("--outdir", str(tmp_path / "nothing"))
    assert result.returncode == 2
    assert result.stderr.startswith("error: no synthesized stacks in")
    assert "Traceback" not in result.stderr


def test_rules_are_listed_with_their_sources() -> None:
    result = run_cli("--rules")
    assert result.returncode == 0
    assert result.stdout.count("    source: ") == len(RULES)


def test_imports_no_provider() -> None:
    heavy = ("cdktf", "jsii", "boto3", "cdktf_cdktf_provider_aws", "envs", "pydantic")
    code = (
        "import sys, ops.__main__, ops.preflight\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_readme_states_the_rule_count() -> None:
    assert f"Its {len(RULES)} rules" in (ROOT / "README.md").read_text()


# --- warnings ---------------------------------------------------------------------------------


def test_placeholder_zone_warns_once_per_stack_that_uses_it(synthesized: dict[str, Json]) -> None:
    """Invariant over the environments: a warning exactly where a domain sits in a reserved
    zone; it names the looked-up zone and says what to do."""
    names = [*DEFAULT_ENVIRONMENTS, "state-bootstrap"]
    warned = {a.stack: a for a in advisories([stack(n, synthesized[n]) for n in names])}
    expected = {
        name
        for name in DEFAULT_ENVIRONMENTS
        if any(
            placeholder(body.get("name"))
            for body in synthesized[name].get("data", {}).get("aws_route53_zone", {}).values()
        )
    }
    assert set(warned) == expected
    for name, advisory in warned.items():
        (zone,) = synthesized[name]["data"]["aws_route53_zone"]
        assert advisory.address == f"data.aws_route53_zone.{zone}"
        assert advisory.path == f"{name}/domain/public-zone/zone"
        assert advisory.render().startswith(f"warning: {name}: data.aws_route53_zone.")
        assert "replace the placeholder zone before deploying" in advisory.fix


def test_placeholder_zone_without_route53_warns_on_the_certificate(
    synthesized: dict[str, Json],
) -> None:
    (advisory,) = advisories([stack("dns-external", synthesized["dns-external"])])
    assert advisory.address.startswith("aws_acm_certificate.")
    assert "corp.example.net is under example.net, reserved for documentation" in advisory.problem
    real = copy.deepcopy(synthesized["dns-external"])
    for body in real["resource"]["aws_acm_certificate"].values():
        body["domain_name"] = body["domain_name"].replace("example.net", "shop.jp")
    assert advisories([stack("dns-external", real)]) == []


def test_warnings_are_in_the_summary_but_do_not_fail() -> None:
    stacks = [stack("stg", {})]
    one = Advisory("placeholder-zone", "stg", "data.aws_route53_zone.z", "", "p", "f")
    assert summary([], stacks, [one]) == (
        f"preflight: {len(RULES)} rules, no findings, 1 warning(s) (stg)"
    )
    assert summary([], stacks) == f"preflight: {len(RULES)} rules, no findings (stg)"
