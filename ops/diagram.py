"""Draw each environment's real topology from its synthesized stack.

    python -m ops diagram                   # every environment -> docs/diagrams/<env>.md
    python -m ops diagram --env dev --out /tmp/diagrams

Reads `cdktf.out/stacks/<env>/cdk.tf.json` and builds a graph: internet -> public ALB (listener
ports) -> services (container ports, via listener default actions and rules) -> internal ALB ->
services; which services may call an ALB (security-group ingress rules naming the caller's task
security group); subnets per AZ with their CIDRs, NAT gateways and the private subnets routed
through them; VPC endpoints (interface list, gateway endpoints); each service's image (ECR
repository or external) and log group; scheduled jobs. Writes a Mermaid flowchart per
environment to `<out>/<env>.md`, and `<out>/<env>.svg` when Graphviz's `dot` is on PATH.

Exit status: 0 success; 1 `dot` failed; 2 bad input (no cdktf.out, unknown env).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ops.synth_reader import (
    PROJECT_ROOT,
    Ref,
    Resource,
    Stack,
    SynthError,
    add_stack_arguments,
    container_definitions,
    endpoint_service,
    load_stacks,
    ref,
    refs,
    service_name,
)

DEFAULT_OUT = PROJECT_ROOT / "docs" / "diagrams"
EXIT_DOT_FAILED = 1
UNSAFE = re.compile(r"[^A-Za-z0-9_]")

# Edge kinds: how a renderer draws them.
TRAFFIC = "traffic"  # requests: internet -> ALB -> service, service -> ALB
ROUTE = "route"  # routing: subnet -> NAT / gateway endpoint, NAT -> internet
USES = "uses"  # dependencies: image, logs, AWS APIs through endpoints, schedules


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Node:
    """A box in the diagram; `label` lines are separated by newlines."""

    id: str
    label: str
    kind: str
    group: str | None = None


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""
    kind: str = TRAFFIC


@dataclass(frozen=True)
class Group:
    """A subgraph (Mermaid) / cluster (DOT), optionally nested in `parent`."""

    id: str
    label: str
    parent: str | None = None


@dataclass
class Graph:
    """Nodes, edges and groups of one environment, independent of any rendering."""

    title: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    groups: dict[str, Group] = field(default_factory=dict)

    def node(self, id_hint: str, label: str, kind: str, group: str | None = None) -> str:
        """Add a node under a safe, unique id derived from `id_hint`; returns the id."""
        base = safe_id(id_hint)
        node_id, counter = base, 2
        while node_id in self.nodes or node_id in self.groups:
            node_id, counter = f"{base}_{counter}", counter + 1
        self.nodes[node_id] = Node(node_id, label, kind, group)
        return node_id

    def group(self, id_hint: str, label: str, parent: str | None = None) -> str:
        """Add (or reuse) the group `id_hint`; returns its id."""
        group_id = safe_id(f"grp_{id_hint}")
        self.groups.setdefault(group_id, Group(group_id, label, parent))
        return group_id

    def edge(self, source: str, target: str, label: str = "", kind: str = TRAFFIC) -> None:
        """Add an edge; a second one between the same nodes and kind merges its label."""
        for index, existing in enumerate(self.edges):
            if (existing.source, existing.target, existing.kind) == (source, target, kind):
                labels = [part for part in (existing.label, label) if part]
                merged = ", ".join(dict.fromkeys(", ".join(labels).split(", ")))
                self.edges[index] = Edge(source, target, merged, kind)
                return
        self.edges.append(Edge(source, target, label, kind))

    def of_kind(self, kind: str) -> list[Node]:
        return [node for node in self.nodes.values() if node.kind == kind]

    def find(self, kind: str, text: str) -> Node:
        """The node of `kind` whose label's first line is `text` (KeyError if none)."""
        for node in self.of_kind(kind):
            if node.label.splitlines()[0] == text:
                return node
        raise KeyError(f"{kind} {text!r}")

    def edges_between(self, source: str, target: str) -> list[Edge]:
        return [e for e in self.edges if (e.source, e.target) == (source, target)]


def safe_id(text: str) -> str:
    """An identifier Mermaid and DOT accept unquoted: letters, digits, underscores."""
    cleaned = UNSAFE.sub("_", text).strip("_") or "n"
    return cleaned if cleaned[0].isalpha() else f"n_{cleaned}"


# --------------------------------------------------------------------------- building


class Builder:
    """Reads one stack into a Graph."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.graph = Graph(title=f"{stack.name} ({stack.region})")
        self.ids: dict[tuple[str, str], str] = {}  # (resource type, logical name) -> node id
        # security group logical name -> node ids (a shared group has several owners)
        self.sg_owner: dict[str, list[str]] = {}
        self.route_tables: dict[str, list[str]] = {}  # route table -> subnet node ids
        clusters = [c for _, c in stack.items("aws_ecs_cluster")]
        self.prefix = f"{clusters[0].get('name')}-" if clusters else ""

    def short(self, name: object) -> str:
        return str(name).removeprefix(self.prefix)

    def build(self) -> Graph:
        self.graph.node("internet", "Internet", "internet")
        vpc = self.vpc()
        self.subnets(vpc)
        self.nat_gateways()
        self.endpoints(vpc)
        self.albs(vpc)
        self.workloads(vpc)
        self.alb_targets()
        self.schedules()
        self.callers()
        self.waf()
        self.alarm_topic()
        return self.graph

    def vpc(self) -> str | None:
        for _, vpc in self.stack.items("aws_vpc"):
            return self.graph.group("vpc", f"VPC {vpc.get('cidr_block', '')}".strip())
        return None

    def subnets(self, vpc: str | None) -> None:
        for name, subnet in self.stack.items("aws_subnet"):
            az = str(subnet.get("availability_zone", "?"))
            tier = str((subnet.get("tags") or {}).get("Tier", "subnet"))
            group = self.graph.group(f"az_{az}", az, vpc)
            label = f"{tier} subnet\n{subnet.get('cidr_block', '')}"
            self.ids["aws_subnet", name] = self.graph.node(
                f"subnet_{tier}_{az}", label, "subnet", group
            )

    def nat_gateways(self) -> None:
        for name, nat in self.stack.items("aws_nat_gateway"):
            subnet_ref = ref(nat.get("subnet_id"))
            subnet = self.stack.resolve(subnet_ref) or {}
            az = str(subnet.get("availability_zone", "?"))
            group = self.graph.group(f"az_{az}", az) if subnet else None
            node = self.graph.node(f"nat_{az}", f"NAT gateway\n{az}", "nat", group)
            self.ids["aws_nat_gateway", name] = node
            self.graph.edge(node, "internet", "egress", ROUTE)
        self.routes()

    def routes(self) -> None:
        """Subnet -> NAT gateway / gateway endpoint edges from route tables."""
        tables = self.route_tables
        for _, association in self.stack.items("aws_route_table_association"):
            table, subnet = (
                ref(association.get("route_table_id")),
                ref(association.get("subnet_id")),
            )
            if table and subnet and ("aws_subnet", subnet.name) in self.ids:
                tables.setdefault(table.name, []).append(self.ids["aws_subnet", subnet.name])
        for _, route in self.stack.items("aws_route"):
            table, nat = ref(route.get("route_table_id")), ref(route.get("nat_gateway_id"))
            if table and nat and ("aws_nat_gateway", nat.name) in self.ids:
                nat_node = self.ids["aws_nat_gateway", nat.name]
                destination = str(route.get("destination_cidr_block") or "default")
                for subnet_node in tables.get(table.name, []):
                    self.graph.edge(subnet_node, nat_node, destination, ROUTE)

    def endpoints(self, vpc: str | None) -> None:
        interface: list[str] = []
        azs: set[str] = set()
        for _, endpoint in self.stack.items("aws_vpc_endpoint"):
            service = endpoint_service(endpoint)
            if str(endpoint.get("vpc_endpoint_type", "")).lower() != "interface":
                self.gateway_endpoint(service, endpoint, vpc)
                continue
            interface.append(service)
            for subnet_ref in refs(endpoint.get("subnet_ids")):
                azs.add(str((self.stack.resolve(subnet_ref) or {}).get("availability_zone")))
        if not interface:
            return
        label = f"Interface endpoints\n{', '.join(interface)}\nENIs in {len(azs)} AZs"
        node = self.graph.node("vpce_interface", label, "endpoints", vpc)
        for _, endpoint in self.stack.items("aws_vpc_endpoint"):
            for sg in refs(endpoint.get("security_group_ids")):
                self.claim(sg.name, node)

    def gateway_endpoint(self, service: str, endpoint: Resource, vpc: str | None) -> None:
        node = self.graph.node(
            f"vpce_{service}", f"{service} gateway endpoint", "gateway_endpoint", vpc
        )
        for table in refs(endpoint.get("route_table_ids")):
            for subnet in self.route_tables.get(table.name, []):
                self.graph.edge(subnet, node, service, ROUTE)

    def albs(self, vpc: str | None) -> None:
        for name, lb in self.stack.items("aws_lb"):
            kind = "internal_alb" if lb.get("internal") else "public_alb"
            listeners = [
                (lname, listener)
                for lname, listener in self.stack.items("aws_lb_listener")
                if (r := ref(listener.get("load_balancer_arn"))) and r.name == name
            ]
            ports = ", ".join(_listener_label(listener) for _, listener in listeners)
            title = "internal ALB" if lb.get("internal") else "public ALB"
            label = f"{title}\n{lb.get('name', name)}\nlisteners: {ports or 'none'}"
            hosts = self.hosts_of(name)
            if hosts:
                label += f"\nhosts: {', '.join(hosts)}"
            node = self.graph.node(f"alb_{self.short(lb.get('name', name))}", label, kind, vpc)
            self.ids["aws_lb", name] = node
            for sg in refs(lb.get("security_groups")):
                self.claim(sg.name, node)
            for lname, _ in listeners:
                self.ids["aws_lb_listener", lname] = node
            if kind == "public_alb" and ports:
                self.graph.edge("internet", node, ports)

    def hosts_of(self, lb_name: str) -> list[str]:
        """Names that reach an ALB: alias records to it (Route 53), or the `dns_target` output
        (DNS outside Route 53)."""
        hosts: list[str] = []
        for _, record in self.stack.items("aws_route53_record"):
            target = ref((record.get("alias") or {}).get("name"))
            if target is not None and target.type == "aws_lb" and target.name == lb_name:
                hosts.append(str(record.get("name")))
        external = (self.stack.document.get("output", {}).get("dns_target") or {}).get("value")
        target = ref(external.get("target")) if isinstance(external, dict) else None
        if isinstance(external, dict) and target is not None and target.name == lb_name:
            hosts.extend(str(host) for host in external.get("hosts") or [])
        return list(dict.fromkeys(hosts))

    def workloads(self, vpc: str | None) -> None:
        """Services, and jobs (task definitions no service runs), with image and log edges."""
        cluster = None
        for _, c in self.stack.items("aws_ecs_cluster"):
            cluster = self.graph.group("ecs", f"ECS cluster {c.get('name', '')}", vpc)
        used: set[str] = set()
        for name, service in self.stack.items("aws_ecs_service"):
            task_ref = ref(service.get("task_definition"))
            task = self.stack.resolve(task_ref) or {}
            used.add(task_ref.name if task_ref else "")
            short = service_name(self.stack, service)
            label = (
                f"{short}\n{_task_summary(task, service.get('desired_count'))}"
                f"\n{_deployment_summary(service)}"
            )
            node = self.graph.node(f"svc_{short}", label, "service", cluster)
            self.ids["aws_ecs_service", name] = node
            self.own(node, (service.get("network_configuration") or {}).get("security_groups"))
            self.dependencies(node, task)
        specs = _job_specs(self.stack)
        for name, task in self.stack.items("aws_ecs_task_definition"):
            if name in used:
                continue
            job, security_groups = specs.get(name, (self.short(task.get("family", name)), []))
            label = f"job {job}\n{_task_summary(task, None)}"
            node = self.graph.node(f"job_{job}", label, "job", cluster)
            self.ids["aws_ecs_task_definition", name] = node
            self.own(node, security_groups)
            self.dependencies(node, task)

    def own(self, node: str, security_groups: object) -> None:
        """Record `node` as the owner of the security groups referenced in `security_groups`."""
        for sg in refs(security_groups):
            self.claim(sg.name, node)

    def claim(self, group: str, node: str) -> None:
        owners = self.sg_owner.setdefault(group, [])
        if node not in owners:
            owners.append(node)

    def dependencies(self, node: str, task: Resource) -> None:
        """Edges from a workload to its images (ECR or external) and log groups."""
        for container in container_definitions(task):
            image = str(container.get("image", ""))
            repo = ref(image)
            if repo and repo.type == "aws_ecr_repository":
                self.graph.edge(node, self.ecr(repo.name), "image", USES)
            elif image:
                self.graph.edge(node, self.external_image(image), "image", USES)
            options = (container.get("logConfiguration") or {}).get("options") or {}
            group = ref(options.get("awslogs-group"))
            if group and group.type == "aws_cloudwatch_log_group":
                self.graph.edge(node, self.log_group(group.name), "logs", USES)

    def aws_group(self) -> str:
        return self.graph.group("aws", f"AWS regional services ({self.stack.region})")

    def ecr(self, name: str) -> str:
        if ("aws_ecr_repository", name) not in self.ids:
            repo = self.stack.resources("aws_ecr_repository").get(name, {})
            label = f"ECR {repo.get('name', name)}"
            self.ids["aws_ecr_repository", name] = self.graph.node(
                f"ecr_{repo.get('name', name)}", label, "ecr", self.aws_group()
            )
        return self.ids["aws_ecr_repository", name]

    def external_image(self, image: str) -> str:
        key = ("image", image)
        if key not in self.ids:
            self.ids[key] = self.graph.node(f"image_{image}", f"external image\n{image}", "image")
        return self.ids[key]

    def log_group(self, name: str) -> str:
        if ("aws_cloudwatch_log_group", name) not in self.ids:
            group = self.stack.resources("aws_cloudwatch_log_group").get(name, {})
            days = group.get("retention_in_days")
            label = f"logs {group.get('name', name)}\n" + (
                f"{days} days" if days else "kept forever"
            )
            self.ids["aws_cloudwatch_log_group", name] = self.graph.node(
                f"logs_{self.short(str(group.get('name', name)).rsplit('/', 1)[-1])}",
                label,
                "log_group",
                self.aws_group(),
            )
        return self.ids["aws_cloudwatch_log_group", name]

    def alb_targets(self) -> None:
        """ALB -> service edges through listener default actions and listener rules."""
        targets: dict[str, tuple[str, str]] = {}  # target group -> (service node, port)
        for name, service in self.stack.items("aws_ecs_service"):
            for binding in service.get("load_balancer") or []:
                group = ref(binding.get("target_group_arn"))
                if group:
                    targets[group.name] = (
                        self.ids["aws_ecs_service", name],
                        str(binding.get("container_port", "")),
                    )
        for _, listener in self.stack.items("aws_lb_listener"):
            self.forward(
                ref(listener.get("load_balancer_arn")), listener.get("default_action"), targets, ""
            )
        for _, rule in self.stack.items("aws_lb_listener_rule"):
            listener = self.stack.resolve(ref(rule.get("listener_arn"))) or {}
            condition = _conditions(rule.get("condition"))
            self.forward(
                ref(listener.get("load_balancer_arn")), rule.get("action"), targets, condition
            )

    def forward(
        self, lb: Ref | None, actions: object, targets: dict[str, tuple[str, str]], when: str
    ) -> None:
        source = self.ids.get(("aws_lb", lb.name)) if lb else None
        if source is None:
            return
        for group in refs(actions):
            if group.type == "aws_lb_target_group" and group.name in targets:
                service, port = targets[group.name]
                self.graph.edge(source, service, f"{port} {when}".strip())

    def callers(self) -> None:
        """Service -> ALB / service / endpoints edges from security-group ingress rules."""
        for _, rule in self.stack.items("aws_vpc_security_group_ingress_rule"):
            caller, callee = (
                ref(rule.get("referenced_security_group_id")),
                ref(rule.get("security_group_id")),
            )
            sources = self.sg_owner.get(caller.name, []) if caller else []
            targets = self.sg_owner.get(callee.name, []) if callee else []
            for source in sources:
                for target in targets:
                    if self.graph.nodes[source].kind not in {"service", "job"}:
                        continue
                    kind = USES if self.graph.nodes[target].kind == "endpoints" else TRAFFIC
                    self.graph.edge(source, target, _ports(rule), kind)

    def schedules(self) -> None:
        """EventBridge Scheduler schedules -> the jobs they run."""
        for name, schedule in self.stack.items("aws_scheduler_schedule"):
            title = self.short(schedule.get("name", name))
            when = " ".join(
                str(schedule.get(key, ""))
                for key in ("schedule_expression", "schedule_expression_timezone")
            )
            node = self.graph.node(
                f"schedule_{title}", f"schedule {title}\n{when.strip()}", "schedule"
            )
            target = schedule.get("target") or {}
            task = ref((target.get("ecs_parameters") or {}).get("task_definition_arn"))
            workload = self.ids.get(("aws_ecs_task_definition", task.name)) if task else None
            if workload:
                self.graph.edge(node, workload, "runs", USES)
                network = (target.get("ecs_parameters") or {}).get("network_configuration") or {}
                self.own(workload, network.get("security_groups"))

    def alarm_topic(self) -> None:
        """The SNS topic alarms notify, with an edge from each workload that alarms to it."""
        for name, topic in self.stack.items("aws_sns_topic"):
            alarms = self.stack.resources("aws_cloudwatch_metric_alarm")
            rules = self.stack.resources("aws_cloudwatch_event_rule")
            subscriptions = self.stack.resources("aws_sns_topic_subscription")
            label = (
                f"SNS {topic.get('name', name)}\n{len(alarms)} alarms, {len(rules)} job rules, "
                f"{len(subscriptions)} subscriptions"
            )
            node = self.graph.node(f"topic_{self.short(topic.get('name', name))}", label, "topic")
            notifiers: set[str] = set()
            for body in (*alarms.values(), *rules.values()):
                path = str((body.get("//") or {}).get("metadata", {}).get("path", ""))
                for part in path.split("/"):
                    if part.startswith(("service-", "job-")):
                        notifiers.add(part)
            for part in sorted(notifiers):
                kind, _, short = part.partition("-")
                source = self.graph.nodes.get(
                    safe_id(f"{'svc' if kind == 'service' else 'job'}_{short}")
                )
                if source is not None:
                    self.graph.edge(source.id, node, "alarms", USES)

    def waf(self) -> None:
        """Web ACLs and the ALBs they are associated with."""
        for _, association in self.stack.items("aws_wafv2_web_acl_association"):
            acl_ref, lb = ref(association.get("web_acl_arn")), ref(association.get("resource_arn"))
            acl = self.stack.resolve(acl_ref)
            target = self.ids.get(("aws_lb", lb.name)) if lb else None
            if acl is None or acl_ref is None or target is None:
                continue
            key = ("aws_wafv2_web_acl", acl_ref.name)
            if key not in self.ids:
                rules = len(acl.get("rule") or [])
                label = f"WAF web ACL\n{acl.get('name', acl_ref.name)}\n{rules} rules"
                self.ids[key] = self.graph.node(
                    f"waf_{self.short(acl.get('name', ''))}", label, "waf"
                )
            self.graph.edge(self.ids[key], target, "filters", USES)


def _job_specs(stack: Stack) -> dict[str, tuple[str, object]]:
    """Task definition logical name -> (job name, its security groups), from `run_task_specs`."""
    specs = (stack.document.get("output", {}).get("run_task_specs") or {}).get("value") or {}
    found: dict[str, tuple[str, object]] = {}
    for job, spec in specs.items() if isinstance(specs, dict) else []:
        task = ref(spec.get("task_definition_arn")) if isinstance(spec, dict) else None
        if task:
            found[task.name] = (str(job), spec.get("security_groups"))
    return found


def _listener_label(listener: Resource) -> str:
    port = str(listener.get("port", "?"))
    actions = listener.get("default_action") or []
    redirect = next((a.get("redirect") for a in actions if a.get("type") == "redirect"), None)
    if redirect:
        return f"{port}→{redirect.get('port', '?')}"
    label = f"{port} HTTPS" if listener.get("protocol") == "HTTPS" else port
    if any(a.get("type") == "authenticate-cognito" for a in actions):
        label += " Cognito"
    return label


def _conditions(conditions: object) -> str:
    parts: list[str] = []
    for condition in conditions if isinstance(conditions, list) else []:
        for key in ("path_pattern", "host_header"):
            parts.extend((condition.get(key) or {}).get("values") or [])
    return " ".join(parts)


def _ports(rule: Resource) -> str:
    low, high = rule.get("from_port"), rule.get("to_port")
    if str(rule.get("ip_protocol")) == "-1":
        return "all"
    return str(low) if low == high else f"{low}-{high}"


def _task_summary(task: Resource, desired: object) -> str:
    cpu, memory = float(task.get("cpu") or 0) / 1024, float(task.get("memory") or 0) / 1024
    architecture = (task.get("runtime_platform") or {}).get("cpu_architecture", "X86_64")
    tasks = f"{desired} x " if desired is not None else ""
    return f"{tasks}{cpu:g} vCPU / {memory:g} GB {architecture}"


def _deployment_summary(service: Resource) -> str:
    """`deploys <strategy>` and, with deployment alarms, how many roll it back."""
    strategy = str((service.get("deployment_configuration") or {}).get("strategy", "ROLLING"))
    alarms = service.get("alarms") or {}
    rollback = len(alarms.get("alarm_names") or []) if alarms.get("rollback") else 0
    text = f"deploys {strategy.lower()}"
    return f"{text}, rollback on {rollback} alarms" if rollback else text


def build_graph(stack: Stack) -> Graph:
    """The topology of one synthesized environment."""
    return Builder(stack).build()


# --------------------------------------------------------------------------- rendering

MERMAID_SHAPES = {
    "internet": ('(("', '"))'),
    "public_alb": ('{{"', '"}}'),
    "internal_alb": ('{{"', '"}}'),
    "nat": ('(["', '"])'),
    "endpoints": ('[["', '"]]'),
    "gateway_endpoint": ('[["', '"]]'),
    "waf": ('[/"', '"/]'),
    "schedule": ('(["', '"])'),
    "topic": ('(["', '"])'),
    "ecr": ('[("', '")]'),
    "log_group": ('[("', '")]'),
}
MERMAID_ARROWS = {TRAFFIC: "-->", ROUTE: "-.->", USES: "-.->"}


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", "<br/>")


def render_mermaid(graph: Graph) -> str:
    """A `flowchart LR`: groups as nested subgraphs, labels quoted."""
    lines = ["flowchart LR"]

    def emit(parent: str | None, indent: str) -> None:
        for node in graph.nodes.values():
            if node.group == parent:
                start, end = MERMAID_SHAPES.get(node.kind, ('["', '"]'))
                lines.append(f"{indent}{node.id}{start}{_mermaid_text(node.label)}{end}")
        for group in graph.groups.values():
            if group.parent == parent and _has_members(graph, group.id):
                lines.append(f'{indent}subgraph {group.id}["{_mermaid_text(group.label)}"]')
                emit(group.id, indent + "  ")
                lines.append(f"{indent}end")

    emit(None, "  ")
    for edge in graph.edges:
        arrow = MERMAID_ARROWS.get(edge.kind, "-->")
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"  {edge.source} {arrow}{label} {edge.target}")
    return "\n".join(lines) + "\n"


def _has_members(graph: Graph, group_id: str) -> bool:
    if any(node.group == group_id for node in graph.nodes.values()):
        return True
    return any(g.parent == group_id and _has_members(graph, g.id) for g in graph.groups.values())


DOT_SHAPES = {
    "internet": "ellipse",
    "public_alb": "hexagon",
    "internal_alb": "hexagon",
    "nat": "octagon",
    "endpoints": "component",
    "gateway_endpoint": "component",
    "waf": "parallelogram",
    "schedule": "note",
    "topic": "cds",
    "ecr": "cylinder",
    "log_group": "cylinder",
}
DOT_STYLES = {TRAFFIC: "solid", ROUTE: "dashed", USES: "dotted"}


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render_dot(graph: Graph) -> str:
    """The same graph in Graphviz DOT; groups become clusters."""
    lines = [
        f"digraph {_dot_text(graph.title)} {{",
        '  rankdir=LR; node [shape=box, fontname="Helvetica"]; edge [fontname="Helvetica"];',
    ]

    def emit(parent: str | None, indent: str) -> None:
        for node in graph.nodes.values():
            if node.group == parent:
                shape = DOT_SHAPES.get(node.kind, "box")
                lines.append(f"{indent}{node.id} [label={_dot_text(node.label)}, shape={shape}];")
        for group in graph.groups.values():
            if group.parent == parent and _has_members(graph, group.id):
                lines.append(f"{indent}subgraph cluster_{group.id} {{")
                lines.append(f"{indent}  label={_dot_text(group.label)};")
                emit(group.id, indent + "  ")
                lines.append(f"{indent}}}")

    emit(None, "  ")
    for edge in graph.edges:
        style = DOT_STYLES.get(edge.kind, "solid")
        # Egress back to the internet must not pull the internet node to the right.
        rank = ", constraint=false" if graph.nodes[edge.target].kind == "internet" else ""
        attributes = f"label={_dot_text(edge.label)}, style={style}{rank}"
        lines.append(f"  {edge.source} -> {edge.target} [{attributes}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_markdown(graph: Graph, stack: Stack) -> str:
    """The Markdown page: heading, provenance, Mermaid fence."""
    return (
        f"# {graph.title} topology\n\n"
        f"Generated by `python -m ops diagram` from `stacks/{stack.name}/cdk.tf.json` of the "
        "synth output; regenerate instead of editing. Solid arrows: requests (ports); dashed: "
        "routes; dotted: images, logs and AWS API access through endpoints.\n\n"
        f"```mermaid\n{render_mermaid(graph)}```\n"
    )


# --------------------------------------------------------------------------- CLI


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `diagram` subcommand."""
    parser = subparsers.add_parser(
        "diagram",
        help="draw each environment's topology (Mermaid, and SVG with Graphviz)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_stack_arguments(parser)
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="where to write (default: docs/diagrams)"
    )
    parser.set_defaults(handler=run)


def write_svg(dot: str, graph: Graph, path: Path) -> bool:
    """Render `graph` to `path` with Graphviz; False (and a message) if it failed."""
    result = subprocess.run(
        [dot, "-Tsvg", "-o", str(path)],
        input=render_dot(graph),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        print(f"error: dot failed for {path.name}: {result.stderr.strip()}", file=sys.stderr)
    return result.returncode == 0


def run(args: argparse.Namespace) -> int:
    """The `diagram` handler."""
    try:
        stacks = load_stacks(args.outdir, args.env)
    except SynthError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    args.out.mkdir(parents=True, exist_ok=True)
    dot = shutil.which("dot")
    if dot is None:
        print("note: Graphviz `dot` not on PATH; writing Mermaid only (no SVG)", file=sys.stderr)
    status = 0
    for stack in stacks:
        graph = build_graph(stack)
        written = [args.out / f"{stack.name}.md"]
        written[0].write_text(render_markdown(graph, stack))
        if dot:
            svg = args.out / f"{stack.name}.svg"
            if write_svg(dot, graph, svg):
                written.append(svg)
            else:
                status = EXIT_DOT_FAILED
        print("wrote " + ", ".join(str(path) for path in written))
    return status
