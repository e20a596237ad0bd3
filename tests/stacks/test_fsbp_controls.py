"""AWS Foundational Security Best Practices (FSBP) controls the synthesized JSON can show.

Each control below is evaluated on every default environment (envs.DEFAULT_ENVIRONMENTS) and on
state-bootstrap. A control passes, or its failure in that environment is listed in
policy/fsbp-allowlist.yaml with the reason. An entry that no longer fails is stale and fails the
suite, and every check is shown to fail on a stack where its property is broken (the mutation
table at the end), so none of them can pass vacuously.

Control definitions: https://docs.aws.amazon.com/securityhub/latest/userguide/fsbp-standard.html
(each `url` below is the control's own page).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from tests.constants import BOOTSTRAP_STACK, DEFAULT_STACKS, ROOT

ALLOWLIST = ROOT / "policy" / "fsbp-allowlist.yaml"
STACKS = DEFAULT_STACKS
HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide"

Json = dict[str, Any]
# One finding: (Terraform address, what is wrong).
Finding = tuple[str, str]


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    resource_types: tuple[str, ...]
    check: Callable[[Json], Iterator[Finding]]

    @property
    def url(self) -> str:
        service, number = self.id.lower().split(".")
        return f"{HUB}/{service}-controls.html#{service}-{number}"


# --- helpers ---------------------------------------------------------------------------------


def resources(stack: Json, type_: str) -> Iterator[tuple[str, Json]]:
    for name, body in stack.get("resource", {}).get(type_, {}).items():
        yield f"{type_}.{name}", body


def refers_to(value: Any, address: str) -> bool:
    """True if `value` is a Terraform reference to an attribute of `address`."""
    return isinstance(value, str) and value.startswith("${" + address + ".")


def containers(stack: Json) -> Iterator[tuple[str, Json]]:
    for address, body in resources(stack, "aws_ecs_task_definition"):
        for container in json.loads(body["container_definitions"]):
            yield f"{address}[{container['name']}]", container


def attached(stack: Json, type_: str, bucket: str) -> list[Json]:
    """Bodies of `type_` resources whose `bucket` references the bucket `bucket`."""
    return [body for _, body in resources(stack, type_) if refers_to(body.get("bucket"), bucket)]


def denies_insecure_transport(policy: str) -> bool:
    for statement in json.loads(policy).get("Statement", []):
        condition = statement.get("Condition", {}).get("Bool", {})
        if (
            statement.get("Effect") == "Deny"
            and str(condition.get("aws:SecureTransport")).lower() == "false"
        ):
            return True
    return False


# --- checks ----------------------------------------------------------------------------------


def ecs_2(stack: Json) -> Iterator[Finding]:
    for address, body in resources(stack, "aws_ecs_service"):
        if body.get("network_configuration", {}).get("assign_public_ip") is not False:
            yield address, "assign_public_ip is not false"


def ecs_4(stack: Json) -> Iterator[Finding]:
    for address, container in containers(stack):
        if container.get("privileged"):
            yield address, "privileged"


def ecs_5(stack: Json) -> Iterator[Finding]:
    for address, container in containers(stack):
        if container.get("readonlyRootFilesystem") is not True:
            yield address, "readonlyRootFilesystem is not true"


CREDENTIAL_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECS_ENGINE_AUTH_DATA"}


def ecs_8(stack: Json) -> Iterator[Finding]:
    for address, container in containers(stack):
        names = {item["name"] for item in container.get("environment", [])}
        if names & CREDENTIAL_VARIABLES:
            yield address, f"credentials in environment: {sorted(names & CREDENTIAL_VARIABLES)}"


def ecs_9(stack: Json) -> Iterator[Finding]:
    for address, container in containers(stack):
        if not container.get("logConfiguration", {}).get("logDriver"):
            yield address, "no logConfiguration.logDriver"


def ecs_10(stack: Json) -> Iterator[Finding]:
    for address, body in resources(stack, "aws_ecs_service"):
        if body.get("platform_version", "LATEST") != "LATEST":
            yield address, f"platform_version {body['platform_version']}"


def ecs_12(stack: Json) -> Iterator[Finding]:
    for address, body in resources(stack, "aws_ecs_cluster"):
        settings = {s["name"]: s["value"] for s in body.get("setting", [])}
        if settings.get("containerInsights") not in ("enabled", "enhanced"):
            yield address, f"containerInsights {settings.get('containerInsights')}"


def ecs_17(stack: Json) -> Iterator[Finding]:
    for address, body in resources(stack, "aws_ecs_task_definition"):
        if body.get("network_mode") == "host":
            yield address, "network_mode host"


def ecs_20(stack: Json) -> Iterator[Finding]:
    for address, container in containers(stack):
        user = str(container.get("user", "")).split(":")[0]
        if user in ("", "0", "root"):
            yield address, f"user {container.get('user')!r} (root by default)"


def elb_1(stack: Json) -> Iterator[Finding]:
    for address, body in resources(stack, "aws_lb_listener"):
        if body.get("protocol") != "HTTP":
            continue
        actions = body.get("default_action", [])
        redirect = [a for a in actions if a.get("type") == "redirect"]
        if not redirect or redirect[0].get("redirect", {}).get("protocol") != "HTTPS":
            yield address, "HTTP listener does not redirect to HTTPS"


def albs(stack: Json) -> Iterator[tuple[str, Json]]:
    for address, body in resources(stack, "aws_lb"):
        if body.get("load_balancer_type", "application") == "application":
            yield address, body


def elb_4(stack: Json) -> Iterator[Finding]:
    for address, body in albs(stack):
        if body.get("drop_invalid_header_fields") is not True:
            yield address, "drop_invalid_header_fields is not true"


def elb_5(stack: Json) -> Iterator[Finding]:
    for address, body in albs(stack):
        if body.get("access_logs", {}).get("enabled") is not True:
            yield address, "access logs off"


def elb_6(stack: Json) -> Iterator[Finding]:
    for address, body in albs(stack):
        if body.get("enable_deletion_protection") is not True:
            yield address, "deletion protection off"


def elb_12(stack: Json) -> Iterator[Finding]:
    for address, body in albs(stack):
        if body.get("desync_mitigation_mode", "defensive") not in ("defensive", "strictest"):
            yield address, f"desync_mitigation_mode {body['desync_mitigation_mode']}"


def elb_13(stack: Json) -> Iterator[Finding]:
    for address, body in albs(stack):
        if len(body.get("subnets", body.get("subnet_mapping", []))) < 2:
            yield address, "fewer than two subnets (AZs)"


def elb_16(stack: Json) -> Iterator[Finding]:
    associated = [b["resource_arn"] for _, b in resources(stack, "aws_wafv2_web_acl_association")]
    for address, _ in albs(stack):
        if not any(refers_to(arn, address) for arn in associated):
            yield address, "no WAF web ACL association"


def ec2_2(stack: Json) -> Iterator[Finding]:
    defaults = list(resources(stack, "aws_default_security_group"))
    for address, _ in resources(stack, "aws_vpc"):
        mine = [body for _, body in defaults if refers_to(body.get("vpc_id"), address)]
        if not mine or any(body.get("ingress") or body.get("egress") for body in mine):
            yield address, "default security group not managed with no rules"


def ec2_6(stack: Json) -> Iterator[Finding]:
    logs = [body for _, body in resources(stack, "aws_flow_log")]
    for address, _ in resources(stack, "aws_vpc"):
        if not any(refers_to(body.get("vpc_id"), address) for body in logs):
            yield address, "no flow log"


def _admits_admin_port(entry: Json) -> bool:
    if entry.get("action", entry.get("rule_action")) != "allow":
        return False
    if entry.get("cidr_block") != "0.0.0.0/0" and entry.get("ipv6_cidr_block") != "::/0":
        return False
    protocol = str(entry.get("protocol"))
    if protocol in ("-1", "all"):
        return True
    low, high = int(entry.get("from_port", 0)), int(entry.get("to_port", 0))
    return protocol in ("6", "tcp") and any(low <= port <= high for port in (22, 3389))


def ec2_21(stack: Json) -> Iterator[Finding]:
    """Every VPC's default NACL must be managed here and admit neither 22 nor 3389 from anywhere
    (an unmanaged default NACL allows all inbound traffic)."""
    managed = list(resources(stack, "aws_default_network_acl"))
    for address, _ in resources(stack, "aws_vpc"):
        if not any(refers_to(body.get("default_network_acl_id"), address) for _, body in managed):
            yield address, "default network ACL not managed (allows all inbound)"
    for address, body in [*managed, *resources(stack, "aws_network_acl")]:
        if any(_admits_admin_port(entry) for entry in body.get("ingress", [])):
            yield address, "admits 22 or 3389 from anywhere"
    for address, body in resources(stack, "aws_network_acl_rule"):
        if body.get("egress") is not True and _admits_admin_port(body):
            yield address, "admits 22 or 3389 from anywhere"


def s3_5(stack: Json) -> Iterator[Finding]:
    for address, _ in resources(stack, "aws_s3_bucket"):
        policies = attached(stack, "aws_s3_bucket_policy", address)
        if not any(denies_insecure_transport(p["policy"]) for p in policies):
            yield address, "no Deny on aws:SecureTransport false"


def s3_8(stack: Json) -> Iterator[Finding]:
    flags = ("block_public_acls", "block_public_policy", "ignore_public_acls")
    flags += ("restrict_public_buckets",)
    for address, _ in resources(stack, "aws_s3_bucket"):
        blocks = attached(stack, "aws_s3_bucket_public_access_block", address)
        if not any(all(block.get(flag) is True for flag in flags) for block in blocks):
            yield address, "public access not fully blocked"


def s3_12(stack: Json) -> Iterator[Finding]:
    for address, _ in resources(stack, "aws_s3_bucket"):
        controls = attached(stack, "aws_s3_bucket_ownership_controls", address)
        if not any(c["rule"]["object_ownership"] == "BucketOwnerEnforced" for c in controls):
            yield address, "ACLs not disabled (BucketOwnerEnforced)"


def s3_17(stack: Json) -> Iterator[Finding]:
    for address, _ in resources(stack, "aws_s3_bucket"):
        configs = attached(stack, "aws_s3_bucket_server_side_encryption_configuration", address)
        algorithms = {
            rule["apply_server_side_encryption_by_default"]["sse_algorithm"]
            for config in configs
            for rule in config["rule"]
        }
        if not algorithms or not algorithms <= {"aws:kms", "aws:kms:dsse"}:
            yield address, f"default encryption {sorted(algorithms) or 'unset'}, not KMS"


def kms_4(stack: Json) -> Iterator[Finding]:
    for address, body in resources(stack, "aws_kms_key"):
        symmetric = body.get("customer_master_key_spec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
        if symmetric and body.get("enable_key_rotation") is not True:
            yield address, "key rotation off"


MIN_RETENTION_DAYS = 365  # CloudWatch.16's default minRetentionTime


def cloudwatch_16(stack: Json) -> Iterator[Finding]:
    for address, body in resources(stack, "aws_cloudwatch_log_group"):
        days = body.get("retention_in_days", 0)  # 0 / unset: never expire
        if days and days < MIN_RETENTION_DAYS:
            yield address, f"retention {days} days < {MIN_RETENTION_DAYS}"


CONTROLS = {
    c.id: c
    for c in (
        Control("ECS.2", "no automatic public IPs", ("aws_ecs_service",), ecs_2),
        Control("ECS.4", "non-privileged containers", ("aws_ecs_task_definition",), ecs_4),
        Control("ECS.5", "read-only root filesystems", ("aws_ecs_task_definition",), ecs_5),
        Control("ECS.8", "no credentials in env vars", ("aws_ecs_task_definition",), ecs_8),
        Control("ECS.9", "task definitions log", ("aws_ecs_task_definition",), ecs_9),
        Control("ECS.10", "latest Fargate platform", ("aws_ecs_service",), ecs_10),
        Control("ECS.12", "Container Insights", ("aws_ecs_cluster",), ecs_12),
        Control("ECS.17", "no host network mode", ("aws_ecs_task_definition",), ecs_17),
        Control("ECS.20", "non-root container users", ("aws_ecs_task_definition",), ecs_20),
        Control("ELB.1", "HTTP redirects to HTTPS", ("aws_lb_listener",), elb_1),
        Control("ELB.4", "drop invalid headers", ("aws_lb",), elb_4),
        Control("ELB.5", "access logging", ("aws_lb",), elb_5),
        Control("ELB.6", "deletion protection", ("aws_lb",), elb_6),
        Control("ELB.12", "desync mitigation", ("aws_lb",), elb_12),
        Control("ELB.13", "multiple AZs", ("aws_lb",), elb_13),
        Control("ELB.16", "WAF web ACL", ("aws_lb",), elb_16),
        Control("EC2.2", "default SG has no rules", ("aws_vpc",), ec2_2),
        Control("EC2.6", "VPC flow logs", ("aws_vpc",), ec2_6),
        Control("EC2.21", "NACLs: no 22/3389 from anywhere", ("aws_vpc",), ec2_21),
        Control("S3.5", "SSL-only bucket policy", ("aws_s3_bucket",), s3_5),
        Control("S3.8", "block public access", ("aws_s3_bucket",), s3_8),
        Control("S3.12", "no ACLs", ("aws_s3_bucket",), s3_12),
        Control("S3.17", "KMS encryption at rest", ("aws_s3_bucket",), s3_17),
        Control("KMS.4", "key rotation", ("aws_kms_key",), kms_4),
        Control(
            "CloudWatch.16", "log retention >= 1 year", ("aws_cloudwatch_log_group",), cloudwatch_16
        ),
    )
}


# --- allowlist -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Allowed:
    control: str
    envs: tuple[str, ...]
    reason: str


def load_allowlist() -> dict[str, Allowed]:
    raw = yaml.safe_load(ALLOWLIST.read_text())
    assert isinstance(raw, dict) and set(raw) == {"controls"}, f"{ALLOWLIST}: one key, controls"
    entries: dict[str, Allowed] = {}
    for item in raw["controls"]:
        assert set(item) == {"control", "envs", "reason"}, item
        assert item["control"] in CONTROLS, f"unknown control {item['control']}"
        assert item["control"] not in entries, f"{item['control']} listed twice"
        assert item["envs"] and set(item["envs"]) <= set(STACKS), item
        assert isinstance(item["reason"], str) and len(item["reason"].split()) >= 5, item
        entries[item["control"]] = Allowed(item["control"], tuple(item["envs"]), item["reason"])
    return entries


def findings(control: Control, stack: Json) -> list[Finding]:
    return sorted(control.check(stack))


# --- tests -----------------------------------------------------------------------------------


def test_allowlist_is_well_formed() -> None:
    load_allowlist()


@pytest.mark.parametrize("control", CONTROLS.values(), ids=lambda c: c.id)
def test_control_passes_or_is_allowlisted_per_environment(
    control: Control, synthesized: dict[str, Json]
) -> None:
    allowed = load_allowlist().get(control.id)
    unexpected = [
        f"[{env}] {address}: {problem}"
        for env in STACKS
        for address, problem in findings(control, synthesized[env])
        if allowed is None or env not in allowed.envs
    ]
    assert not unexpected, (
        f"{control.id} ({control.title}, {control.url}) fails; fix it or add a reason for the "
        f"environment to {ALLOWLIST.relative_to(ROOT)}:\n  " + "\n  ".join(unexpected)
    )


def test_allowlist_has_no_stale_entries(synthesized: dict[str, Json]) -> None:
    stale = [
        f"{entry.control} passes in {env}: drop {env}"
        for entry in load_allowlist().values()
        for env in entry.envs
        if not findings(CONTROLS[entry.control], synthesized[env])
    ]
    assert not stale, "stale entries in fsbp-allowlist.yaml:\n  " + "\n  ".join(stale)


@pytest.mark.parametrize("control", CONTROLS.values(), ids=lambda c: c.id)
def test_control_has_something_to_check(control: Control, synthesized: dict[str, Json]) -> None:
    """A control whose resources appear in no default stack would pass vacuously."""
    assert any(
        synthesized[env].get("resource", {}).get(t)
        for env in STACKS
        for t in control.resource_types
    ), control.id


# Each entry breaks the control's property in a copy of a stack that passes it (prod: the
# strictest default) and the check must report it.
def _first(stack: Json, type_: str) -> Json:
    return next(iter(stack["resource"][type_].values()))


def _edit_container(stack: Json, change: Callable[[Json], None]) -> None:
    body = _first(stack, "aws_ecs_task_definition")
    defs = json.loads(body["container_definitions"])
    change(defs[0])
    body["container_definitions"] = json.dumps(defs)


def _add_root_task(stack: Json) -> None:
    """A second copy of a task definition whose containers run as a non-root user, then root."""
    defs = stack["resource"]["aws_ecs_task_definition"]
    body = copy.deepcopy(next(iter(defs.values())))
    containers_ = json.loads(body["container_definitions"])
    for container in containers_:
        container["user"] = "1000:1000"
    defs["nonroot"] = {**body, "container_definitions": json.dumps(containers_)}
    containers_[0]["user"] = "0"
    defs["root"] = {**body, "container_definitions": json.dumps(containers_)}


MUTATIONS: dict[str, tuple[str, Callable[[Json], None]]] = {
    "ECS.2": (
        "prod",
        lambda s: _first(s, "aws_ecs_service")["network_configuration"].update(
            assign_public_ip=True
        ),
    ),
    "ECS.4": ("prod", lambda s: _edit_container(s, lambda c: c.update(privileged=True))),
    "ECS.5": ("prod", lambda s: _edit_container(s, lambda c: c.pop("readonlyRootFilesystem"))),
    "ECS.8": (
        "prod",
        lambda s: _edit_container(
            s, lambda c: c.update(environment=[{"name": "AWS_SECRET_ACCESS_KEY", "value": "x"}])
        ),
    ),
    "ECS.9": ("prod", lambda s: _edit_container(s, lambda c: c.pop("logConfiguration"))),
    "ECS.10": ("prod", lambda s: _first(s, "aws_ecs_service").update(platform_version="1.3.0")),
    "ECS.12": ("prod", lambda s: _first(s, "aws_ecs_cluster").update(setting=[])),
    "ECS.17": ("prod", lambda s: _first(s, "aws_ecs_task_definition").update(network_mode="host")),
    "ECS.20": ("prod", lambda s: _add_root_task(s)),
    "ELB.1": (
        "prod",
        lambda s: s["resource"]["aws_lb_listener"].update(
            x={"protocol": "HTTP", "default_action": [{"type": "forward"}]}
        ),
    ),
    "ELB.4": ("prod", lambda s: _first(s, "aws_lb").update(drop_invalid_header_fields=False)),
    "ELB.5": ("prod", lambda s: _first(s, "aws_lb").pop("access_logs")),
    "ELB.6": ("prod", lambda s: _first(s, "aws_lb").update(enable_deletion_protection=False)),
    "ELB.12": ("prod", lambda s: _first(s, "aws_lb").update(desync_mitigation_mode="monitor")),
    "ELB.13": ("prod", lambda s: _first(s, "aws_lb").update(subnets=["subnet-1"])),
    "ELB.16": ("prod", lambda s: s["resource"].pop("aws_wafv2_web_acl_association")),
    "EC2.2": (
        "prod",
        lambda s: _first(s, "aws_default_security_group").update(ingress=[{"from_port": 0}]),
    ),
    "EC2.6": ("prod", lambda s: s["resource"].pop("aws_flow_log")),
    "EC2.21": (
        "prod",
        lambda s: (
            s["resource"]
            .setdefault("aws_network_acl", {})
            .update(
                x={
                    "ingress": [
                        {
                            "action": "allow",
                            "cidr_block": "0.0.0.0/0",
                            "protocol": "tcp",
                            "from_port": 0,
                            "to_port": 1024,
                        }
                    ]
                }
            )
        ),
    ),
    "S3.5": ("prod", lambda s: s["resource"].pop("aws_s3_bucket_policy")),
    "S3.8": (
        "prod",
        lambda s: _first(s, "aws_s3_bucket_public_access_block").update(
            restrict_public_buckets=False
        ),
    ),
    "S3.12": ("prod", lambda s: s["resource"].pop("aws_s3_bucket_ownership_controls")),
    "S3.17": (
        BOOTSTRAP_STACK,
        lambda s: _first(s, "aws_s3_bucket_server_side_encryption_configuration")["rule"][0][
            "apply_server_side_encryption_by_default"
        ].update(sse_algorithm="AES256"),
    ),
    "KMS.4": ("prod", lambda s: _first(s, "aws_kms_key").update(enable_key_rotation=False)),
    "CloudWatch.16": (
        "prod",
        lambda s: _first(s, "aws_cloudwatch_log_group").update(retention_in_days=30),
    ),
}


def test_every_control_has_a_mutation() -> None:
    assert sorted(MUTATIONS) == sorted(CONTROLS)


@pytest.mark.parametrize("control_id", sorted(MUTATIONS))
def test_check_reports_the_broken_property(control_id: str, synthesized: dict[str, Json]) -> None:
    env, mutate = MUTATIONS[control_id]
    control = CONTROLS[control_id]
    stack = copy.deepcopy(synthesized[env])
    before = findings(control, stack)
    mutate(stack)
    after = findings(control, stack)
    assert len(after) > len(before), f"{control_id}: breaking it in {env} was not reported"
