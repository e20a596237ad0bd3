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
import shutil
import subprocess
import sys
from pathlib import Path

from ops.common import EXIT_FAILED, PROJECT_ROOT, handle
from ops.diagram.build import Builder, build_graph
from ops.diagram.model import ROUTE, TRAFFIC, USES, Edge, Graph, Group, Node, safe_id
from ops.diagram.render import render_dot, render_markdown, render_mermaid
from ops.synth_reader import (
    add_stack_arguments,
    load_stacks,
)

__all__ = [
    "DEFAULT_OUT",
    "EXIT_DOT_FAILED",
    "ROUTE",
    "TRAFFIC",
    "USES",
    "Builder",
    "Edge",
    "Graph",
    "Group",
    "Node",
    "build_graph",
    "register",
    "render_dot",
    "render_markdown",
    "render_mermaid",
    "run",
    "safe_id",
    "write_svg",
]


DEFAULT_OUT = PROJECT_ROOT / "docs" / "diagrams"
EXIT_DOT_FAILED = EXIT_FAILED


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
    parser.set_defaults(handler=handle(run))


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
    stacks = load_stacks(args.outdir, args.env)
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
