"""Rendering estimates as a text table or Markdown."""

from __future__ import annotations

import io
from collections.abc import Sequence

from ops.cost.model import Assumptions, Estimate

HEADERS = ("Item", "Basis", "Quantity", "Unit price", "USD/month")
TABLE_MAX_WIDTH = 1000


def _price(value: float, unit: str) -> str:
    return f"${value:.6f}".rstrip("0").rstrip(".") + f"/{unit}"


def _rows(result: Estimate) -> list[tuple[str, str, str, str, str]]:
    return [
        (
            line.item,
            line.basis,
            f"{line.quantity:,.6g} {line.unit}",
            _price(line.unit_price, line.unit),
            f"{line.monthly:,.2f}",
        )
        for line in result.lines
    ]


def _title(result: Estimate) -> str:
    return f"{result.env} ({result.region}): estimated monthly fixed cost, USD"


def _footer(result: Estimate, assume: Assumptions) -> list[str]:
    prices = result.prices
    sources = sorted(
        {str(v["source"]) for v in prices.values() if isinstance(v, dict) and "source" in v}
    )
    return [
        *result.notes,
        f"Assumptions: {prices.get('hours_per_month', 730)} h/month; {assume.describe()}.",
        f"ESTIMATE, not a quote: public on-demand list prices as of {prices.get('as_of')} "
        f"(ops/prices/{result.region}.json; {', '.join(sources)}). Not included: data transfer "
        "out, per-request charges (WAF, KMS, Secrets Manager, SNS deliveries, S3), ECR storage, "
        "one-off and scheduled jobs, taxes.",
    ]


def render_text(results: Sequence[Estimate], assume: Assumptions) -> str:
    """Plain-text tables (rich, ASCII rules, no colour: the same in a terminal and a CI log),
    one per environment."""
    blocks = [
        "\n".join([_title(result), _table(result), "", *_footer(result, assume)])
        for result in results
    ]
    if len(results) > 1:
        each = ", ".join(f"{r.env} ${r.total:,.2f}" for r in results)
        blocks.append(f"All environments: {each}; ${sum(r.total for r in results):,.2f}/month")
    return "\n\n".join(blocks) + "\n"


def _table(result: Estimate) -> str:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.ASCII2, show_footer=True, show_edge=False, pad_edge=False)
    footers = ("Total", "", "", "", f"{result.total:,.2f}")
    for index, (header, footer) in enumerate(zip(HEADERS, footers, strict=True)):
        # Text columns left, numbers right.
        table.add_column(
            header, footer=footer, justify="left" if index < 2 else "right", no_wrap=True
        )
    for row in _rows(result):
        table.add_row(*row)
    out = io.StringIO()
    # Wide enough never to wrap: the table takes its natural width, not the terminal's.
    Console(file=out, width=TABLE_MAX_WIDTH, color_system=None, highlight=False).print(table)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(results: Sequence[Estimate], assume: Assumptions) -> str:
    """GitHub-flavoured Markdown (for PR comments)."""
    blocks = []
    for result in results:
        lines = [
            f"### {_title(result)}: ${result.total:,.2f}",
            "",
            "| " + " | ".join(HEADERS) + " |",
            "|---|---|---:|---:|---:|",
            *("| " + " | ".join(_cell(c) for c in row) + " |" for row in _rows(result)),
            f"| **Total** | | | | **{result.total:,.2f}** |",
            "",
            *(f"- {_cell(note)}" for note in _footer(result, assume)),
        ]
        blocks.append("\n".join(lines))
    if len(results) > 1:
        rows = "\n".join(f"| {r.env} | {r.total:,.2f} |" for r in results)
        total = sum(r.total for r in results)
        blocks.append(
            f"| Environment | USD/month |\n|---|---:|\n{rows}\n| **All** | **{total:,.2f}** |"
        )
    return "\n\n".join(blocks) + "\n"
