"""Ticket threads' listing projection, escalation records and knowledge gaps (SQL in one place)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from psycopg.types.json import Jsonb

from core.database import Database
from core.errors import ConflictError, InvalidInputError, NotFoundError
from state.records import EscalationRecord, KbGap
from text.pii import redact_texts

EscalationDimension = Literal["category", "team", "reason"]
# Aliases, because inside TicketStore `list` names its method, not the builtin.
Rows = list[dict[str, Any]]
NamedCounts = list[tuple[str | None, int]]

# Fixed statements per dimension: the column name never comes from the caller's text.
_ESCALATION_COUNTS: dict[EscalationDimension, str] = {
    dimension: f"SELECT {dimension} AS name, count(*) AS count FROM escalation"
    " WHERE (%(since)s::timestamptz IS NULL OR created_at >= %(since)s)"
    f" GROUP BY {dimension} ORDER BY count DESC, {dimension} NULLS LAST"
    for dimension in ("category", "team", "reason")
}


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

    def create(self, row: TicketRow) -> bool:
        """Insert the projection of a new thread; False when the id is taken (atomic across processes)."""
        with self.db.transaction() as conn:
            inserted = conn.execute(
                "INSERT INTO ticket (id, subject, customer_email, status, attempt) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (id) DO NOTHING RETURNING id",
                (row.id, row.subject, row.customer_email, row.status, row.attempt),
            ).fetchone()
        return inserted is not None

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

    def record_gap(self, gap: KbGap) -> None:
        """Note that the KB did not satisfy one attempt of a ticket (idempotent per attempt and outcome).

        The texts are read later by people (`doxa improve report`) and by the FAQ miner, so they are stored
        redacted, with the kinds of personal data found instead of the values.
        """
        (reformulation, title, *outline), kinds = redact_texts(
            [gap.reformulation, gap.suggested_title or "", *gap.suggested_outline]
        )
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO kb_gap (ticket_id, attempt, category, reformulation, max_similarity, outcome,"
                " suggested_title, suggested_outline, pii_kinds)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (
                    gap.ticket_id,
                    gap.attempt,
                    gap.category,
                    reformulation,
                    gap.max_similarity,
                    gap.outcome,
                    title if gap.suggested_title is not None else None,
                    outline,
                    [str(kind) for kind in kinds],
                ),
            )

    def status_counts(self, since: datetime | None = None) -> dict[str, int]:
        """Threads created since `since` (all when None), counted by status."""
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT status, count(*) AS count FROM ticket"
                " WHERE (%(since)s::timestamptz IS NULL OR created_at >= %(since)s) GROUP BY status ORDER BY status",
                {"since": since},
            ).fetchall()
        return {str(row["status"]): int(row["count"]) for row in rows}

    def escalated_ticket_count(self, since: datetime | None = None) -> int:
        """Threads created since `since` that have an escalation record (whatever their status now)."""
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT count(*) AS count FROM ticket t"
                " WHERE (%(since)s::timestamptz IS NULL OR t.created_at >= %(since)s)"
                " AND EXISTS (SELECT 1 FROM escalation e WHERE e.ticket_id = t.id)",
                {"since": since},
            ).fetchone()
        return int(row["count"]) if row else 0

    def escalation_counts(self, by: EscalationDimension, since: datetime | None = None) -> NamedCounts:
        """Escalations opened since `since`, counted by category, team or reason, most frequent first."""
        with self.db.connection() as conn:
            rows = conn.execute(_ESCALATION_COUNTS[by], {"since": since}).fetchall()
        return [(row["name"], int(row["count"])) for row in rows]

    def gaps_since(self, since: datetime | None = None) -> Rows:
        """Knowledge gaps recorded since `since`, oldest first.

        Rows written before gaps were redacted on the way in (migration 0018) are redacted on the way out.
        """
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT id, ticket_id, attempt, category, reformulation, max_similarity, outcome,"
                " suggested_title, suggested_outline, pii_kinds, created_at"
                " FROM kb_gap WHERE (%(since)s::timestamptz IS NULL OR created_at >= %(since)s)"
                " ORDER BY created_at, id",
                {"since": since},
            ).fetchall()
        for row in rows:
            texts = [row["reformulation"], row["suggested_title"] or "", *row["suggested_outline"]]
            (row["reformulation"], title, *row["suggested_outline"]), _ = redact_texts(texts)
            row["suggested_title"] = title if row["suggested_title"] is not None else None
        return rows

    def resolve_escalation(self, escalation_id: str, resolution: str, resolved_by: str | None) -> dict[str, Any]:
        """Close a hand-off with the human's resolution; returns the updated record.

        Raises NotFoundError for an unknown id and ConflictError when the escalation is already resolved; the
        row lock taken by UPDATE makes the second of two concurrent resolutions the conflicting one.
        """
        if not resolution.strip():
            raise InvalidInputError("a resolution needs some text: what the person did to solve the ticket")
        with self.db.transaction() as conn:
            row = conn.execute(
                "UPDATE escalation SET status = 'resolved', resolution = %s, resolved_at = now(), resolved_by = %s"
                " WHERE id = %s AND status <> 'resolved' RETURNING *",
                (resolution.strip(), resolved_by, escalation_id),
            ).fetchone()
            if row is None:
                existing = conn.execute("SELECT resolved_at FROM escalation WHERE id = %s", (escalation_id,)).fetchone()
                if existing is None:
                    raise NotFoundError(f"no escalation {escalation_id}")
                when = existing["resolved_at"]
                raise ConflictError(f"escalation {escalation_id} was already resolved at {when:%Y-%m-%d %H:%M %Z}")
        return row

    def resolved_escalations(self, since: datetime | None = None, escalation_id: str | None = None) -> Rows:
        """Resolved escalations (resolved since `since`, or the one with this id) with the thread's subject."""
        with self.db.connection() as conn:
            return conn.execute(
                "SELECT e.*, t.subject AS ticket_subject FROM escalation e LEFT JOIN ticket t ON t.id = e.ticket_id"
                " WHERE e.status = 'resolved'"
                " AND (%(since)s::timestamptz IS NULL OR e.resolved_at >= %(since)s)"
                " AND (%(id)s::text IS NULL OR e.id = %(id)s) ORDER BY e.resolved_at, e.id",
                {"since": since, "id": escalation_id},
            ).fetchall()
