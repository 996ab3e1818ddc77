"""`doxa improve ...`: the continuous-improvement report, and human resolutions fed back to FAQ mining."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer

from cli.output import EXIT_USAGE, fail
from cli.services import open_services
from core.errors import ConflictError, InvalidInputError, NotFoundError

app = typer.Typer(
    help="Continuous improvement: what escalates, what the KB lacks, and resolutions for FAQ mining.",
    no_args_is_help=True,
)


class ReportFormat(StrEnum):
    """Output formats of `doxa improve report`."""

    markdown = "markdown"
    json = "json"


SinceOption = Annotated[
    str | None, typer.Option("--since", help="Window start: 7d, 12h, 2w or an ISO date (2026-11-01). Default: all.")
]
DatabaseOption = Annotated[
    str, typer.Option("--database", help="ClickHouse database of the FAQ miner's tickets table.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    from ops.improvement import parse_since

    try:
        return parse_since(text)
    except InvalidInputError as exc:
        fail(str(exc), EXIT_USAGE)


@app.command("report")
def report(
    since: SinceOption = None,
    output_format: Annotated[ReportFormat, typer.Option("--format", help="markdown or json.")] = ReportFormat.markdown,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows per ranking and recommendations to show.")] = 10,
    exact: Annotated[
        bool, typer.Option("--exact", help="Group only identical reformulations (no embedding model).")
    ] = False,
) -> None:
    """Which categories escalate most, which reformulations the KB could not answer, what to add to it."""
    from ops.improvement import improvement_report

    window = _since(since)
    with open_services() as services:
        built = improvement_report(services.db, window, top=top, embedder=None if exact else services.embedder)
    typer.echo(built.to_json() if output_format is ReportFormat.json else built.to_markdown(), nl=False)


@app.command("resolve")
def resolve(
    escalation_id: Annotated[str, typer.Argument(help="The escalation's id (ESC-...).")],
    resolution: Annotated[str, typer.Option("--resolution", help="What the person did to solve the ticket.")],
    resolved_by: Annotated[str | None, typer.Option("--by", help="Who resolved it.")] = None,
    database: DatabaseOption = "ticketing",
    json_output: JsonOption = False,
) -> None:
    """Close an escalation with its resolution and hand the ticket to the FAQ miner's source."""
    from faq_mining.ticket_source import TicketSource
    from graph.ticket_store import TicketStore
    from ops.escalation_export import export_escalation

    with open_services() as services:
        try:
            record = TicketStore(services.db).resolve_escalation(escalation_id, resolution, resolved_by)
        except (NotFoundError, ConflictError, InvalidInputError) as exc:
            fail(str(exc))
        imported = export_escalation(services.db, TicketSource(services.clickhouse, database=database), escalation_id)
    summary = {
        "escalation_id": record["id"],
        "ticket_id": record["ticket_id"],
        "status": record["status"],
        "resolved_at": record["resolved_at"].isoformat(),
        "resolved_by": resolved_by,
        "exported": imported.imported,
        "export_rejected": imported.rejected_by_reason,
    }
    if json_output:
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    typer.echo(f"{escalation_id} resolved (ticket {record['ticket_id']}) at {summary['resolved_at']}")
    if imported.imported:
        typer.echo(f"ticket {record['ticket_id']} exported to {database}.tickets for FAQ mining")
    else:
        typer.echo(f"ticket {record['ticket_id']} not exported: {imported.rejected_by_reason}")


@app.command("export-resolved")
def export_resolved(
    since: SinceOption = None,
    database: DatabaseOption = "ticketing",
    json_output: JsonOption = False,
) -> None:
    """Export every escalation resolved in the window to the FAQ miner's source (re-running adds no duplicate)."""
    from faq_mining.ticket_source import TicketSource
    from ops.escalation_export import export_resolved_to_ticket_source

    window = _since(since)
    with open_services() as services:
        imported = export_resolved_to_ticket_source(
            services.db, TicketSource(services.clickhouse, database=database), window
        )
    if json_output:
        typer.echo(json.dumps(imported.model_dump(mode="json"), ensure_ascii=False))
        return
    typer.echo(f"exported {imported.imported} resolved escalations to {database}.tickets, rejected {imported.rejected}")
    for reason, count in imported.rejected_by_reason.items():
        typer.echo(f"  {count} rejected: {reason}")
