"""Records the ticket graph's nodes hand to its stores: queued e-mails, escalations, knowledge gaps and answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

SourceKind = Literal["faq", "chunk"]  # what an automatic answer was built on: an FAQ or a passage
FeedbackOutcome = Literal["closed", "retry", "escalated"]  # where the customer's verdict led the ticket


@dataclass(frozen=True)
class OutboxMessage:
    """One queued e-mail."""

    idempotency_key: str
    ticket_id: str
    recipient: str | None
    subject: str
    body: str
    template: str


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


@dataclass(frozen=True)
class KbGap:
    """One attempt of a ticket the knowledge base did not satisfy, with the entry that would have filled it."""

    ticket_id: str
    attempt: int
    category: str | None
    reformulation: str
    max_similarity: float | None
    outcome: str
    suggested_title: str | None = None
    suggested_outline: Sequence[str] = ()


@dataclass(frozen=True)
class SentAnswer:
    """One automatic answer to one attempt of a ticket, and the FAQ or passage it was built on."""

    ticket_id: str
    attempt: int
    query: str  # what the answer was retrieved for
    source_kind: SourceKind
    source_id: str  # the FAQ id, or the passage (chunk) id
    title: str = ""  # the source's title; the stored title falls back to the source id
    document_id: str | None = None  # the article a passage belongs to
    kb_confident: bool = False  # sent as "we are confident"
