"""Building the graph from a synthesized stack."""

from __future__ import annotations

import itertools
from dataclasses import replace

from ops.diagram.model import ROUTE, TRAFFIC, USES, Graph, safe_id
from ops.synth_reader import (
    Ref,
    Resource,
    Stack,
    container_definitions,
    endpoint_service,
    ref,
    refs,
    service_name,
)

# Subnet tiers (the `Tier` tag modules/network.py sets), top to bottom: the picture's rows.
TIER_ORDER = ("public", "private")
# Nodes a tier row holds besides its subnets, drawn below the row's subnets.
TIER_MEMBERS = frozenset({"public_alb", "internal_alb", "service", "job"})


class Builder:
    """Reads one stack into a Graph."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.graph = Graph(title=f"{stack.name} ({stack.region})")
        self.ids: dict[tuple[str, str], str] = {}  # (resource type, logical name) -> node id
        # security group logical name -> node ids (a shared group has several owners)
        self.sg_owner: dict[str, list[str]] = {}
        self.route_tables: dict[str, list[str]] = {}  # route table -> subnet node ids
        self.tiers: dict[str, dict[str, str]] = {}  # tier -> AZ -> subnet node id
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
        self.layout()
        return self.graph

    def vpc(self) -> str | None:
        for _, vpc in self.stack.items("aws_vpc"):
            return self.graph.group("vpc", f"VPC {vpc.get('cidr_block', '')}".strip())
        return None

    def subnets(self, vpc: str | None) -> None:
        """One row per tier (public above private), one box per AZ in each row."""
        subnets = list(self.stack.items("aws_subnet"))
        tiers = {_tier(subnet) for _, subnet in subnets}
        for tier in sorted(tiers, key=lambda t: (_tier_rank(t), t)):
            self.graph.group(f"tier_{tier}", f"{tier} subnets", vpc)
        for name, subnet in subnets:
            az, tier = str(subnet.get("availability_zone", "?")), _tier(subnet)
            group = self.graph.group(f"az_{tier}_{az}", az, self.tier_group(tier))
            label = f"{tier} subnet\n{subnet.get('cidr_block', '')}"
            node = self.graph.node(f"subnet_{tier}_{az}", label, "subnet", group)
            self.ids["aws_subnet", name] = node
            self.tiers.setdefault(tier, {})[az] = node

    def tier_group(self, tier: str) -> str:
        return safe_id(f"grp_tier_{tier}")

    def row_of(self, subnets: object, fallback: str | None) -> str | None:
        """The tier row of the first of `subnets` (references), else `fallback`."""
        for subnet_ref in refs(subnets):
            subnet = self.stack.resolve(subnet_ref)
            if subnet is not None and self.tier_group(_tier(subnet)) in self.graph.groups:
                return self.tier_group(_tier(subnet))
        return fallback

    def nat_gateways(self) -> None:
        for name, nat in self.stack.items("aws_nat_gateway"):
            subnet_ref = ref(nat.get("subnet_id"))
            subnet = self.stack.resolve(subnet_ref) or {}
            az = str(subnet.get("availability_zone", "?"))
            group = self.graph.group(f"az_{_tier(subnet)}_{az}", az) if subnet else None
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
            row = self.row_of(lb.get("subnets"), vpc)
            node = self.graph.node(f"alb_{self.short(lb.get('name', name))}", label, kind, row)
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
        clusters = [str(c.get("name", "")) for _, c in self.stack.items("aws_ecs_cluster")]
        rows: set[str] = set()
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
            network = service.get("network_configuration") or {}
            row = self.row_of(network.get("subnets"), vpc)
            rows.add(row or "")
            node = self.graph.node(f"svc_{short}", label, "service", row)
            self.ids["aws_ecs_service", name] = node
            self.own(node, network.get("security_groups"))
            self.dependencies(node, task)
        specs = _job_specs(self.stack)
        for name, task in self.stack.items("aws_ecs_task_definition"):
            if name in used:
                continue
            job, security_groups, subnets = specs.get(
                name, (self.short(task.get("family", name)), [], [])
            )
            label = f"job {job}\n{_task_summary(task, None)}"
            row = self.row_of(subnets, vpc)
            rows.add(row or "")
            node = self.graph.node(f"job_{job}", label, "job", row)
            self.ids["aws_ecs_task_definition", name] = node
            self.own(node, security_groups)
            self.dependencies(node, task)
        for row in rows & set(self.graph.groups):
            if clusters and row != vpc:  # the row that runs the tasks names their cluster
                group = self.graph.groups[row]
                label = f"{group.label}: ECS cluster {', '.join(clusters)}"
                self.graph.groups[row] = replace(group, label=label)

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

    @property
    def aws_group_id(self) -> str:
        return safe_id("grp_aws")

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

    def layout(self) -> None:
        """Hints that make the picture read top-down: the internet, then WAF and the public
        row, then each lower tier row (AZ under AZ), each row's ALBs and tasks under its
        subnets."""
        graph = self.graph
        for waf in graph.of_kind("waf"):
            graph.place_above("internet", waf.id)
        upper: dict[str, str] = {"": "internet"}  # AZ -> the node the next row sits under
        for tier in sorted(self.tiers, key=lambda t: (_tier_rank(t), t)):
            row = self.tiers[tier]
            for az, subnet in row.items():
                graph.place_above(upper.get(az, upper.get("", "internet")), subnet)
            first = next(iter(row.values()))
            for node in graph.nodes.values():
                if node.group == self.tier_group(tier) and node.kind in TIER_MEMBERS:
                    graph.place_above(first, node.id)
            upper = {**row, "": first}
        # Regional services stack in one column beside the VPC instead of one wide row.
        column = [n.id for n in graph.nodes.values() if n.group == self.aws_group_id]
        for upper_node, lower_node in itertools.pairwise(column):
            graph.place_above(upper_node, lower_node)


def _job_specs(stack: Stack) -> dict[str, tuple[str, object, object]]:
    """Task definition logical name -> (job name, its security groups, its subnets), from
    `run_task_specs`."""
    specs = (stack.document.get("output", {}).get("run_task_specs") or {}).get("value") or {}
    found: dict[str, tuple[str, object, object]] = {}
    for job, spec in specs.items() if isinstance(specs, dict) else []:
        task = ref(spec.get("task_definition_arn")) if isinstance(spec, dict) else None
        if task:
            found[task.name] = (str(job), spec.get("security_groups"), spec.get("subnets"))
    return found


def _tier(subnet: Resource) -> str:
    return str((subnet.get("tags") or {}).get("Tier", "subnet"))


def _tier_rank(tier: str) -> int:
    return TIER_ORDER.index(tier) if tier in TIER_ORDER else len(TIER_ORDER)


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
