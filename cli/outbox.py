"""`doxa outbox ...`: list queued e-mails and deliver the pending ones over SMTP.

Exit codes of `deliver`: 0 when the run worked (some messages may have failed and will be retried);
1 when every attempted message failed (the server is likely down or refusing); 2 when DOXA_SMTP_URL is
unset or invalid.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.output import EXIT_FAILED, EXIT_USAGE, fail
from core.errors import DoxaError
from core.settings import get_settings

app = typer.Typer(help="The e-mail outbox: queued messages and their SMTP delivery.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


class Status(StrEnum):
    """Outbox statuses, as a CLI choice."""

    pending = "pending"
    sent = "sent"
    failed = "failed"
    held = "held"


@app.command("list")
def list_outbox(
    status: Annotated[Status | None, typer.Option("--status", help="Only messages in this status.")] = None,
    ticket: Annotated[str | None, typer.Option("--ticket", help="Only messages of this ticket id.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Messages to show.")] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Messages to skip (newest first).")] = 0,
    json_output: JsonOption = False,
) -> None:
    """Show queued e-mails, newest first, with their status, attempts and last error."""
    # psycopg and the outbox load here, not for `doxa outbox --help`.
    from core.database import Database
    from graph.outbox import Outbox

    with Database.open(get_settings()) as db:
        rows = Outbox(db).list(status=status.value if status else None, ticket_id=ticket, limit=limit, offset=offset)
    if json_output:
        typer.echo(json.dumps([_jsonable(row) for row in rows], ensure_ascii=False))
        return
    if not rows:
        typer.echo("no messages")
        return
    table = Table("id", "ticket", "recipient", "subject", "status", "attempts", "created", "last error")
    for row in rows:
        cells = (
            row["id"],
            row["ticket_id"],
            row["recipient"] or "-",
            row["subject"],
            row["status"],
            row["attempts"],
            row["created_at"].isoformat(timespec="seconds"),
            row["last_error"] or "",
        )
        table.add_row(*(escape(str(cell)) for cell in cells))  # subjects like "[high] ..." are not markup
    Console().print(table)


@app.command("deliver")
def deliver(
    batch: Annotated[int, typer.Option("--batch", min=1, max=10_000, help="Most messages to send in this run.")] = 50,
    json_output: JsonOption = False,
) -> None:
    """Send pending messages through DOXA_SMTP_URL; failures are retried on later runs, up to 5 attempts."""
    from core.database import Database
    from ops.mail_delivery import SmtpSender, deliver_pending

    settings = get_settings()
    if not settings.smtp_url:
        fail("DOXA_SMTP_URL is not set; messages stay in the outbox until it is", EXIT_USAGE)
    try:
        sender = SmtpSender(settings.smtp_url, from_address=settings.mail_from)
    except DoxaError as exc:
        fail(str(exc), EXIT_USAGE)
    with Database.open(settings) as db, sender:
        report = deliver_pending(db, sender, batch=batch, team_addresses=settings.escalation_team_addresses)
    if json_output:
        typer.echo(json.dumps(asdict(report)))
    else:
        typer.echo(f"sent {report.sent}, failed {report.failed}, held {report.skipped}")
    if report.failed and not report.sent:
        raise typer.Exit(EXIT_FAILED)


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in row.items()}
