"""`python -m ops diagram` on the session synth: the graph model against the JSON, and output."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from envs import DEFAULT_ENVIRONMENTS, load_environments
from ops import diagram
from ops.__main__ import main
from ops.diagram import Graph, Node
from ops.synth_reader import load_stack
from tests.constants import ROOT
from tests.variants import EXAMPLE, VARIANTS

SAFE_ID = re.compile(r"[A-Za-z0-9_]+")


@pytest.fixture(scope="module")
def graphs(synth_outdir: Path) -> dict[str, Graph]:
    names = (
        EXAMPLE,
        *DEFAULT_ENVIRONMENTS,
        "nat-none",
        "nat-per-az",
        "https-shop",
        "no-endpoints",
        "domain-shared",
        "dns-external",
        "rollouts",
        "connect",
    )
    return {
        name: diagram.build_graph(load_stack(synth_outdir, name)) for name in dict.fromkeys(names)
    }


def resources(document: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return list(document["resource"].get(resource_type, {}).values())


def only(graph: Graph, kind: str) -> Node:
    (node,) = graph.of_kind(kind)
    return node


def label(graph: Graph, source: str, target: str) -> str:
    (edge,) = graph.edges_between(source, target)
    return edge.label


def callers(graph: Graph, target: str) -> set[str]:
    return {
        graph.nodes[e.source].label.splitlines()[0]
        for e in graph.edges
        if e.target == target and graph.nodes[e.source].kind in {"service", "job"}
    }


# --------------------------------------------------------------------------- request path


def test_dev_request_path(graphs: dict[str, Graph]) -> None:
    graph = graphs[EXAMPLE]
    public, internal = only(graph, "public_alb"), only(graph, "internal_alb")
    frontend, backend = graph.find("service", "frontend"), graph.find("service", "backend")
    assert label(graph, "internet", public.id) == "80"
    assert label(graph, public.id, frontend.id) == "3000"
    assert label(graph, frontend.id, internal.id) == "80"
    assert label(graph, internal.id, backend.id) == "8080"
    assert not graph.edges_between(backend.id, internal.id)
    assert not graph.edges_between(public.id, backend.id)
    assert public.label.splitlines()[1] == "fargate-example-public"


def test_https_shop_listeners_rules_and_callers(graphs: dict[str, Graph]) -> None:
    graph = graphs["https-shop"]
    public, internal = only(graph, "public_alb"), only(graph, "internal_alb")
    admin = graph.find("service", "admin")
    assert label(graph, "internet", public.id) == "80→443, 443 HTTPS Cognito"
    assert label(graph, public.id, graph.find("service", "frontend").id) == "3000"
    assert label(graph, public.id, admin.id) == "3001 /admin/*"
    assert "ARM64" in admin.label
    assert label(graph, internal.id, graph.find("service", "backend").id) == "8080"
    # Two services and a job call the internal ALB's services.
    assert callers(graph, internal.id) == {"frontend", "admin", "job admin-report"}
    assert {
        e.label
        for e in graph.edges
        if e.target == internal.id and graph.nodes[e.source].kind in {"service", "job"}
    } == {"443"}
    assert "listeners: 80→443, 443 HTTPS" in internal.label


def test_albs_show_the_host_names_that_reach_them(graphs: dict[str, Graph]) -> None:
    graph = graphs["domain-shared"]
    public, internal = only(graph, "public_alb"), only(graph, "internal_alb")
    assert public.label.splitlines()[-1] == (
        "hosts: admin.shop.example.org, shop.example.org, www.shop.example.org"
    )
    assert internal.label.splitlines()[-1] == "hosts: backend.internal.shop.example.org"
    assert label(graph, public.id, graph.find("service", "admin").id) == (
        "3001 admin.shop.example.org"
    )
    # DNS outside Route 53: the hosts come from the dns_target output.
    external = only(graphs["dns-external"], "public_alb")
    assert external.label.splitlines()[-1] == "hosts: app.corp.example.net"
    assert "hosts" not in only(graphs[EXAMPLE], "public_alb").label


def test_callers_come_from_security_group_rules(
    graphs: dict[str, Graph], synthesized: dict[str, dict[str, Any]]
) -> None:
    rules = resources(synthesized["https-shop"], "aws_vpc_security_group_ingress_rule")
    into_internal = {
        rule["description"].split()[0]
        for rule in rules
        if "internal-alb_sg" in rule["security_group_id"] and "referenced_security_group_id" in rule
    }
    graph = graphs["https-shop"]
    found = {name.removeprefix("job ") for name in callers(graph, only(graph, "internal_alb").id)}
    assert found == into_internal


def test_service_connect_callers_reach_the_service_directly(graphs: dict[str, Graph]) -> None:
    graph = graphs["connect"]
    backend = graph.find("service", "backend")
    assert callers(graph, backend.id) == {"frontend", "worker"}
    assert label(graph, graph.find("service", "frontend").id, backend.id) == "8080"
    assert not [n for n in graph.nodes.values() if n.kind == "internal_alb"]


def test_service_without_load_balancer_has_no_inbound_traffic(graphs: dict[str, Graph]) -> None:
    graph = graphs["https-shop"]
    worker = graph.find("service", "worker")
    inbound = [e for e in graph.edges if e.target == worker.id]
    assert inbound == []
    (image,) = [e for e in graph.edges if e.source == worker.id and e.label == "image"]
    assert graph.nodes[image.target].kind == "image"
    assert graph.nodes[image.target].label == "external image\ndocker.io/library/busybox:1.36"


# --------------------------------------------------------------------------- network


@pytest.mark.invariant
@pytest.mark.parametrize("env", (*DEFAULT_ENVIRONMENTS, EXAMPLE))
def test_subnets_per_az_with_cidrs(
    graphs: dict[str, Graph], synthesized: dict[str, dict[str, Any]], env: str
) -> None:
    graph = graphs[env]
    subnets = resources(synthesized[env], "aws_subnet")
    assert len(graph.of_kind("subnet")) == len(subnets)
    for subnet in subnets:
        az, tier = subnet["availability_zone"], subnet["tags"]["Tier"]
        (node,) = [
            n
            for n in graph.of_kind("subnet")
            if n.label == f"{tier} subnet\n{subnet['cidr_block']}"
        ]
        assert node.group is not None
        assert graph.groups[node.group].label == az
        row = graph.groups[graph.groups[node.group].parent or ""]
        assert row.label.startswith(f"{tier} subnets")
        assert graph.groups[row.parent or ""].label.startswith("VPC ")


def _row(graph: Graph, node: Node) -> str:
    """The tier row a node is drawn in (its own group, or its AZ box's parent)."""
    group = graph.groups[node.group or ""]
    if node.kind in {"subnet", "nat"}:
        group = graph.groups[group.parent or ""]
    return group.label.split(":")[0]


@pytest.mark.invariant
@pytest.mark.parametrize("env", (*DEFAULT_ENVIRONMENTS, EXAMPLE, "https-shop", "nat-none"))
def test_albs_and_tasks_sit_in_the_row_of_their_subnets(
    graphs: dict[str, Graph], synthesized: dict[str, dict[str, Any]], env: str
) -> None:
    graph, document = graphs[env], synthesized[env]
    subnets = document["resource"]["aws_subnet"]

    def tier_of(references: list[str]) -> str:
        (tiers,) = {subnets[r.split(".")[1]]["tags"]["Tier"] for r in references}
        return f"{tiers} subnets"

    for lb in resources(document, "aws_lb"):
        node = only(graph, "internal_alb" if lb["internal"] else "public_alb")
        assert _row(graph, node) == tier_of(lb["subnets"])
    services = resources(document, "aws_ecs_service")
    assert {_row(graph, n) for n in graph.of_kind("service")} == {
        tier_of(s["network_configuration"]["subnets"]) for s in services
    }
    for nat in graph.of_kind("nat"):
        assert _row(graph, nat) == "public subnets"


@pytest.mark.invariant
@pytest.mark.parametrize("env", (*DEFAULT_ENVIRONMENTS, EXAMPLE, "nat-none"))
def test_layout_reads_top_down_internet_public_private(graphs: dict[str, Graph], env: str) -> None:
    """Every hint points down the tiers: internet above WAF and the public row, each public
    subnet above the private subnet of its AZ, each row's subnet above the row's ALBs/tasks."""
    graph = graphs[env]
    order = {"internet": 0, "waf": 1, "public subnets": 1, "private subnets": 2}

    def level(node_id: str) -> int:
        node = graph.nodes[node_id]
        if node.kind in {"internet", "waf"}:
            return order[node.kind]
        if node.group == "grp_aws":
            return 3
        return order[_row(graph, node)]

    assert graph.above, "no layout hints"
    for upper, lower in graph.above:
        assert level(upper) <= level(lower), (upper, lower)
        if graph.nodes[upper].kind == graph.nodes[lower].kind == "subnet":
            assert _az_of(graph, graph.nodes[upper]) == _az_of(graph, graph.nodes[lower])
    private = [n.id for n in graph.of_kind("subnet") if n.label.startswith("private")]
    public = [n.id for n in graph.of_kind("subnet") if n.label.startswith("public")]
    assert all(("internet", p) in graph.above for p in public)
    assert all(any((p, q) in graph.above for p in public) for q in private)
    for kind in ("service", "job", "internal_alb"):
        for node in graph.of_kind(kind):
            assert any((p, node.id) in graph.above for p in private), node.id


def _az_of(graph: Graph, node: Node) -> str:
    assert node.group is not None
    return graph.groups[node.group].label


def test_single_nat_serves_every_private_subnet(graphs: dict[str, Graph]) -> None:
    graph = graphs[EXAMPLE]
    nat = only(graph, "nat")
    assert _az_of(graph, nat) == "ap-northeast-1a"
    assert label(graph, nat.id, "internet") == "egress"
    private = [n for n in graph.of_kind("subnet") if n.label.startswith("private")]
    assert {label(graph, n.id, nat.id) for n in private} == {"0.0.0.0/0"}
    public = [n for n in graph.of_kind("subnet") if n.label.startswith("public")]
    assert all(not graph.edges_between(n.id, nat.id) for n in public)


def test_per_az_nat_routes_each_az_to_its_own_nat(
    graphs: dict[str, Graph], synthesized: dict[str, dict[str, Any]]
) -> None:
    graph, document = graphs["nat-per-az"], synthesized["nat-per-az"]
    nats = graph.of_kind("nat")
    zones = {subnet["availability_zone"] for subnet in resources(document, "aws_subnet")}
    assert len(zones) > 1
    assert len(nats) == len(resources(document, "aws_nat_gateway")) == len(zones)
    assert {_az_of(graph, nat) for nat in nats} == zones
    for subnet in (n for n in graph.of_kind("subnet") if n.label.startswith("private")):
        (route,) = [
            e
            for e in graph.edges
            if e.source == subnet.id
            and e.kind == diagram.ROUTE
            and graph.nodes[e.target].kind == "nat"
        ]
        assert _az_of(graph, graph.nodes[route.target]) == _az_of(graph, subnet)


def test_nat_none_has_no_nat(graphs: dict[str, Graph]) -> None:
    graph = graphs["nat-none"]
    assert graph.of_kind("nat") == []
    assert not graph.edges_between("internet", "internet")
    assert [e for e in graph.edges if e.target == "internet"] == []
    assert "ssmmessages" in only(graph, "endpoints").label


@pytest.mark.invariant
@pytest.mark.parametrize("env", (*DEFAULT_ENVIRONMENTS, EXAMPLE, "https-shop"))
def test_endpoints_list_interface_services_and_s3_gateway(
    graphs: dict[str, Graph], synthesized: dict[str, dict[str, Any]], env: str
) -> None:
    endpoints = resources(synthesized[env], "aws_vpc_endpoint")
    interface = sorted(
        e["service_name"].split(".", 3)[3]
        for e in endpoints
        if e["vpc_endpoint_type"] == "Interface"
    )
    gateways = [e for e in endpoints if e["vpc_endpoint_type"] == "Gateway"]
    assert len(graphs[env].of_kind("gateway_endpoint")) == len(gateways)
    if not interface:  # an environment may have none: then none is drawn
        assert graphs[env].of_kind("endpoints") == []
        return
    assert env != EXAMPLE or gateways, "the example has an S3 gateway: the label check must run"
    node = only(graphs[env], "endpoints")
    assert node.label.splitlines()[1] == ", ".join(interface)
    if gateways:
        assert only(graphs[env], "gateway_endpoint").label == "s3 gateway endpoint"
    granted = callers(graphs[env], node.id)
    services = {s.label.splitlines()[0] for s in graphs[env].of_kind("service")}
    assert services <= granted


def test_no_endpoints_env_draws_none(graphs: dict[str, Graph]) -> None:
    graph = graphs["no-endpoints"]
    assert graph.of_kind("endpoints") == []
    assert graph.of_kind("gateway_endpoint") == []


# --------------------------------------------------------------------------- dependencies


@pytest.mark.invariant
@pytest.mark.parametrize("env", (*DEFAULT_ENVIRONMENTS, EXAMPLE, "https-shop"))
def test_images_and_log_groups(
    graphs: dict[str, Graph], synthesized: dict[str, dict[str, Any]], env: str
) -> None:
    graph, document = graphs[env], synthesized[env]
    config = {e.name: e for e in (*load_environments(), *VARIANTS.values())}[env]
    prefix = config.resource_prefix
    repos = {r["name"] for r in resources(document, "aws_ecr_repository")}
    groups = {g["name"] for g in resources(document, "aws_cloudwatch_log_group")}
    services = {
        s["name"].removeprefix(f"{prefix}-") for s in resources(document, "aws_ecs_service")
    }
    assert {s.label.splitlines()[0] for s in graph.of_kind("service")} == services
    for service in graph.of_kind("service"):
        name = service.label.splitlines()[0]
        targets = {e.label: graph.nodes[e.target] for e in graph.edges if e.source == service.id}
        logs = targets["logs"].label.splitlines()[0]
        assert logs == f"logs /ecs/{prefix}/{name}"
        assert logs.removeprefix("logs ") in groups
        if targets["image"].kind == "ecr":
            # A service may run another service's image (same_image_as): its owner's repository.
            owner = config.image_owner(next(s for s in config.services if s.name == name)).name
            assert targets["image"].label == f"ECR {prefix}/{owner}"
            assert f"{prefix}/{owner}" in repos


@pytest.mark.invariant
@pytest.mark.parametrize("env", (*DEFAULT_ENVIRONMENTS, EXAMPLE))
def test_jobs_and_schedules_when_synthesized(
    graphs: dict[str, Graph], synthesized: dict[str, dict[str, Any]], env: str
) -> None:
    graph, dev = graphs[env], synthesized[env]
    service_tasks = {s["task_definition"] for s in resources(dev, "aws_ecs_service")}
    definitions = dev["resource"]["aws_ecs_task_definition"]
    jobs = [n for n in definitions if f"${{aws_ecs_task_definition.{n}.arn}}" not in service_tasks]
    assert len(graph.of_kind("job")) == len(jobs)
    schedules = resources(dev, "aws_scheduler_schedule")
    assert len(graph.of_kind("schedule")) == len(schedules)
    for node in graph.of_kind("schedule"):
        (run,) = [e for e in graph.edges if e.source == node.id]
        assert run.label == "runs"
        assert graph.nodes[run.target].kind == "job"


# --------------------------------------------------------------------------- rendering


def parse_mermaid(text: str) -> tuple[set[str], set[str], list[tuple[str, str]]]:
    """Minimal Mermaid flowchart parse: (node ids, subgraph ids, edges)."""
    lines = [line.strip() for line in text.strip().splitlines()]
    assert lines[0] == "flowchart TB"
    nodes: set[str] = set()
    subgraphs: set[str] = set()
    edges: list[tuple[str, str]] = []
    depth = 0
    for line in lines[1:]:
        if line == "end":
            depth -= 1
            assert depth >= 0
        elif match := re.fullmatch(r'subgraph (\S+)\["[^"]*"\]', line):
            subgraphs.add(match[1])
            depth += 1
        elif match := re.fullmatch(r'(\S+) (-->|-\.->|-\.-)(?:\|"[^"]*"\|)? (\S+)', line):
            edges.append((match[1], match[3]) if match[2] != "-.-" else (match[3], match[1]))
        elif re.fullmatch(r"\S+ ~~~ \S+", line):
            continue  # layout hint, not an edge
        elif match := re.fullmatch(
            r'([A-Za-z0-9_]+)(\(\(|\{\{|\(\[|\[\[|\[\(|\[/|\[)"[^"]*"[\])}/]+', line
        ):
            nodes.add(match[1])
        else:
            raise AssertionError(f"unparsed Mermaid line: {line!r}")
    assert depth == 0
    return nodes, subgraphs, edges


@pytest.mark.invariant
@pytest.mark.parametrize(
    "env", (*DEFAULT_ENVIRONMENTS, EXAMPLE, "nat-none", "https-shop", "no-endpoints")
)
def test_mermaid_parses_and_edges_reference_declared_nodes(
    graphs: dict[str, Graph], env: str
) -> None:
    nodes, subgraphs, edges = parse_mermaid(diagram.render_mermaid(graphs[env]))
    assert nodes == set(graphs[env].nodes)
    assert all(SAFE_ID.fullmatch(i) for i in nodes | subgraphs)
    assert not nodes & subgraphs
    assert edges and all(a in nodes and b in nodes for a, b in edges)
    assert sorted(edges) == sorted((e.source, e.target) for e in graphs[env].edges)


def test_mermaid_escapes_labels() -> None:
    graph = Graph("t")
    a = graph.node("a-1", 'say "hi"\nthere', "service")
    b = graph.node("9b", "b", "service")
    graph.edge(a, b, 'x "y"')
    text = diagram.render_mermaid(graph)
    assert (a, b) == ("a_1", "n_9b")
    assert 'a_1["say #quot;hi#quot;<br/>there"]' in text
    assert 'a_1 -->|"x #quot;y#quot;"| n_9b' in text


def test_dot_declares_every_edge_endpoint(graphs: dict[str, Graph]) -> None:
    text = diagram.render_dot(graphs["https-shop"])
    assert text.startswith('digraph "https-shop (ap-northeast-1)" {')
    assert text.count("{") == text.count("}")
    declared = set(re.findall(r"^\s*([A-Za-z0-9_]+) \[label=", text, re.M))
    for source, target in re.findall(r"^\s*(\S+) -> (\S+) \[", text, re.M):
        assert source in declared and target in declared


# --------------------------------------------------------------------------- CLI


def test_writes_markdown_per_env_without_dot(
    synth_outdir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    out = tmp_path / "diagrams"
    argv = ["diagram", "--env", EXAMPLE, "nat-none", "--outdir", str(synth_outdir)]
    assert main([*argv, "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [f"{EXAMPLE}.md", "nat-none.md"]
    text = (out / f"{EXAMPLE}.md").read_text()
    assert text.startswith(f"# {EXAMPLE} (ap-northeast-1) topology\n")
    fence = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert fence == diagram.render_mermaid(diagram.build_graph(load_stack(synth_outdir, EXAMPLE)))
    captured = capsys.readouterr()
    assert "Graphviz `dot` not on PATH" in captured.err
    assert f"wrote {out / f'{EXAMPLE}.md'}" in captured.out


def test_renders_svg_with_dot(
    synth_outdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text(
        '#!/bin/sh\nPATH=/usr/bin:/bin\ncat > "$(dirname "$0")/input.dot"\n'
        'echo "<svg $1 $2/>" > "$3"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    out = tmp_path / "diagrams"
    argv = ["diagram", "--env", EXAMPLE, "--outdir", str(synth_outdir), "--out", str(out)]
    assert main(argv) == 0
    assert (out / f"{EXAMPLE}.svg").read_text() == "<svg -Tsvg -o/>\n"
    graph = diagram.build_graph(load_stack(synth_outdir, EXAMPLE))
    assert (bin_dir / "input.dot").read_text() == diagram.render_dot(graph)


def test_dot_failure_is_reported(
    synth_outdir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dot").write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 1\n")
    (bin_dir / "dot").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    args = ["diagram", "--env", EXAMPLE, "--outdir", str(synth_outdir), "--out", str(tmp_path)]
    assert main(args) == diagram.EXIT_DOT_FAILED
    assert f"dot failed for {EXAMPLE}.svg: syntax error in line 1" in capsys.readouterr().err
    assert (tmp_path / f"{EXAMPLE}.md").is_file()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")
def test_real_graphviz_accepts_the_dot(graphs: dict[str, Graph], tmp_path: Path) -> None:
    path = tmp_path / "nat-per-az.svg"
    assert diagram.write_svg(str(shutil.which("dot")), graphs["nat-per-az"], path)
    assert "<svg" in path.read_text()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ops", "diagram", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_missing_outdir_is_a_clean_error(tmp_path: Path) -> None:
    result = _cli("--outdir", "/nonexistent", "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("error: no synthesized stacks in /nonexistent")
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_env_is_a_clean_error(synth_outdir: Path, tmp_path: Path) -> None:
    result = _cli("--env", "no-such-env", "--outdir", str(synth_outdir), "--out", str(tmp_path))
    assert result.returncode == 2
    assert "error: no stack 'no-such-env'" in result.stderr and "Traceback" not in result.stderr


def test_alarm_topic_and_deployment_strategy_are_drawn(graphs: dict[str, Graph]) -> None:
    graph = graphs["rollouts"]
    topic = only(graph, "topic")
    assert topic.label.splitlines()[0] == "SNS fargate-rollouts-alarms"
    assert topic.label.endswith("2 subscriptions")
    strategies = {node.id: node.label.splitlines()[-1] for node in graph.of_kind("service")}
    assert strategies == {
        "svc_frontend": "deploys blue_green, rollback on 2 alarms",
        "svc_backend": "deploys linear, rollback on 2 alarms",
        "svc_api": "deploys canary, rollback on 2 alarms",
        "svc_worker": "deploys rolling, rollback on 1 alarms",
    }
    notifying = {graph.nodes[e.source].id for e in graph.edges if e.target == topic.id}
    assert notifying == {
        "svc_frontend",
        "svc_backend",
        "svc_api",
        "svc_worker",
        "job_sync",
        "job_weekly",
        "job_nightly_report",
    }  # migrate: failed_runs is off and it has no schedule, so nothing of it alarms
    # The alternate target group is not a second route: one public ALB edge to frontend.
    public = only(graph, "public_alb")
    assert len([e for e in graph.edges if (e.source, e.target) == (public.id, "svc_frontend")]) == 1


MMDC = shutil.which("mmdc")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


MERMAID_BLOCKS = [
    (page.relative_to(ROOT), index)
    for page in (*sorted((ROOT / "docs" / "diagrams").glob("*.md")), ROOT / "README.md")
    for index in range(page.read_text().count("```mermaid\n"))
]


def mermaid_fence(page: Path, index: int) -> str:
    return (ROOT / page).read_text().split("```mermaid\n")[index + 1].split("```", 1)[0]


@pytest.fixture(scope="module")
def rendered_mermaid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Every committed Mermaid block drawn by one mmdc run (one Chromium start, not one per
    block): mmdc renders a Markdown input's ```mermaid blocks in order to out-1.svg,
    out-2.svg, ... The directory, and mmdc's stderr when it failed (it exits non-zero on a
    parse error), else ""."""
    workdir = tmp_path_factory.mktemp("mermaid")
    (workdir / "in.md").write_text(
        "".join(
            f"# {page}#{index}\n\n```mermaid\n{mermaid_fence(page, index)}```\n\n"
            for page, index in MERMAID_BLOCKS
        )
    )
    config = workdir / "puppeteer.json"
    config.write_text(f'{{"executablePath": "{CHROMIUM}", "args": ["--no-sandbox"]}}')
    command = [str(MMDC), "-p", str(config), "-i", "in.md", "-o", "out.md", "-q"]
    result = subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, timeout=300, check=False
    )
    return workdir, "" if result.returncode == 0 else result.stderr[-2000:] or "mmdc failed"


@pytest.mark.skipif(
    MMDC is None or CHROMIUM is None,
    reason="mermaid-cli (npm @mermaid-js/mermaid-cli) and chromium not installed",
)
@pytest.mark.parametrize(
    ("page", "index"),
    [pytest.param(page, index, id=f"{page}#{index}") for page, index in MERMAID_BLOCKS],
)
def test_committed_diagrams_render_with_mermaid_cli(
    page: Path, index: int, rendered_mermaid: tuple[Path, str]
) -> None:
    """A real renderer draws each committed diagram and each Mermaid block of the README."""
    workdir, failure = rendered_mermaid
    assert not failure, failure
    svg = (workdir / f"out-{MERMAID_BLOCKS.index((page, index)) + 1}.svg").read_text()
    assert "Syntax error" not in svg and "<svg" in svg
    assert "Internet" in svg or "internet" in svg
