"""HTTPS names: certificates, their DNS validation, alias records, host rules, internal TLS.

Invariants run over every default environment (whatever its domain says); exact examples run
on the variants in tests/variants.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from envs import DEFAULT_ENVIRONMENTS, load_environments
from envs.schema.environment import EnvironmentConfig
from envs.schema.service import Exposure
from tests.example_envs import example_environments
from tests.tf import by_path, container_definitions, ref, resources, where
from tests.variants import CERTIFICATE, EXAMPLE, VARIANTS, ZONE_ID

Json = dict[str, Any]
CONFIGS = {env.name: env for env in load_environments(DEFAULT_ENVIRONMENTS)}
WITH_DOMAIN = [name for name, env in CONFIGS.items() if env.domain is not None]
# Where the platform issues the certificates itself (no certificate_arn given on either ALB).
ISSUING = [
    name
    for name in WITH_DOMAIN
    if CONFIGS[name].public_alb.certificate_arn is None
    and CONFIGS[name].internal_alb.certificate_arn is None
]


def certificate(stack: Json, exposure: str) -> tuple[str, Json]:
    return by_path(stack, "aws_acm_certificate", f"domain/{exposure}-certificate/certificate")


def validation(stack: Json, exposure: str) -> tuple[str, Json]:
    return by_path(
        stack, "aws_acm_certificate_validation", f"domain/{exposure}-certificate/validation"
    )


def alb(stack: Json, exposure: str) -> str:
    return by_path(stack, "aws_lb", f"{exposure}-alb/lb")[0]


def https_listener(stack: Json, exposure: str) -> Json:
    return by_path(stack, "aws_lb_listener", f"{exposure}-alb/https")[1]


def public_zone_id(stack: Json) -> str:
    (name,) = stack["data"]["aws_route53_zone"]
    return f"${{data.aws_route53_zone.{name}.zone_id}}"


def aliases(stack: Json) -> dict[tuple[str, str], Json]:
    """(host, record type) -> alias record (validation records have no alias)."""
    return {
        (body["name"], body["type"]): body
        for body in resources(stack, "aws_route53_record").values()
        if "alias" in body
    }


def internal_names(env: EnvironmentConfig) -> list[str]:
    assert env.domain is not None
    return [env.domain.internal_host(s.name) for s in env.services_behind(Exposure.INTERNAL)]


@pytest.mark.invariant
@pytest.mark.parametrize("env", DEFAULT_ENVIRONMENTS)
def test_each_alb_serves_https_exactly_when_the_config_says(
    env: str, synthesized: dict[str, Json]
) -> None:
    config, stack = CONFIGS[env], synthesized[env]
    for exposure in (Exposure.PUBLIC, Exposure.INTERNAL):
        if not config.services_behind(exposure):
            continue
        arn = ref("aws_lb", alb(stack, str(exposure)), "arn")
        protocols = {
            body["port"]: body["protocol"]
            for body in where(stack, "aws_lb_listener", load_balancer_arn=arn).values()
        }
        https = config.https(exposure)
        assert protocols == ({80: "HTTP", 443: "HTTPS"} if https else {80: "HTTP"})


@pytest.mark.invariant
def test_no_listener_uses_a_certificate_before_validation(synthesized: dict[str, Json]) -> None:
    """ELB refuses a pending certificate: every certificate the stack requests reaches a
    listener only through its aws_acm_certificate_validation (so the listener waits)."""
    checked = 0
    for stack in synthesized.values():
        for body in resources(stack, "aws_lb_listener").values():
            arn = body.get("certificate_arn")
            if arn is None:
                continue
            checked += 1
            assert "aws_acm_certificate." not in arn, arn
            assert arn.startswith("${aws_acm_certificate_validation.") or arn.startswith(
                "arn:aws:acm:"
            )
    assert checked


def test_stg_and_prod_have_a_domain_and_dev_stays_http(synthesized: dict[str, Json]) -> None:
    """The shipped example (issue #16); everything else here holds for any config."""
    assert [env.name for env in example_environments() if env.domain] == ["stg", "prod"]
    dev = synthesized[EXAMPLE]
    assert not resources(dev, "aws_acm_certificate") and not resources(dev, "aws_route53_record")
    assert {body["protocol"] for body in resources(dev, "aws_lb_listener").values()} == {"HTTP"}


@pytest.mark.parametrize("env", ISSUING)
def test_certificate_names_equal_the_configured_hosts(
    env: str, synthesized: dict[str, Json]
) -> None:
    config = CONFIGS[env]
    assert config.domain is not None
    stack = synthesized[env]
    expected = {"public": list(config.domain.public_hosts), "internal": internal_names(config)}
    for exposure, names in expected.items():
        _, body = certificate(stack, exposure)
        assert [body["domain_name"], *body.get("subject_alternative_names", [])] == names
        assert body["validation_method"] == "DNS"
        assert body["lifecycle"] == {"create_before_destroy": True}


@pytest.mark.parametrize("env", [*ISSUING, "domain-shared"])
def test_validation_records_are_the_certificates_own_options_in_the_public_zone(
    env: str, synthesized: dict[str, Json]
) -> None:
    stack = synthesized[env]
    for exposure in ("public", "internal"):
        cert, _ = certificate(stack, exposure)
        records, record = by_path(
            stack, "aws_route53_record", f"domain/{exposure}-certificate/validation-record"
        )
        options = f"aws_acm_certificate.{cert}.domain_validation_options"
        assert record["for_each"] == (
            f"${{{{ for key, val in tolist({options}): val.domain_name => val }}}}"
        )
        assert record["name"] == "${each.value.resource_record_name}"
        assert record["type"] == "${each.value.resource_record_type}"
        assert record["records"] == ["${each.value.resource_record_value}"]
        # The internal certificate too: ACM validates through public DNS only.
        assert record["zone_id"] == public_zone_id(stack)
        _, wait = validation(stack, exposure)
        assert wait["certificate_arn"] == ref("aws_acm_certificate", cert, "arn")
        assert wait["validation_record_fqdns"] == (
            f"${{[ for key, val in aws_route53_record.{records}: val.fqdn]}}"
        )


@pytest.mark.parametrize("env", [*ISSUING, "domain-shared", "dns-external"])
def test_listeners_wait_for_the_validated_certificate(
    env: str, synthesized: dict[str, Json]
) -> None:
    stack = synthesized[env]
    for exposure in ("public", "internal"):
        wait, _ = validation(stack, exposure)
        listener = https_listener(stack, exposure)
        assert listener["load_balancer_arn"] == ref("aws_lb", alb(stack, exposure), "arn")
        assert listener["certificate_arn"] == ref(
            "aws_acm_certificate_validation", wait, "certificate_arn"
        )
        assert listener["port"] == 443 and listener["protocol"] == "HTTPS"
        assert listener["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
        redirect = by_path(stack, "aws_lb_listener", f"{exposure}-alb/http-redirect")[1]
        assert redirect["default_action"][0]["redirect"]["port"] == "443"


@pytest.mark.parametrize("env", [*WITH_DOMAIN, "domain-shared", "cert-existing"])
def test_alias_records_point_at_the_right_alb_with_health_evaluation(
    env: str, synthesized: dict[str, Json]
) -> None:
    config = {**CONFIGS, **VARIANTS}[env]
    assert config.domain is not None
    stack = synthesized[env]
    public = alb(stack, "public")
    expected = {
        (host, kind): (public, public_zone_id(stack))
        for host in config.domain.public_hosts
        for kind in ("A", "AAAA")
    }
    if config.domain.internal_tls:
        internal = alb(stack, "internal")
        private, zone = by_path(stack, "aws_route53_zone", "domain/private-zone/zone")
        assert zone["name"] == config.domain.private_zone
        assert zone["vpc"] == [{"vpc_id": ref("aws_vpc", by_path(stack, "aws_vpc", "vpc")[0])}]
        for host in internal_names(config):
            expected[(host, "A")] = (internal, ref("aws_route53_zone", private, "zone_id"))
    found = aliases(stack)
    assert sorted(found) == sorted(expected)
    for key, (lb, zone_id) in expected.items():
        assert found[key]["zone_id"] == zone_id
        assert found[key]["alias"] == {
            "name": ref("aws_lb", lb, "dns_name"),
            "zone_id": ref("aws_lb", lb, "zone_id"),
            "evaluate_target_health": True,
        }


@pytest.mark.parametrize("env", WITH_DOMAIN)
def test_callers_receive_the_internal_https_name(env: str, synthesized: dict[str, Json]) -> None:
    from stacks.platform import (
        caller_url_variable,  # loads the provider: at run time, not collection
    )

    config = CONFIGS[env]
    assert config.domain is not None
    stack = synthesized[env]
    for callee in config.services_behind(Exposure.INTERNAL):
        for caller in callee.allowed_callers:
            _, task = by_path(
                stack, "aws_ecs_task_definition", f"service-{caller}/workload/task-definition"
            )
            (container,) = container_definitions(task)
            variables = {e["name"]: e["value"] for e in container["environment"]}
            expected = f"https://{callee.name}.{config.domain.private_zone}"
            assert variables[caller_url_variable(callee.name)] == expected


def test_callers_url_example(synthesized: dict[str, Json]) -> None:
    stack = synthesized["domain-shared"]
    for caller in ("frontend", "admin"):
        _, task = by_path(
            stack, "aws_ecs_task_definition", f"service-{caller}/workload/task-definition"
        )
        (container,) = container_definitions(task)
        assert {"name": "BACKEND_URL", "value": "https://backend.internal.shop.example.org"} in (
            container["environment"]
        )
    # ... and they may reach the internal listener on 443 only.
    internal_sg, _ = by_path(stack, "aws_security_group", "internal-alb/sg/sg")
    ports = {
        body["from_port"]
        for body in resources(stack, "aws_vpc_security_group_ingress_rule").values()
        if body["security_group_id"] == ref("aws_security_group", internal_sg)
    }
    assert ports == {443}


@pytest.mark.parametrize("env", WITH_DOMAIN)
def test_public_url_is_the_first_host(env: str, synthesized: dict[str, Json]) -> None:
    domain = CONFIGS[env].domain
    assert domain is not None
    assert synthesized[env]["output"]["public_url"]["value"] == f"https://{domain.public_hosts[0]}"


def test_host_rules_route_each_host_to_its_target_group(synthesized: dict[str, Json]) -> None:
    stack = synthesized["domain-shared"]
    listener, https = by_path(stack, "aws_lb_listener", "public-alb/https")
    assert https["default_action"][0]["type"] == "fixed-response"  # unknown hosts: 404
    for service, hosts in (
        ("frontend", ["shop.example.org", "www.shop.example.org"]),
        ("admin", ["admin.shop.example.org"]),
    ):
        _, rule = by_path(stack, "aws_lb_listener_rule", f"public-alb/rule-{service}")
        group, _ = by_path(stack, "aws_lb_target_group", f"public-alb/tg-{service}")
        assert rule["listener_arn"] == ref("aws_lb_listener", listener, "arn")
        assert rule["condition"] == [{"host_header": {"values": hosts}}]
        assert rule["action"] == [
            {"type": "forward", "target_group_arn": ref("aws_lb_target_group", group, "arn")}
        ]


def test_a_zone_given_by_id_is_checked_against_its_name(synthesized: dict[str, Json]) -> None:
    (body,) = synthesized["domain-shared"]["data"]["aws_route53_zone"].values()
    assert body["zone_id"] == ZONE_ID and "name" not in body
    (condition,) = body["lifecycle"]["postcondition"]
    assert condition["condition"] == '${trimsuffix(self.name, ".") == "shop.example.org"}'
    (by_name,) = synthesized["prod"]["data"]["aws_route53_zone"].values()
    assert by_name["name"] == "example.com" and by_name["private_zone"] is False


def test_external_dns_outputs_the_records_to_create(synthesized: dict[str, Json]) -> None:
    stack = synthesized["dns-external"]
    assert "aws_route53_zone" not in stack.get("data", {})
    # Only the private zone (still in Route 53, on the VPC) gets records.
    private, _ = by_path(stack, "aws_route53_zone", "domain/private-zone/zone")
    assert {body["zone_id"] for body in resources(stack, "aws_route53_record").values()} == {
        ref("aws_route53_zone", private, "zone_id")
    }
    cert, _ = certificate(stack, "public")
    internal_cert, _ = certificate(stack, "internal")
    outputs = stack["output"]
    assert outputs["certificate_validation_records"]["value"] == {
        "public": f"${{tolist(aws_acm_certificate.{cert}.domain_validation_options)}}",
        "internal": f"${{tolist(aws_acm_certificate.{internal_cert}.domain_validation_options)}}",
    }
    assert outputs["dns_target"]["value"] == {
        "hosts": ["app.corp.example.net"],
        "target": ref("aws_lb", alb(stack, "public"), "dns_name"),
    }
    # The validation resource waits for records created outside Terraform.
    _, wait = validation(stack, "public")
    assert "validation_record_fqdns" not in wait
    assert outputs["public_url"]["value"] == "https://app.corp.example.net"


def test_existing_certificate_with_a_zone_gets_records_but_no_new_certificate(
    synthesized: dict[str, Json],
) -> None:
    stack = synthesized["cert-existing"]
    assert not resources(stack, "aws_acm_certificate")
    assert https_listener(stack, "public")["certificate_arn"] == CERTIFICATE
    assert sorted(aliases(stack)) == [("app.example.org", "A"), ("app.example.org", "AAAA")]
    # internal_tls false: the internal ALB keeps its certificate_arn, under its own name.
    assert https_listener(stack, "internal")["certificate_arn"] == CERTIFICATE
    assert not resources(stack, "aws_route53_zone")
    _, task = by_path(stack, "aws_ecs_task_definition", "service-frontend/workload/task-definition")
    (container,) = container_definitions(task)
    internal_dns = ref("aws_lb", alb(stack, "internal"), "dns_name")
    assert {"name": "BACKEND_URL", "value": f"https://{internal_dns}"} in container["environment"]
    assert stack["output"]["public_url"]["value"] == "https://app.example.org"
