"""Estimate each environment's monthly fixed AWS cost from its synthesized stack.

    python -m ops cost                      # every environment in cdktf.out
    python -m ops cost --env dev --env prod --format markdown

What is priced is what synth will deploy (`cdktf.out/stacks/<env>/cdk.tf.json`), not the env
config: NAT gateways, interface endpoints (one ENI per subnet), ALBs, Fargate tasks at their
desired counts (ARM64 at the ARM rate, the expected FARGATE_SPOT share from the capacity
provider strategy at the Spot discount), public IPv4 addresses, CloudWatch Logs, WAF web ACLs
and rules, KMS keys; 730 h/month. Usage-driven charges are covered by stated assumptions
(GB/month through NAT and endpoints, LCUs per ALB, log GB per group; see the options). Prices
come from ops/prices/<region>.json (region: the stack's aws provider): public on-demand list
prices as of the date in the file. The result is an ESTIMATE, not a quote.

Exit status: 0 success; 2 bad input (no cdktf.out, unknown env, no prices for the region).
"""

from __future__ import annotations

import argparse
import sys

from ops.common import handle
from ops.cost.model import Assumptions, BreakEven, Estimate, LineItem, ServiceTasks
from ops.cost.pricing import PRICES_DIR, Pricer, comparison, estimate, load_prices
from ops.cost.reading import describe_strategy, expected_spot_tasks
from ops.cost.render import render_markdown, render_text
from ops.synth_reader import (
    add_stack_arguments,
    load_stacks,
)

__all__ = [
    "PRICES_DIR",
    "Assumptions",
    "BreakEven",
    "Estimate",
    "LineItem",
    "Pricer",
    "ServiceTasks",
    "comparison",
    "describe_strategy",
    "estimate",
    "expected_spot_tasks",
    "load_prices",
    "register",
    "render_markdown",
    "render_text",
    "run",
]


# --------------------------------------------------------------------------- CLI


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `cost` subcommand."""
    parser = subparsers.add_parser(
        "cost",
        help="estimate each environment's monthly fixed cost from the synthesized stacks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_stack_arguments(parser)
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    defaults = Assumptions()
    for flag, dest, help_text in (
        ("--nat-gb", "nat_gb", "GB/month through each NAT gateway"),
        ("--endpoint-gb", "endpoint_gb", "GB/month through each interface endpoint"),
        ("--alb-lcu", "alb_lcu", "average LCUs per ALB"),
        ("--log-gb", "log_gb", "GB/month ingested per log group"),
        ("--sqs-million-requests", "sqs_million_requests", "million requests/month per SQS queue"),
        ("--s3-gb", "s3_gb", "GB stored per S3 bucket"),
        ("--efs-gb", "efs_gb", "GB stored per EFS file system"),
    ):
        default = getattr(defaults, dest)
        parser.add_argument(
            flag,
            dest=dest,
            type=_non_negative,
            default=default,
            metavar="N",
            help=f"{help_text} (assumption; default {default:g})",
        )
    parser.set_defaults(handler=handle(run))


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return value


def run(args: argparse.Namespace) -> int:
    """The `cost` handler."""
    assume = Assumptions(
        nat_gb=args.nat_gb,
        endpoint_gb=args.endpoint_gb,
        alb_lcu=args.alb_lcu,
        log_gb=args.log_gb,
        sqs_million_requests=args.sqs_million_requests,
        s3_gb=args.s3_gb,
        efs_gb=args.efs_gb,
    )
    results = [estimate(stack, assume) for stack in load_stacks(args.outdir, args.env)]
    render = render_markdown if args.format == "markdown" else render_text
    sys.stdout.write(render(results, assume))
    return 0
