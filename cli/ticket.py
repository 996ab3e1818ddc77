"""`doxa ticket ...`: run tickets through the graph, resume them with feedback, inspect threads."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_args

import typer
from pydantic import ValidationError
from pydantic_core import to_jsonable_python
from rich.console import Console
from rich.table import Table

from cli.output import EXIT_USAGE, fail
from core.errors import ConflictError, NotFoundError
from core.settings import get_settings
from state.ticket import CustomerFeedback, TicketInput, TicketStatus

if TYPE_CHECKING:
    # The graph and the engines (LangGraph, psycopg, the model's stack) load in the commands, not for `--help`.
    from graph.ticket_service import TicketOutcome, TicketService

app = typer.Typer(help="Ticket threads: run a ticket through the agents, give feedback, inspect.", no_args_is_help=True)

STATUSES = get_args(TicketStatus)


@contextmanager
def ticket_service() -> Iterator[TicketService]:
    """Open the engines and the ticket service for one command."""
    from core.services import Services
    from graph.factory import open_ticket_service

    with Services.open(get_settings()) as services:
        yield open_ticket_service(services)


def _summary(outcome: TicketOutcome) -> dict[str, Any]:
    return outcome.model_dump(exclude={"values"}) | {"path": outcome.path}


def _details(outcome: TicketOutcome) -> dict[str, Any]:
    """The summary and the state parts GET /tickets/{id} shows (analysis, classification, plan, evaluation...)."""
    from graph.ticket_service import DETAIL_KEYS

    return _summary(outcome) | {key: to_jsonable_python(outcome.values.get(key), fallback=str) for key in DETAIL_KEYS}


def _print(outcome: TicketOutcome, json_output: bool, *, details: bool = False) -> None:
    if json_output:
        typer.echo(json.dumps(_details(outcome) if details else _summary(outcome), default=str, ensure_ascii=False))
        return
    out = Console()
    out.print(
        f"[bold]{outcome.thread_id}[/bold]  status=[cyan]{outcome.status}[/cyan]  priority={outcome.priority}"
        f"  category={outcome.category}  kb_confident={outcome.kb_confident}  attempt={outcome.attempt}"
    )
    out.print("path: " + " -> ".join(outcome.path), markup=False)
    if outcome.fallbacks:
        out.print("offline fallbacks: " + ", ".join(outcome.fallbacks), markup=False)
    if outcome.escalation_id:
        out.print(f"escalation: {outcome.escalation_id}", markup=False)
    if outcome.email:
        out.print(
            f"\n--- e-mail ({outcome.email['template']}) ---\nSubject: {outcome.email['subject']}\n", markup=False
        )
        out.print(outcome.email["body"], markup=False)
    if outcome.waiting_for_feedback:
        out.print(
            f"\nwaiting for feedback: doxa ticket feedback {outcome.thread_id} --satisfied|--not-satisfied",
            markup=False,
        )


@app.command("run")
def run(
    files: Annotated[
        list[str] | None,
        typer.Argument(
            help="JSON files with {id?, subject, body, customer_email?, customer_name?}, or JSON Lines (.jsonl, "
            "one ticket a line); - reads stdin (the default)."
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object per ticket (JSON Lines).")] = False,
) -> None:
    """Run tickets through the graph, each until it ends or waits for the customer's feedback."""
    tickets = [ticket for file in files or ["-"] for ticket in _read_tickets(file)]
    with ticket_service() as service:
        for ticket in tickets:
            try:
                outcome = service.run(ticket)
            except ConflictError as exc:
                fail(str(exc))
            _print(outcome, json_output)


def _read_tickets(file: str) -> list[TicketInput]:
    """Every ticket of one file: a JSON object, or JSON Lines (every ticket checked before any runs)."""
    try:
        raw = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}", EXIT_USAGE)
    lines = [(number, line) for number, line in enumerate(raw.splitlines(), start=1) if line.strip()]
    as_lines = file.endswith((".jsonl", ".ndjson")) or (len(lines) > 1 and lines[0][1].strip().endswith("}"))
    documents = lines if as_lines else [(1, raw)]
    tickets = []
    for number, document in documents:
        try:
            tickets.append(TicketInput.model_validate_json(document))
        except ValidationError as exc:
            where = f"{file}:{number}" if as_lines else file
            fail(f"{where}: not a valid ticket: {exc.errors(include_url=False)}", EXIT_USAGE)
    return tickets


@app.command("feedback")
def feedback(
    thread_id: Annotated[str, typer.Argument(help="The ticket's thread id.")],
    satisfied: Annotated[bool, typer.Option("--satisfied/--not-satisfied", help="Did the answer solve the problem?")],
    comment: Annotated[
        str | None, typer.Option("--comment", help="What is still wrong (used to search again).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Resume a thread that waits for feedback: close it, retry with the comment, or escalate."""
    with ticket_service() as service:
        try:
            outcome = service.feedback(thread_id, CustomerFeedback(satisfied=satisfied, comment=comment))
        except (ConflictError, NotFoundError) as exc:
            fail(str(exc))
    _print(outcome, json_output)


@app.command("show")
def show(
    thread_id: Annotated[str, typer.Argument(help="The ticket's thread id.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show where a thread stands, with its last e-mail."""
    with ticket_service() as service:
        try:
            outcome = service.show(thread_id)
        except NotFoundError as exc:
            fail(str(exc))
    _print(outcome, json_output, details=True)


@app.command("list")
def list_tickets(
    status: Annotated[str | None, typer.Option(help=f"Only this status: {', '.join(STATUSES)}.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Rows per page.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Rows to skip.")] = 0,
    json_output: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List threads, most recent activity first."""
    if status is not None and status not in STATUSES:
        fail(f"unknown status {status!r}; one of {', '.join(STATUSES)}", EXIT_USAGE)
    with ticket_service() as service:
        rows = service.list(status, limit=limit, offset=offset)
    if json_output:
        typer.echo(json.dumps(rows, default=str))
        return
    table = Table("id", "status", "priority", "category", "attempt", "updated", "subject")
    for row in rows:
        table.add_row(
            row["id"],
            row["status"],
            str(row["priority"]),
            str(row["category"]),
            str(row["attempt"]),
            row["updated_at"].strftime("%Y-%m-%d %H:%M"),
            row["subject"][:60],
        )
    Console().print(table)
