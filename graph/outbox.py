"""The e-mail outbox: messages are written in Postgres first and delivered afterwards.

An idempotency key per message means a graph node that re-runs after a crash or a resume never queues the
same e-mail twice; delivery (SMTP, when configured) works from the table, so a message is never lost
between "decided to send" and "sent".
"""

from __future__ import annotations

import re
from typing import Any

from core.database import Database
from core.errors import InvalidInputError
from state.records import OutboxMessage

OUTBOX_STATUSES = ("pending", "sent", "failed", "held")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def header_safe(text: str, limit: int = 200) -> str:
    """One line without control characters, so user text cannot inject mail headers."""
    return _CONTROL.sub("", _LINE_BREAKS.sub(" ", text)).strip()[:limit]


def body_safe(text: str) -> str:
    """Plain text without control characters (line breaks kept)."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


class Outbox:
    """Queue and read e-mails in the `outbox` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def enqueue(self, message: OutboxMessage) -> bool:
        """Queue a message; False when one with the same idempotency key is already queued."""
        status = "pending" if message.recipient else "held"
        with self.db.transaction() as conn:
            row = conn.execute(
                "INSERT INTO outbox (idempotency_key, ticket_id, recipient, subject, body, template, status)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
                (
                    message.idempotency_key,
                    message.ticket_id,
                    message.recipient,
                    header_safe(message.subject),
                    body_safe(message.body),
                    message.template,
                    status,
                ),
            ).fetchone()
        return row is not None

    def list(
        self, *, status: str | None = None, ticket_id: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Messages, newest first, optionally of one status or ticket (bodies left out)."""
        if status is not None and status not in OUTBOX_STATUSES:
            raise InvalidInputError(f"unknown outbox status {status!r}; expected one of {', '.join(OUTBOX_STATUSES)}")
        with self.db.connection() as conn:
            return conn.execute(
                "SELECT id, ticket_id, recipient, subject, template, status, attempts, last_error, created_at, sent_at"
                " FROM outbox WHERE (%(status)s::text IS NULL OR status = %(status)s)"
                " AND (%(ticket)s::text IS NULL OR ticket_id = %(ticket)s)"
                " ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s",
                {"status": status, "ticket": ticket_id, "limit": limit, "offset": offset},
            ).fetchall()
