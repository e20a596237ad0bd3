"""Checks that read a whole environment across concerns: host names against the services
(`domain`), and the service quotas the services and NAT gateways use (`quotas`).

They take the `EnvironmentView` protocol, not `EnvironmentConfig`, so this module never
imports the model whose validator calls it (no import cycle, annotations included).
"""

from __future__ import annotations

from collections.abc import Sequence

from envs.schema.domain import (
    ACM_FIRST_NAME_MAX,
    ALB_CONDITION_VALUES_PER_RULE,
    DNS_NAME_MAX,
    HOST_HEADER_MAX,
)
from envs.schema.names import share_an_account
from envs.schema.service import Exposure
from envs.schema.service_connect import INSTANCES_PER_SERVICE_MAX
from envs.schema.view import EnvironmentView


def domain_problems(env: EnvironmentView) -> list[str]:
    """Checks that need the services: hosts name public services; names fit ACM and the ALB."""
    domain = env.domain
    if domain is None:
        return []
    problems = []
    services = {s.name: s for s in env.services}
    public = [s for s in env.services if s.exposure is Exposure.PUBLIC]
    for name, hosts in domain.hosts.items():
        service = services.get(name)
        if service is None or service.exposure is not Exposure.PUBLIC:
            problems.append(
                f"domain.hosts.{name}: {name!r} is not a public service of this environment; "
                f"public services: {', '.join(s.name for s in public) or 'none'}"
            )
            continue
        if service.host_headers:
            problems.append(
                f"services.{name}.host_headers: {name!r} also has domain.hosts; list its host "
                "names once, in domain.hosts"
            )
        if len(public) > 1 and len(hosts) + len(service.path_patterns) > (
            ALB_CONDITION_VALUES_PER_RULE
        ):
            problems.append(
                f"domain.hosts.{name}: {len(hosts)} hosts and {len(service.path_patterns)} path "
                f"patterns make one listener rule with more than {ALB_CONDITION_VALUES_PER_RULE} "
                "condition values, which the ALB refuses; use fewer names"
            )
    if public and not domain.public_hosts and env.public_alb.certificate_arn is None:
        problems.append(
            f"domain.hosts: the public services ({', '.join(s.name for s in public)}) need at "
            "least one host name for the certificate and the public URL"
        )
    internal = [s for s in env.services if s.exposure is Exposure.INTERNAL]
    if domain.internal_tls and env.internal_alb.certificate_arn is None and internal:
        names = [domain.internal_host(s.name) for s in internal]
        if len(names) > domain.acm_domain_names_quota:
            problems.append(
                f"domain.internal_tls: {len(names)} internal services need one certificate with "
                f"that many names but ACM allows {domain.acm_domain_names_quota}; set "
                "internal_tls to false or raise acm_domain_names_quota"
            )
        for host in names:
            if len(host) > DNS_NAME_MAX or len(host) > HOST_HEADER_MAX:
                problems.append(
                    f"domain.internal_domain: {host!r} is too long for a host name; use a "
                    "shorter internal_domain"
                )
        if len(names[0]) > ACM_FIRST_NAME_MAX:
            problems.append(
                f"domain.internal_domain: {names[0]!r} is the internal certificate's common name "
                f"and ACM allows {ACM_FIRST_NAME_MAX} characters; use a shorter internal_domain"
            )
    return problems


def shared_names(first: EnvironmentView, second: EnvironmentView) -> list[str]:
    """Names two environments both claim: their certificates would share validation records
    (ACM derives them from the name and account), and destroying one environment would delete
    the other's records."""
    a, b = first.domain, second.domain
    if a is None or b is None:
        return []
    problems = []
    for host in sorted(set(a.public_hosts) & set(b.public_hosts)):
        problems.append(
            f"domain.hosts: {host!r} is also a host of {first.name}; give each environment "
            "its own host names"
        )
    if a.internal_tls and b.internal_tls and a.private_zone == b.private_zone:
        problems.append(
            f"domain.internal_domain: {b.private_zone!r} is also the internal domain of "
            f"{first.name}; set internal_domain (e.g. internal.{second.name}.{b.zone_name})"
        )
    return problems


def nat_gateways(env: EnvironmentView) -> int:
    """NAT gateways (and so Elastic IPs) the environment's network creates."""
    return env.network.nat_gateway_count


def quota_problems(env: EnvironmentView) -> list[str]:
    """Quotas one environment exceeds on its own."""
    problems = []
    quotas = env.quotas
    for exposure in (Exposure.PUBLIC, Exposure.INTERNAL):
        services = env.services_behind(exposure)
        # A traffic-shifting service (blue/green, linear, canary) has a production and a test
        # rule and two target groups (modules/alb.py).
        shifting = sum(1 for s in services if s.deployment.strategy.shifts_traffic)
        rules = sum(
            2 if s.deployment.strategy.shifts_traffic else 1
            for s in services
            if s.path_patterns or s.host_headers or s.deployment.strategy.shifts_traffic
        )
        if rules > quotas.rules_per_alb:
            problems.append(
                f"services: the {exposure} ALB needs {rules} listener rules but the quota is "
                f"{quotas.rules_per_alb} rules per ALB; request an increase (Service Quotas, "
                "Elastic Load Balancing) and set quotas.rules_per_alb"
            )
        groups = len(services) + shifting
        if groups > quotas.target_groups_per_alb:
            problems.append(
                f"services: the {exposure} ALB needs {groups} target groups but the quota is "
                f"{quotas.target_groups_per_alb} per ALB; request an increase and set "
                "quotas.target_groups_per_alb"
            )
    return problems + _service_connect_problems(env)


def _service_connect_problems(env: EnvironmentView) -> list[str]:
    """Cloud Map instances: per published service (fixed) and per namespace (adjustable)."""
    problems = []
    published = [s for s in env.services if s.exposure is Exposure.SERVICE_CONNECT]
    for service in published:
        if service.most_tasks > INSTANCES_PER_SERVICE_MAX:
            problems.append(
                f"services.{service.name}: with Service Connect each task is a Cloud Map "
                f"instance; the service may run {service.most_tasks} tasks during a deployment "
                f"(twice its most tasks) but Cloud Map allows {INSTANCES_PER_SERVICE_MAX} per "
                "service (not adjustable); lower its max_capacity or desired_count"
            )
    total = sum(s.most_tasks for s in published)
    if total > env.quotas.cloud_map_instances_per_namespace:
        problems.append(
            f"services: the Service Connect services may register {total} tasks in the "
            f"namespace during deployments but the quota is "
            f"{env.quotas.cloud_map_instances_per_namespace} instances per namespace; request "
            "an increase (Service Quotas, AWS Cloud Map) and set "
            "quotas.cloud_map_instances_per_namespace"
        )
    return problems


def shared_quota_problems(
    environments: Sequence[EnvironmentView], origins: Sequence[str]
) -> list[str]:
    """Quotas the environments of one account and region use together (reported against the
    one that goes over)."""
    problems = []
    earlier: list[EnvironmentView] = []
    for env, origin in zip(environments, origins, strict=True):
        sharing = [e for e in earlier if e.region == env.region and share_an_account(e, env)] + [
            env
        ]
        earlier.append(env)
        namespaces = [e.name for e in sharing if e.service_connect is not None]
        if env.service_connect is not None and len(namespaces) > (
            env.quotas.cloud_map_namespaces_per_region
        ):
            problems.append(
                f"{origin}: service_connect: Cloud Map namespaces in {env.region} would be "
                f"{len(namespaces)} ({', '.join(namespaces)}) but the quota is "
                f"{env.quotas.cloud_map_namespaces_per_region} per account and region; raise "
                "it and set quotas.cloud_map_namespaces_per_region"
            )
        if nat_gateways(env) == 0:
            continue
        counts = [(e.name, nat_gateways(e)) for e in sharing if nat_gateways(e)]
        total = sum(count for _, count in counts)
        if total > env.quotas.elastic_ips_per_region:
            listed = ", ".join(f"{name} {count}" for name, count in counts)
            problems.append(
                f"{origin}: network.nat_mode: NAT gateways in {env.region} need {total} Elastic "
                f"IPs ({listed}) but the quota is {env.quotas.elastic_ips_per_region} per "
                "account and region (set account_id if these environments use different "
                "accounts); use nat_mode 'single', move an environment to another region, or "
                "raise the quota and set quotas.elastic_ips_per_region"
            )
    return problems
