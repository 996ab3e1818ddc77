"""Escalations a person resolved, handed to the FAQ miner as resolved tickets.

A resolved escalation is the best training material Doxa gets: a question the KB could not answer and
the answer a person gave. Each one becomes a `ResolvedTicket` in the miner's ClickHouse source: the
ticket's subject and body from the escalation context, the person's resolution as closure notes, closed
when it was resolved. Text is PII-redacted on the way out, because the miner embeds it and may show it
to an LLM, and tickets with card numbers or IBANs are escalated precisely because of them.

Exports are idempotent: the source keys tickets by id (the ticket id), so exporting again replaces the
row instead of adding one.

Example:
    >>> source = TicketSource(services.clickhouse)
    >>> export_resolved_to_ticket_source(services.db, source, since=parse_since("7d")).imported
    3
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.database import Database
from core.errors import NotFoundError
from faq_mining.ticket_import import ImportReport, SourceRow
from faq_mining.ticket_source import ResolvedTicket, TicketSource
from graph.ticket_store import TicketStore
from text.pii import redact_pii

RESOLVED_STATUS = "Resolved"


def export_resolved_to_ticket_source(db: Database, source: TicketSource, since: datetime | None) -> ImportReport:
    """Import every escalation resolved at or after `since` (all when None) into `source`."""
    return _export(source, TicketStore(db).resolved_escalations(since))


def export_escalation(db: Database, source: TicketSource, escalation_id: str) -> ImportReport:
    """Import one resolved escalation into `source`; NotFoundError unless it exists and is resolved."""
    records = TicketStore(db).resolved_escalations(escalation_id=escalation_id)
    if not records:
        raise NotFoundError(f"no resolved escalation {escalation_id}")
    return _export(source, records)


def ticket_values(record: dict[str, Any]) -> dict[str, Any]:
    """The `ResolvedTicket` fields of one resolved escalation record (as `TicketStore` returns it).

    Records made before the context carried the ticket fall back to the thread's subject and to the
    analysis' reformulation as the body.
    """
    context = record.get("context") or {}
    ticket = context.get("ticket") or {}
    analysis = context.get("analysis") or {}
    subject = ticket.get("subject") or record.get("ticket_subject") or ""
    body = ticket.get("body") or analysis.get("reformulation") or subject
    return {
        "id": record["ticket_id"],
        "subject": _redacted(subject),
        "body": _redacted(body),
        "closurenotes": _redacted(record.get("resolution") or ""),
        "category": record.get("category") or "",
        "subcategory1": "",
        "status": RESOLVED_STATUS,
        "closed_at": record["resolved_at"],
    }


def resolved_ticket(record: dict[str, Any]) -> ResolvedTicket:
    """One resolved escalation as the FAQ miner's ticket (ValidationError if it has no text at all)."""
    return ResolvedTicket.model_validate(ticket_values(record))


def _export(source: TicketSource, records: Sequence[dict[str, Any]]) -> ImportReport:
    source.ensure_schema()
    # The source validates each row and counts the invalid ones by reason instead of failing the batch.
    return source.import_rows(SourceRow(line=index, values=ticket_values(r)) for index, r in enumerate(records, 1))


def _redacted(text: str) -> str:
    return redact_pii(text).text if text else text
