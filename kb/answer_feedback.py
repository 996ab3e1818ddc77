"""What customers said about each automatic answer: labels for calibration, counts for reports (SQL here only).

Every answer the ticket graph sends is one row per ticket and attempt, naming the FAQ or passage it was built
on; the customer's verdict fills it in. A satisfied verdict confirms the source for that query, "not
satisfied" is a negative. The answer-confidence calibration reads `labels()`; `doxa improve report` and
/metrics read `source_stats()`.

Example:
    >>> store = AnswerFeedbackStore(db)
    >>> answer = SentAnswer(ticket_id="T-1", attempt=1, query="proxy refuses connections",
    ...                     source_kind="chunk", source_id="5f0c...", title="Proxy", document_id="connecting/proxy")
    >>> store.record_answer(answer)
    >>> store.record(answer, satisfied=True, outcome="closed")
    >>> store.labels()[0].satisfied
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from core.database import Database
from core.errors import InvalidInputError
from state.records import FeedbackOutcome, SentAnswer, SourceKind
from text.pii import redact_pii

_MAX_QUERY_CHARS = 4000


@dataclass(frozen=True)
class AnswerLabel:
    """One customer verdict on one answer: the query, the source it was answered from, and the verdict."""

    query: str
    source_kind: SourceKind
    source_id: str
    satisfied: bool
    created_at: datetime  # when the customer gave the verdict


@dataclass(frozen=True)
class AnswerSourceStats:
    """How one FAQ or article did as an automatic answer."""

    source_kind: SourceKind
    source_id: str  # the FAQ id, or the article (document) id
    title: str
    answers: int  # automatic answers built on it
    confident_answers: int  # of which sent as "we are confident"
    with_feedback: int
    satisfied: int
    not_satisfied: int
    escalated_after: int  # the customer's verdict on this answer led to a person

    @property
    def satisfaction(self) -> float | None:
        """Satisfied verdicts over all verdicts; None before the first one."""
        return self.satisfied / self.with_feedback if self.with_feedback else None

    @property
    def deflection(self) -> float | None:
        """Answered verdicts that did not end with a person: the share of tickets the source deflected."""
        return (self.with_feedback - self.escalated_after) / self.with_feedback if self.with_feedback else None


def _answer_row(answer: SentAnswer) -> tuple[Any, ...]:
    """The answer's columns in the order both INSERTs name them; refuses rows no reader could use.

    The rows are read later (reports, /metrics, calibration), so the query keeps placeholders, not the values;
    it is trimmed to a storable length.
    """
    if answer.source_kind not in get_args(SourceKind):
        raise InvalidInputError(f"source_kind must be 'faq' or 'chunk', not {answer.source_kind!r}")
    if not answer.ticket_id or not answer.source_id:
        raise InvalidInputError("an answer needs a ticket id and a source id")
    if answer.attempt < 1:
        raise InvalidInputError(f"attempt must be 1 or more, not {answer.attempt}")
    query = redact_pii(answer.query.strip()[:_MAX_QUERY_CHARS]).text
    if not query:
        raise InvalidInputError("an answer needs the query it was retrieved for")
    return (
        answer.ticket_id,
        answer.attempt,
        query,
        answer.source_kind,
        answer.source_id,
        answer.document_id,
        answer.title or answer.source_id,
        answer.kb_confident,
    )


class AnswerFeedbackStore:
    """Reads and writes the `answer_feedback` table (migration 0017)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record_answer(self, answer: SentAnswer) -> bool:
        """Note that an automatic answer was sent; False when this ticket's attempt was already noted."""
        row = _answer_row(answer)
        with self.db.transaction() as conn:
            inserted = conn.execute(
                "INSERT INTO answer_feedback (ticket_id, attempt, query, source_kind, source_id, document_id, title,"
                " kb_confident) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (ticket_id, attempt) DO NOTHING RETURNING id",
                row,
            ).fetchone()
        return inserted is not None

    def record(self, answer: SentAnswer, *, satisfied: bool, outcome: FeedbackOutcome) -> bool:
        """Store the customer's verdict on one answer; the first verdict per ticket and attempt wins.

        A resumed node records again with the same values, so this is idempotent: False when the verdict was
        already there. An answer sent before this table existed gets its row here.
        """
        row = _answer_row(answer)
        if outcome not in get_args(FeedbackOutcome):
            raise InvalidInputError(f"outcome must be one of {get_args(FeedbackOutcome)}, not {outcome!r}")
        with self.db.transaction() as conn:
            written = conn.execute(
                "INSERT INTO answer_feedback (ticket_id, attempt, query, source_kind, source_id, document_id, title,"
                " kb_confident, satisfied, outcome, answered_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())"
                " ON CONFLICT (ticket_id, attempt) DO UPDATE SET satisfied = EXCLUDED.satisfied,"
                " outcome = EXCLUDED.outcome, answered_at = EXCLUDED.answered_at"
                " WHERE answer_feedback.satisfied IS NULL RETURNING id",
                (*row, satisfied, outcome),
            ).fetchone()
        return written is not None

    def labels(self, since: datetime | None = None) -> list[AnswerLabel]:
        """Every verdict given (since a time, when asked), oldest first."""
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT query, source_kind, source_id, satisfied, answered_at AS created_at FROM answer_feedback"
                " WHERE satisfied IS NOT NULL AND (%(since)s::timestamptz IS NULL OR answered_at >= %(since)s)"
                " ORDER BY answered_at, id",
                {"since": since},
            ).fetchall()
        return [AnswerLabel(**row) for row in rows]

    def source_stats(self, since: datetime | None = None, *, limit: int = 50) -> list[AnswerSourceStats]:
        """Answers, verdicts and escalations per FAQ and per article, most answered first.

        Passages are counted per article (document), since re-ingesting an article gives its chunks new ids.
        An answer led to a person when its verdict escalated, or when it asked for a retry and the ticket was
        escalated with no later answer sent (the retry found nothing new).
        """
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT source_kind, CASE WHEN source_kind = 'chunk' THEN coalesce(document_id, source_id)"
                " ELSE source_id END AS source_id, max(title) AS title, count(*) AS answers,"
                " count(*) FILTER (WHERE kb_confident) AS confident_answers,"
                " count(satisfied) AS with_feedback, count(*) FILTER (WHERE satisfied) AS satisfied,"
                " count(*) FILTER (WHERE NOT satisfied) AS not_satisfied,"
                " count(*) FILTER (WHERE outcome = 'escalated' OR (outcome = 'retry'"
                "  AND EXISTS (SELECT 1 FROM escalation e WHERE e.ticket_id = a.ticket_id)"
                "  AND NOT EXISTS (SELECT 1 FROM answer_feedback later"
                "   WHERE later.ticket_id = a.ticket_id AND later.attempt > a.attempt))) AS escalated_after"
                " FROM answer_feedback a WHERE (%(since)s::timestamptz IS NULL OR created_at >= %(since)s)"
                " GROUP BY 1, 2 ORDER BY answers DESC, 1, 2 LIMIT %(limit)s",
                {"since": since, "limit": limit},
            ).fetchall()
        return [AnswerSourceStats(**row) for row in rows]
