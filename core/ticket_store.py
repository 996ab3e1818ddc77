"""Ticket threads' listing projection, escalation records and knowledge gaps (SQL in one place)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from core.database import Database


@dataclass(frozen=True)
class TicketRow:
    """The listing projection of one thread, written after every run or resume."""

    id: str
    subject: str
    customer_email: str | None
    status: str
    priority: str | None
    category: str | None
    attempt: int
    kb_confident: bool | None
    escalation_id: str | None


@dataclass(frozen=True)
class EscalationRecord:
    """A hand-off to a human team with the full context of the thread."""

    id: str
    ticket_id: str
    team: str
    reason: str
    priority: str | None
    category: str | None
    suggested_skills: Sequence[str]
    context: dict[str, Any]


class TicketStore:
    """Reads and writes the `ticket`, `escalation` and `kb_gap` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, row: TicketRow) -> None:
        """Insert or refresh the projection of one thread."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO ticket (id, subject, customer_email, status, priority, category, attempt,"
                " kb_confident, escalation_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, priority = EXCLUDED.priority,"
                " category = EXCLUDED.category, attempt = EXCLUDED.attempt,"
                " kb_confident = EXCLUDED.kb_confident, escalation_id = EXCLUDED.escalation_id,"
                " updated_at = now()",
                (
                    row.id,
                    row.subject,
                    row.customer_email,
                    row.status,
                    row.priority,
                    row.category,
                    row.attempt,
                    row.kb_confident,
                    row.escalation_id,
                ),
            )

    def exists(self, ticket_id: str) -> bool:
        """Whether a thread with this id was ever started."""
        with self.db.connection() as conn:
            return conn.execute("SELECT 1 FROM ticket WHERE id = %s", (ticket_id,)).fetchone() is not None

    def list(self, status: str | None = None, *, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """Threads, most recently updated first, optionally of one status."""
        with self.db.connection() as conn:
            return conn.execute(
                "SELECT id, subject, status, priority, category, attempt, kb_confident, escalation_id,"
                " created_at, updated_at FROM ticket WHERE (%(status)s::text IS NULL OR status = %(status)s)"
                " ORDER BY updated_at DESC, id LIMIT %(limit)s OFFSET %(offset)s",
                {"status": status, "limit": limit, "offset": offset},
            ).fetchall()

    def open_escalation(self, record: EscalationRecord) -> str:
        """Record a hand-off once per ticket; returns the id of the record that exists afterwards."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO escalation (id, ticket_id, team, reason, priority, category, suggested_skills, context)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (ticket_id) DO NOTHING",
                (
                    record.id,
                    record.ticket_id,
                    record.team,
                    record.reason,
                    record.priority,
                    record.category,
                    list(record.suggested_skills),
                    Jsonb(record.context),
                ),
            )
            row = conn.execute("SELECT id FROM escalation WHERE ticket_id = %s", (record.ticket_id,)).fetchone()
        assert row is not None  # inserted or already there, inside the same transaction
        return str(row["id"])

    def escalation(self, escalation_id: str) -> dict[str, Any] | None:
        """One escalation record."""
        with self.db.connection() as conn:
            return conn.execute("SELECT * FROM escalation WHERE id = %s", (escalation_id,)).fetchone()

    def record_gap(
        self,
        *,
        ticket_id: str,
        attempt: int,
        category: str | None,
        reformulation: str,
        max_similarity: float | None,
        outcome: str,
    ) -> None:
        """Note that the KB did not satisfy one attempt of a ticket (idempotent per attempt and outcome)."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO kb_gap (ticket_id, attempt, category, reformulation, max_similarity, outcome)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (ticket_id, attempt, category, reformulation, max_similarity, outcome),
            )
