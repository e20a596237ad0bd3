"""Domain config: each bad input is one clear message at `make check` (no synth needed)."""

from __future__ import annotations

from typing import Any

import pytest

from envs import ConfigError, merge, validate_together
from envs.schema.domain import ACM_DOMAIN_NAMES_DEFAULT_QUOTA
from envs.schema.environment import EnvironmentConfig
from envs.schema.service import Exposure
from tests.example_envs import build_example
from tests.example_envs.dev import OVERRIDES as DEV

CERTIFICATE_US = (
    "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
)


def domain(**settings: Any) -> dict[str, Any]:
    return {"domain": {"zone_name": "example.org", **settings}}


def hosts(**by_service: list[str]) -> dict[str, Any]:
    return domain(hosts=by_service)


def build(overrides: dict[str, Any]) -> EnvironmentConfig:
    return build_example(merge(DEV, overrides), source="envs/dev.py")


def rejected(overrides: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        build(overrides)
    return list(caught.value.problems)


ADMIN = {"services": {"admin": {"exposure": "public", "container_port": 3001}}}


@pytest.mark.parametrize(
    "overrides,expected",
    [
        (
            hosts(frontend=["App.example.org"]),
            "envs/dev.py: domain.hosts.frontend: host 'App.example.org' must be lower case",
        ),
        (
            hosts(frontend=["app_1.example.org"]),
            "envs/dev.py: domain.hosts.frontend: host 'app_1.example.org' has label 'app_1': "
            "labels are 1-63 letters, digits and '-', not starting or ending with '-'",
        ),
        (
            hosts(frontend=["app.example.org."]),
            "envs/dev.py: domain.hosts.frontend: host 'app.example.org.' must not end with '.'",
        ),
        (
            hosts(frontend=["app.example.com"]),
            "envs/dev.py: domain.hosts.frontend: host 'app.example.com' is outside the zone "
            "'example.org'; use a name ending in .example.org or change zone_name",
        ),
        (
            hosts(frontend=["app.*.example.org"]),
            "envs/dev.py: domain.hosts.frontend: host 'app.*.example.org' may use '*' only as "
            "the whole leftmost label (as in *.example.com)",
        ),
        (
            hosts(frontend=["*.example.org", "app.example.org"]),
            "envs/dev.py: domain.hosts: the first host '*.example.org' is the public URL and the "
            "certificate's name; put a host without '*' first",
        ),
        (
            merge(ADMIN, hosts(frontend=["app.example.org"], admin=["app.example.org"])),
            "envs/dev.py: domain.hosts.admin: host 'app.example.org' is already served by "
            "'frontend'; one host name routes to one service",
        ),
        (
            merge(
                ADMIN,
                hosts(frontend=["app.example.org", "*.example.org"], admin=["admin.example.org"]),
            ),
            "envs/dev.py: domain.hosts.frontend: wildcard '*.example.org' also matches "
            "'admin.example.org' of 'admin'; list 'frontend''s names explicitly",
        ),
        (
            hosts(
                frontend=[f"h{i}.example.org" for i in range(ACM_DOMAIN_NAMES_DEFAULT_QUOTA + 1)]
            ),
            "envs/dev.py: domain.hosts: 11 host names need one certificate with that many names "
            "but ACM allows 10 per certificate; drop hosts, or raise acm_domain_names_quota "
            "after AWS raised the account's quota",
        ),
        (
            domain(hosts={"frontend": ["app.example.org"]}, internal_domain="example.org"),
            "envs/dev.py: domain.internal_domain: 'example.org' equals the public zone; use a "
            "name under it, e.g. internal.example.org",
        ),
        (
            domain(hosts={"frontend": ["app.example.org"]}, internal_domain="corp.internal"),
            "envs/dev.py: domain.internal_domain: 'corp.internal' is outside the zone "
            "'example.org'; its certificate is validated through that zone, so use a name "
            "ending in .example.org",
        ),
        (
            hosts(frontend=["api.internal.example.org"]),
            "envs/dev.py: domain.hosts.frontend: host 'api.internal.example.org' is inside the "
            "internal domain 'internal.example.org'; public names must stay out of it",
        ),
        (
            hosts(backend=["api.example.org"]),
            "envs/dev.py: domain.hosts.backend: 'backend' is not a public service of this "
            "environment; public services: frontend",
        ),
        (
            domain(zone_id="z123", hosts={"frontend": ["app.example.org"]}),
            "envs/dev.py: domain.zone_id: zone_id 'z123' is not a Route 53 hosted zone id",
        ),
        (
            domain(),
            "envs/dev.py: domain.hosts: the public services (frontend) need at least one host "
            "name for the certificate and the public URL",
        ),
        (
            merge(
                {"public_alb": {"certificate_arn": CERTIFICATE_US}},
                hosts(frontend=["app.example.org"]),
            ),
            "envs/dev.py: public_alb.certificate_arn: the certificate is in us-east-1 but an ALB "
            "can only use ACM certificates from its own region ap-northeast-1",
        ),
        (
            merge(
                ADMIN,
                hosts(frontend=["app.example.org"], admin=[f"a{i}.example.org" for i in range(6)]),
            ),
            "envs/dev.py: domain.hosts.admin: 6 hosts and 0 path patterns make one listener rule "
            "with more than 5 condition values, which the ALB refuses; use fewer names",
        ),
        (
            domain(hosts={"frontend": [f"{'a' * 60}.example.org"]}),
            f"envs/dev.py: domain.hosts: the first host '{'a' * 60}.example.org' is the "
            "certificate's common name and ACM allows 64 characters; put a shorter host first",
        ),
    ],
    ids=lambda value: None if isinstance(value, dict) else value.split(": ")[1][:40],
)
def test_bad_domain_is_one_clear_message(overrides: dict[str, Any], expected: str) -> None:
    problems = rejected(overrides)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems[0]


def test_hosts_on_a_shared_alb_count_as_routing() -> None:
    """Two public services without paths: host names make each a rule, none the default."""
    env = build(merge(ADMIN, hosts(frontend=["app.example.org"], admin=["admin.example.org"])))
    routes = {s.name: env.host_rule(s) for s in env.services_behind(Exposure.PUBLIC)}
    assert routes == {"frontend": ("app.example.org",), "admin": ("admin.example.org",)}
    assert env.https(Exposure.PUBLIC) and env.https(Exposure.INTERNAL)
    # Hosts on one of them only: that one gets a rule, the other stays the default route.
    env = build(merge(ADMIN, hosts(frontend=["app.example.org"])))
    routes = {s.name: env.host_rule(s) for s in env.services_behind(Exposure.PUBLIC)}
    assert routes == {"frontend": ("app.example.org",), "admin": ()}


def test_internal_services_sharing_the_internal_alb_route_by_their_names() -> None:
    api = {"services": {"api": {"container_port": 9000, "allowed_callers": ["frontend"]}}}
    env = build(merge(api, hosts(frontend=["app.example.org"])))
    routes = {s.name: env.host_rule(s) for s in env.services_behind(Exposure.INTERNAL)}
    assert routes == {
        "backend": ("backend.internal.example.org",),
        "api": ("api.internal.example.org",),
    }
    # Without a domain the same two services both claim the internal ALB's default route.
    assert rejected(api) == [
        "envs/dev.py: services: ['backend', 'api'] are all the default route of the internal "
        "ALB; give all but one path_patterns or host_headers"
    ]


def test_a_service_alone_on_its_alb_stays_the_default_route() -> None:
    env = build(hosts(frontend=["app.example.org"]))
    assert all(env.host_rule(s) == () for s in env.services)


def test_internal_tls_off_keeps_the_internal_alb_http() -> None:
    env = build(domain(hosts={"frontend": ["app.example.org"]}, internal_tls=False))
    assert env.https(Exposure.PUBLIC) and not env.https(Exposure.INTERNAL)


def test_cognito_is_accepted_with_domain_hosts() -> None:
    cognito = {
        "user_pool_arn": "arn:aws:cognito-idp:ap-northeast-1:123456789012:userpool/"
        "ap-northeast-1_AbCdEf123",
        "user_pool_client_id": "3abc4defg5hij6klm7nop8qrs",
        "user_pool_domain": "shop-auth",
    }
    build(merge({"public_alb": {"cognito": cognito}}, hosts(frontend=["app.example.org"])))


def test_two_environments_never_share_names() -> None:
    dev = build(hosts(frontend=["app.example.org"]))
    other = build_example(
        merge(
            DEV,
            {
                "name": "qa",
                "network": {"vpc_cidr": "10.9.0.0/24"},
                **hosts(frontend=["app.example.org"]),
            },
        ),
        source="envs/qa.py",
    )
    with pytest.raises(ConfigError) as caught:
        validate_together([dev, other], sources=["envs/dev.py", "envs/qa.py"])
    assert list(caught.value.problems) == [
        "envs/qa.py: domain.hosts: 'app.example.org' is also a host of dev; give each "
        "environment its own host names",
        "envs/qa.py: domain.internal_domain: 'internal.example.org' is also the internal domain "
        "of dev; set internal_domain (e.g. internal.qa.example.org)",
    ]
