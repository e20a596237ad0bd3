"""The diagram's graph: nodes, edges, groups and the edge kinds renderers draw."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

UNSAFE = re.compile(r"[^A-Za-z0-9_]")

# Edge kinds: how a renderer draws them.
TRAFFIC = "traffic"  # requests: internet -> ALB -> service, service -> ALB
ROUTE = "route"  # routing: subnet -> NAT / gateway endpoint, NAT -> internet
USES = "uses"  # dependencies: image, logs, AWS APIs through endpoints, schedules


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
    above: list[tuple[str, str]] = field(default_factory=list)
    """Layout hints, not edges: (upper, lower) node pairs a renderer draws as invisible links
    so the picture reads top-down in tiers (internet, public subnets, private subnets)."""

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

    def place_above(self, upper: str, lower: str) -> None:
        """Ask renderers to draw `upper` above `lower` (no edge is drawn)."""
        if upper != lower and (upper, lower) not in self.above:
            self.above.append((upper, lower))

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
