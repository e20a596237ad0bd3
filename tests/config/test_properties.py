"""Property tests over generated environments: each is rejected with clear per-field problem
lines, or it is valid and its invariants hold (subnet plan, egress proof, names, ports).

Routing and security-group invariants need synthesized JSON: a few generated valid configs are
synthesized together in one App (the provider loads once per process, each stack is cheap).
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from envs import ConfigError, EnvironmentConfig, build_environment
from envs.schema.network import InterfaceEndpoint, NatMode
from envs.schema.service import Exposure
from tests.constants import ACCOUNT
from tests.example_envs.base import BASE
from tests.tf import Json, ref, resources, rule_set, where

SOURCE = "envs/generated.py"
GENERATED_BASE = {
    **{key: value for key, value in BASE.items() if key not in ("services", "jobs", "buckets")},
    "account_id": ACCOUNT,
    "role_arn": f"arn:aws:iam::{ACCOUNT}:role/deploy",
}
# Regions with the AZ letters they have (us-east-1 has the most, so 4 AZs are possible).
REGIONS = {"ap-northeast-1": "acd", "us-east-1": "abcdef", "eu-west-1": "abc"}
NAT_MODES = ("none", "single", "per_az")
BAD_NAT_MODES = ("dual", "NAT", "per-az")
ENDPOINTS = tuple(endpoint.value for endpoint in InterfaceEndpoint)
SERVICE_NAMES = ("api", "web", "worker", "billing", "search-v2", "auth")
BAD_SERVICE_NAMES = ("Api", "bad_name", "-x")  # + index: unique
# Written out here rather than taken from envs.schema.service, so the test is an independent oracle.
VALID_SIZES = ((256, 512), (256, 2048), (512, 1024), (512, 4096), (1024, 3072), (2048, 4096))
INVALID_SIZES = ((256, 4096), (300, 512), (512, 512), (1024, 1024))
IMAGE_KINDS = ("project", "tag", "ecr-here", "ecr-elsewhere", "docker")
DOCKER_IMAGE = "docker.io/library/nginx:1.27"
LB_NAME_MAX = 32
FIELD = re.compile(r"[A-Za-z_][\w-]*(?:[./][\w-]+)*")
TRACEBACK_TEXT = ("Traceback", 'File "', "Error:", "errors.pydantic.dev", "\n")


@dataclass
class Generated:
    """Env-file overrides plus, for every fault put in on purpose, a message fragment it must
    produce (masked faults may stay silent, but no problem line may be unexplained)."""

    overrides: dict[str, Any]
    faults: dict[str, str] = field(default_factory=dict)


def image_settings(kind: str, region: str) -> dict[str, Any]:
    return {
        "project": {},
        "tag": {"tag": "1.2.3"},
        "ecr-here": {"external": f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/app:1"},
        "ecr-elsewhere": {"external": f"{ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com/app:1"},
        "docker": {"external": DOCKER_IMAGE},
    }[kind]


def egress_needs(
    service: dict[str, Any],
    *,
    region: str,
    nat_mode: str,
    endpoints: dict[str, Any],
    service_connect: bool = False,
) -> dict[str, str]:
    """Oracle for the egress proof: each unmet need -> the start of its gap message.

    A task needs nothing when it has NAT and internet egress; otherwise it needs the endpoint
    of every AWS API it uses, and an image in this region's ECR (endpoints cannot reach
    other registries)."""
    if nat_mode != "none" and service["internet_egress"]:
        return {}
    name = service["name"]
    enabled = endpoints["enabled"]
    interface = set(endpoints["interface"]) | {"ecr.api", "ecr.dkr", "logs"}
    have = {endpoint for endpoint in interface if enabled}
    external = service["image"].get("external")
    in_region_ecr = external is None or f".dkr.ecr.{region}." in external
    needs: dict[str, bool] = {}
    if in_region_ecr:
        needs["pulling its image from ECR"] = enabled
    else:
        needs[f"pulling image {external!r} from outside this region's ECR"] = False
    needs["shipping logs with awslogs"] = "logs" in have
    if service_connect:
        needs["shipping its Service Connect proxy's log"] = "logs" in have
    if service["secrets"]:
        needs["reading SSM parameter secrets"] = "ssm" in have
    if service["enable_execute_command"]:
        needs["ECS Exec sessions"] = "ssmmessages" in have
        needs["ECS Exec session encryption"] = "kms" in have
    return {need: f"services.{name}: {need} needs" for need, met in needs.items() if not met}


@st.composite
def environments(draw: st.DrawFn, *, faults: bool = True, min_services: int = 0) -> Generated:
    """An env file's overrides: mostly valid; with `faults`, sometimes invalid on purpose."""
    found: dict[str, str] = {}

    def fault() -> bool:
        # The simplest draw (0) is the valid choice, so shrinking heads towards valid configs.
        return faults and draw(st.integers(0, 19)) == 19

    region = draw(st.sampled_from(sorted(REGIONS)))
    az_region = region
    if fault():
        az_region = draw(st.sampled_from(sorted(set(REGIONS) - {region})))
    letters = REGIONS[az_region]
    az_count = 1 if fault() else draw(st.integers(2, min(4, len(letters))))
    azs = [
        f"{az_region}{letter}"
        for letter in draw(
            st.lists(st.sampled_from(letters), min_size=az_count, max_size=az_count, unique=True)
        )
    ]
    if len(azs) < 2:
        found["az_count"] = "network.availability_zones: need at least 2 availability zones"
    elif az_region != region:
        found["az_region"] = f"network.availability_zones: {azs!r} not in region {region}"

    bits_per_half = max(1, math.ceil(math.log2(len(azs))))
    largest_prefix = 28 - 1 - bits_per_half
    prefix = draw(st.integers(16, 28 if faults else largest_prefix))
    address = (10 << 24) + draw(st.integers(0, 2**24 - 1))
    network = ipaddress.IPv4Network((address, prefix), strict=False)
    cidr = str(network)
    if fault():
        cidr = f"{network.network_address + 1}/{prefix}"
        found["cidr"] = f"network.vpc_cidr: {cidr!r} is not an IPv4 network"
    elif prefix > largest_prefix:
        found["cidr_small"] = f"network.vpc_cidr: {network} is too small for {2 * len(azs)} subnets"

    nat_mode = draw(st.sampled_from(NAT_MODES))
    if fault():
        nat_mode = draw(st.sampled_from(BAD_NAT_MODES))
        found["nat"] = (
            f"network.nat_mode: Input should be 'none', 'single' or 'per_az' (got {nat_mode!r})"
        )

    endpoints: dict[str, Any] = {
        "enabled": draw(st.booleans()),
        "interface": draw(st.lists(st.sampled_from(ENDPOINTS), unique=True, max_size=4)),
    }
    # Unless egress gaps are wanted, add what private tasks need (as a user fixing the config).
    close_egress_gaps = not faults or draw(st.integers(0, 2)) != 2
    if fault():
        endpoints["interface"] = [*endpoints["interface"], "s3"]
        found["endpoint"] = "endpoints.interface: unknown interface endpoint(s) ['s3']"

    count = draw(st.integers(min_services, 3))
    names = draw(
        st.lists(st.sampled_from(SERVICE_NAMES), min_size=count, max_size=count, unique=True)
    )
    if faults:
        # Often the same few ports, so two services on one ALB sometimes clash.
        some_port = st.one_of(st.sampled_from((80, 3000, 8080)), st.integers(1, 65535))
        ports = draw(st.lists(some_port, min_size=count, max_size=count))
    else:
        ports = draw(st.lists(st.integers(1, 65535), min_size=count, max_size=count, unique=True))
    services: list[dict[str, Any]] = []
    for index, (name, port) in enumerate(zip(names, ports, strict=True)):
        exposure = draw(st.sampled_from(("public", "internal", "service_connect", "none")))
        cpu, memory = draw(st.sampled_from(VALID_SIZES))
        internet_egress = draw(st.integers(0, 4)) != 4
        # Without NAT (or internet egress) only images in this region's ECR can be pulled.
        reachable = nat_mode != "none" and internet_egress
        kinds = IMAGE_KINDS if reachable or not close_egress_gaps else IMAGE_KINDS[:3]
        kind = draw(st.sampled_from(kinds))
        if fault():
            name = f"{draw(st.sampled_from(BAD_SERVICE_NAMES))}{index}"
            found[f"name-{index}"] = f"services.{name}.name: '{name}' is not a valid name"
        if fault():
            port = draw(st.sampled_from((0, 70000)))
            found[f"port-{name}"] = f"services.{name}: container_port must be 1-65535; got {port}"
        if fault():
            cpu, memory = draw(st.sampled_from(INVALID_SIZES))
            found[f"size-{name}"] = f"services.{name}: cpu/memory_mib: cpu={cpu}"
        services.append(
            {
                "name": name,
                "exposure": exposure,
                "container_port": port,
                "cpu": cpu,
                "memory_mib": memory,
                "image": image_settings(kind, region),
                "internet_egress": internet_egress,
                "enable_execute_command": draw(st.booleans()),
                "secrets": (
                    {"DB_PASSWORD": f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/db"}
                    if draw(st.booleans())
                    else {}
                ),
                "path_patterns": (
                    [f"/{name}/*"]
                    if exposure in ("public", "internal") and (index or draw(st.booleans()))
                    else []
                ),
            }
        )
    names = [service["name"] for service in services]
    for service in services:
        if service["exposure"] in ("internal", "service_connect"):
            others = [n for n in names if n != service["name"] and n in SERVICE_NAMES]
            service["allowed_callers"] = (
                draw(st.lists(st.sampled_from(others), unique=True)) if others else []
            )
    for exposure in ("public", "internal"):
        ports = [s["container_port"] for s in services if s["exposure"] == exposure]
        for port in {p for p in ports if ports.count(p) > 1}:
            found[f"dup-{exposure}-{port}"] = (
                f"all use container_port {port} behind the {exposure} ALB"
            )

    connected = {s["name"] for s in services if s["exposure"] == "service_connect"}
    connected |= {
        caller
        for s in services
        if s["exposure"] == "service_connect"
        for caller in s.get("allowed_callers", ())
    }
    if close_egress_gaps:
        for service in services:
            for need in egress_needs(
                service,
                region=region,
                nat_mode=nat_mode,
                endpoints=endpoints,
                service_connect=service["name"] in connected,
            ):
                endpoints["enabled"] = True
                extra = {
                    "reading SSM parameter secrets": "ssm",
                    "ECS Exec sessions": "ssmmessages",
                    "ECS Exec session encryption": "kms",
                }
                if need in extra and extra[need] not in endpoints["interface"]:
                    endpoints["interface"].append(extra[need])
    for service in services:
        gaps = egress_needs(
            service,
            region=region,
            nat_mode=nat_mode,
            endpoints=endpoints,
            service_connect=service["name"] in connected,
        )
        found.update({fragment: fragment for fragment in gaps.values()})

    overrides = {
        "name": "gen",
        "region": region,
        "network": {"vpc_cidr": cidr, "availability_zones": azs, "nat_mode": nat_mode},
        "endpoints": endpoints,
        "services": {service.pop("name"): service for service in services},
    }
    if any(s["exposure"] == "service_connect" for s in overrides["services"].values()):
        overrides["service_connect"] = {}
    return Generated(overrides, found)


def build(overrides: dict[str, Any]) -> EnvironmentConfig:
    return build_environment(overrides, base=GENERATED_BASE, source=SOURCE)


def assert_clear_problems(error: ConfigError, faults: dict[str, str]) -> None:
    """One line per problem: `<source>: <field>: <message>`, each explained by a fault."""
    assert error.problems
    assert error.render().startswith(f"configuration rejected ({len(error.problems)} problem")
    for line in error.problems:
        assert line.startswith(f"{SOURCE}: "), line
        location, separator, message = line.removeprefix(f"{SOURCE}: ").partition(": ")
        assert separator and message.strip(), line
        assert FIELD.fullmatch(location), f"{location!r} is not a field path: {line}"
        assert not any(text in line for text in TRACEBACK_TEXT), line
        assert any(fragment in line for fragment in faults.values()), (
            f"unexplained problem: {line}\nfaults put in: {sorted(faults.values())}"
        )


def assert_config_invariants(env: EnvironmentConfig) -> None:
    """What a valid config guarantees, checked without the provider."""
    network = env.network
    vpc, azs = network.vpc_cidr, network.availability_zones
    assert len(azs) >= 2 and all(re.fullmatch(re.escape(env.region) + "[a-z]", az) for az in azs)

    plan = network.subnets
    assert len(plan.public) == len(plan.private) == len(azs)
    subnets = [*plan.public, *plan.private]
    assert len({subnet.prefixlen for subnet in subnets}) == 1
    assert subnets[0].prefixlen <= 28
    public_half, private_half = vpc.subnets(prefixlen_diff=1)
    assert all(subnet.subnet_of(public_half) for subnet in plan.public)
    assert all(subnet.subnet_of(private_half) for subnet in plan.private)
    for index, subnet in enumerate(subnets):
        assert not any(subnet.overlaps(other) for other in subnets[index + 1 :]), subnets

    endpoints = set(env.endpoints.interface_services)
    for service in env.services:
        if network.nat_mode is not NatMode.NONE and service.internet_egress:
            continue
        # Egress proof: every private task reaches all it needs through VPC endpoints.
        assert service.image.registry_region() in ("project", env.region), service.name
        assert env.endpoints.s3_gateway
        assert {InterfaceEndpoint.ECR_API, InterfaceEndpoint.ECR_DKR, InterfaceEndpoint.LOGS} <= (
            endpoints
        )
        if service.secrets:
            assert InterfaceEndpoint.SSM in endpoints, service.name
        if service.enable_execute_command:
            assert InterfaceEndpoint.SSMMESSAGES in endpoints, service.name

    names = [service.name for service in env.services]
    assert len(set(names)) == len(names)
    for exposure in (Exposure.PUBLIC, Exposure.INTERNAL):
        assert len(env.alb_name(exposure)) <= LB_NAME_MAX
        ports = [service.container_port for service in env.services_behind(exposure)]
        assert len(set(ports)) == len(ports)
    by_name = {service.name: service for service in env.services}
    for service in env.services:
        assert 1 <= service.container_port <= 65535
        if service.exposure.behind_alb:
            assert len(env.target_group_name(service.name)) <= LB_NAME_MAX
        jobs = {job.name for job in env.jobs}
        for caller in service.allowed_callers:
            assert caller in by_name.keys() | jobs and caller != service.name
            assert service.exposure in (Exposure.INTERNAL, Exposure.SERVICE_CONNECT)
            # Jobs cannot be Service Connect clients (RunTask has no Service Connect).
            assert service.exposure is Exposure.INTERNAL or caller in by_name
        if service.exposure is Exposure.SERVICE_CONNECT:
            assert env.service_connect is not None, service.name


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(environments())
def test_config_is_rejected_clearly_or_valid(generated: Generated) -> None:
    try:
        env = build(generated.overrides)
    except ConfigError as error:
        assert generated.faults, f"a valid config was rejected:\n{error.render()}"
        assert_clear_problems(error, generated.faults)
        return
    assert not generated.faults, f"accepted despite {sorted(generated.faults.values())}"
    assert_config_invariants(env)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(environments(faults=False))
def test_valid_by_construction_is_accepted_with_invariants(generated: Generated) -> None:
    assert not generated.faults
    assert_config_invariants(build(generated.overrides))


# -- Synthesized invariants: a few generated valid configs, one App, one synth. --

PER_NAT_MODE = 3  # 9 stacks in one App


def valid_samples(per_mode: int) -> list[Generated]:
    """Deterministic valid configs with services: for each NAT mode, the `per_mode` richest of
    a derandomized draw (more services and exposures first), each of a different shape."""
    collected: list[Generated] = []

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(environments(faults=False, min_services=1))
    def collect(generated: Generated) -> None:
        collected.append(generated)

    collect()
    chosen: list[Generated] = []
    for mode in NAT_MODES:
        shapes: set[tuple[Any, ...]] = set()
        for generated in sorted(collected, key=richness, reverse=True):
            if generated.overrides["network"]["nat_mode"] != mode:
                continue
            if len(shapes) < per_mode and shape(generated) not in shapes:
                shapes.add(shape(generated))
                chosen.append(generated)
    return chosen


def shape(generated: Generated) -> tuple[Any, ...]:
    services = generated.overrides["services"].values()
    azs = generated.overrides["network"]["availability_zones"]
    return (len(azs), tuple(sorted(service["exposure"] for service in services)))


def richness(generated: Generated) -> int:
    services = generated.overrides["services"].values()
    return len(services) + len({service["exposure"] for service in services})


@pytest.fixture(scope="module")
def generated_stacks(
    tmp_path_factory: pytest.TempPathFactory,
) -> list[tuple[EnvironmentConfig, Json]]:
    """Each sample under its own name and /16, synthesized together; (config, stack JSON)."""
    from cdktf import App

    from stacks.platform import PlatformStack

    envs = []
    for index, generated in enumerate(valid_samples(PER_NAT_MODE)):
        overrides = json.loads(json.dumps(generated.overrides))
        prefix = ipaddress.IPv4Network(overrides["network"]["vpc_cidr"]).prefixlen
        overrides["name"] = f"gen{index}"
        overrides["network"]["vpc_cidr"] = f"10.{200 + index}.0.0/{prefix}"
        envs.append(build(overrides))
    outdir = tmp_path_factory.mktemp("generated.out")
    app = App(outdir=str(outdir))
    for env in envs:
        PlatformStack(app, env)
    app.synth()
    return [
        (env, json.loads((Path(outdir) / "stacks" / env.name / "cdk.tf.json").read_text()))
        for env in envs
    ]


def test_samples_cover_every_nat_mode_and_exposure(
    generated_stacks: list[tuple[EnvironmentConfig, Json]],
) -> None:
    envs = [env for env, _ in generated_stacks]
    assert len(envs) == PER_NAT_MODE * len(NAT_MODES)
    assert {env.network.nat_mode for env in envs} == set(NatMode)
    exposures = {service.exposure for env in envs for service in env.services}
    assert exposures == set(Exposure)
    assert {len(env.network.availability_zones) for env in envs} != {2}


def default_routes(stack: Json, subnet: str) -> list[Json]:
    """The 0.0.0.0/0 routes of the route table a subnet is associated with."""
    (association,) = where(
        stack, "aws_route_table_association", subnet_id=ref("aws_subnet", subnet)
    ).values()
    return [
        route
        for route in where(stack, "aws_route", destination_cidr_block="0.0.0.0/0").values()
        if route["route_table_id"] == association["route_table_id"]
    ]


def test_private_subnets_route_as_their_nat_mode_says(
    generated_stacks: list[tuple[EnvironmentConfig, Json]],
) -> None:
    for env, stack in generated_stacks:
        azs = env.network.availability_zones
        subnets = resources(stack, "aws_subnet")
        by_tier_az = {(s["tags"]["Tier"], s["availability_zone"]): n for n, s in subnets.items()}
        assert len(subnets) == len(by_tier_az) == 2 * len(azs)
        plan = env.network.subnets
        for tier, cidrs in (("public", plan.public), ("private", plan.private)):
            for az, cidr in zip(azs, cidrs, strict=True):
                assert subnets[by_tier_az[tier, az]]["cidr_block"] == str(cidr), env.name
        nats = resources(stack, "aws_nat_gateway")
        nat_az = {
            ref("aws_nat_gateway", name): subnets[body["subnet_id"].split(".")[1]]
            for name, body in nats.items()
        }
        assert all(subnet["tags"]["Tier"] == "public" for subnet in nat_az.values())
        targets = {
            az: [
                route.get("nat_gateway_id")
                for route in default_routes(stack, by_tier_az["private", az])
            ]
            for az in azs
        }
        mode = env.network.nat_mode
        if mode is NatMode.NONE:
            assert nats == {} and resources(stack, "aws_eip") == {}, env.name
            assert all(found == [] for found in targets.values()), (env.name, targets)
        elif mode is NatMode.SINGLE:
            ((nat, subnet),) = nat_az.items()
            assert subnet["availability_zone"] == azs[0]
            assert all(found == [nat] for found in targets.values()), (env.name, targets)
        else:
            assert len(nats) == len(azs), env.name
            for az, found in targets.items():
                assert len(found) == 1 and found[0] in nat_az, (env.name, az, found)
                assert nat_az[found[0]]["availability_zone"] == az, (env.name, az)
        for az in azs:
            (route,) = default_routes(stack, by_tier_az["public", az])
            assert route["gateway_id"].startswith("${aws_internet_gateway."), env.name


def test_service_ingress_comes_only_from_its_alb_or_declared_callers_on_the_container_port(
    generated_stacks: list[tuple[EnvironmentConfig, Json]],
) -> None:
    """Tasks are reachable only from their load balancer, or (Service Connect, no ALB in
    between) from the tasks of their declared callers; always on the container port only."""
    for env, stack in generated_stacks:
        prefix = env.resource_prefix
        ingress, egress = rule_set(stack, "ingress"), rule_set(stack, "egress")
        for service in env.services:
            group = f"{prefix}-{service.name}-tasks"
            found = {(peer, port) for g, peer, port in ingress if g == group}
            if service.exposure.behind_alb:
                expected = {(f"{prefix}-{service.exposure}-alb", service.container_port)}
            elif service.exposure is Exposure.SERVICE_CONNECT:
                expected = {
                    (f"{prefix}-{caller}-tasks", service.container_port)
                    for caller in service.allowed_callers
                }
            else:
                expected = set()
            assert found == expected, (env.name, service.name)
            internet = {
                (peer, port) for g, peer, port in egress if g == group and peer == "0.0.0.0/0"
            }
            nat = env.network.nat_mode is not NatMode.NONE
            allowed = {("0.0.0.0/0", 443)} if nat and service.internet_egress else set()
            assert internet == allowed, (env.name, service.name)
