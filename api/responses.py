"""Response bodies of the ticket, knowledge-base, operations and sign-in endpoints, as /docs shows them.

They mirror what the routes returned before they were typed, key for key: routes whose bodies leave keys out
(a ticket accepted but not checkpointed yet, a KB status without a hint) answer with `exclude_unset`, so a
key is present exactly when the route set it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from core.timestamps import IsoTimestamp
from graph.ticket_service import TicketOutcome
from kb.ingest import FailedFile
from state.agents import (
    Classification,
    Escalation,
    Evaluation,
    FeedbackDecision,
    Priority,
    QueryAnalysis,
    QueryPlan,
    Solution,
    Validation,
)
from state.ticket import CustomerFeedback, TicketInput


class _Outcome(BaseModel):
    """What a ticket's summary and its details share."""

    thread_id: str = Field(description="The ticket's thread id.")
    status: str = Field(description="running, rejected, answered, awaiting_feedback, escalated or closed.")
    waiting_for_feedback: bool = Field(description="The thread waits for POST /tickets/{id}/feedback.")
    category: str | None = None
    kb_confident: bool | None = Field(default=None, description="Whether the knowledge base answered confidently.")
    answered_by: str | None = Field(default=None, description="What the answer came from (FAQ or knowledge base).")
    faq_id: int | None = Field(default=None, description="The FAQ that answered, if one did.")
    attempt: int = Field(default=1, description="Search attempts so far (feedback can start another).")
    email: dict[str, Any] | None = Field(default=None, description="The e-mail sent: template, subject, body.")
    escalation_id: str | None = None
    path: list[str] = Field(default=[], description="The nodes the thread passed through.")
    fallbacks: list[str] = Field(default=[], description="Nodes that used their offline fallback.")


class TicketSummary(_Outcome):
    """Where a thread stands after a run or a resume."""

    priority: str | None = Field(default=None, description="low, medium, high or critical.")

    @classmethod
    def from_outcome(cls, outcome: TicketOutcome) -> TicketSummary:
        """The outcome without its raw state values."""
        return cls.model_validate(outcome.model_dump(exclude={"values"}))


class TicketAccepted(BaseModel):
    """A ticket accepted with `?async=true`: its run continues in the background."""

    thread_id: str
    status: Literal["running"]
    events: str = Field(description="Where to follow the run (server-sent events).")


class TicketEmail(BaseModel):
    """An e-mail queued for the ticket (its body left out)."""

    id: int
    ticket_id: str
    recipient: str | None
    subject: str
    template: str
    status: str = Field(description="pending, sent, failed or held.")
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class EscalationView(BaseModel):
    """The hand-off record of an escalated ticket."""

    id: str
    team: str
    reason: str
    status: str = Field(description="open, assigned or resolved.")
    resolution: str | None
    resolved_by: str | None
    created_at: datetime
    resolved_at: datetime | None


class TicketDetails(_Outcome):
    """A thread's summary with the state the graph built.

    While a ticket is accepted but not checkpointed yet, only `thread_id`, `status`, `waiting_for_feedback` and
    `running` are sent.
    """

    running: bool = Field(description="A run is in progress, here or on another replica.")
    ticket: TicketInput | None = None
    validation: Validation | None = None
    priority: Priority | None = Field(default=None, description="The priority agent's assessment.")
    analysis: QueryAnalysis | None = None
    classification: Classification | None = None
    plan: QueryPlan | None = None
    solution: Solution | None = None
    evaluation: Evaluation | None = None
    feedback: CustomerFeedback | None = None
    feedback_decision: FeedbackDecision | None = None
    escalation: Escalation | None = None
    escalation_reason: str | None = None
    clarifications: list[str] | None = None
    emails: list[TicketEmail] = []
    escalation_record: EscalationView | None = None


class TicketListItem(BaseModel):
    """One thread in a listing."""

    id: str
    subject: str
    status: str
    priority: str | None
    category: str | None
    attempt: int
    kb_confident: bool | None
    escalation_id: str | None
    created_at: datetime
    updated_at: datetime


class TicketPage(BaseModel):
    """A page of threads, most recent activity first."""

    items: list[TicketListItem]
    limit: int
    offset: int


class KbStatus(BaseModel):
    """The knowledge base in one summary."""

    documents: int
    sections: int
    chunks: int
    revision: int
    updated_at: IsoTimestamp
    embedding_model: str
    embedding_dim: int
    models_in_kb: list[str] = Field(description="Embedding models the stored chunks were embedded with.")
    vector_store: dict[str, Any] = Field(description="The vector store's health: status, backend, vector_count…")
    hint: str | None = Field(default=None, description="What to run when the vector store and the chunks differ.")


class UploadReport(BaseModel):
    """An uploaded document's ingest report."""

    filename: str
    source: str
    files_read: int
    documents_added: int
    documents_updated: int
    documents_unchanged: int
    documents_removed: int
    chunks_added: int
    chunks_updated: int
    chunks_removed: int
    chunks_unchanged: int
    vectors_rebuilt: int
    failed: list[FailedFile]
    skipped: list[str]
    pages_without_text: dict[str, list[int]]
    seconds: float


class Liveness(BaseModel):
    """The process is up; `degraded` (503) while the embedded PostgreSQL it supervises is restarted."""

    status: Literal["ok", "degraded"]
    postgres: str | None = Field(default=None, description="Only when degraded: what happened to PostgreSQL.")


class Readiness(BaseModel):
    """Each dependency's check (`ok`, `empty`, or what failed)."""

    status: Literal["ready", "not ready"]
    checks: dict[str, str]


class SignInMethods(BaseModel):
    """How the console can sign in."""

    password: bool = Field(description="Local users (a JWT secret is set and auth is on).")
    token: bool = Field(description="A pasted bearer token or API key.")
