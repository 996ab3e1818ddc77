"""The state of one ticket thread, what starts it, and what resumes it."""

from __future__ import annotations

import operator
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

# pydantic builds JSON schemas (Studio's input form) only from typing_extensions' TypedDict on Python 3.11.
from typing_extensions import TypedDict

from state.agents import (
    Classification,
    Email,
    Escalation,
    Evaluation,
    FeedbackDecision,
    KnowledgeGapSuggestion,
    Priority,
    QueryAnalysis,
    QueryPlan,
    Solution,
    Validation,
)

TicketStatus = Literal["running", "rejected", "answered", "awaiting_feedback", "escalated", "closed"]

MAX_SUBJECT_CHARS = 500
MAX_BODY_CHARS = 50_000


class TicketInput(BaseModel):
    """A ticket as a support tool submits it."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str | None = Field(default=None, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    subject: str = Field(max_length=MAX_SUBJECT_CHARS)
    body: str = Field(max_length=MAX_BODY_CHARS)
    customer_email: EmailStr | None = None
    customer_name: str | None = Field(default=None, max_length=200)


class CustomerFeedback(BaseModel):
    """The customer's answer to a proposed solution: the value that resumes a waiting thread."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    satisfied: bool
    comment: str | None = Field(default=None, max_length=10_000)


class TicketState(TypedDict, total=False):
    """Everything the graph knows about one ticket; each node returns only the keys it changes."""

    ticket: TicketInput
    validation: Validation
    priority: Priority
    analysis: QueryAnalysis
    classification: Classification
    plan: QueryPlan
    solution: Solution
    evaluation: Evaluation
    email: Email
    feedback: CustomerFeedback
    feedback_decision: FeedbackDecision
    escalation: Escalation
    escalation_reason: str
    kb_suggestion: KnowledgeGapSuggestion
    status: TicketStatus
    attempt: int
    clarifications: Annotated[list[str], operator.add]
    shown_chunk_ids: Annotated[list[str], operator.add]
    shown_section_ids: Annotated[list[str], operator.add]  # sections sent whole or in part: a retry skips them
    answer_digests: Annotated[list[str], operator.add]  # every answer text sent, so none is sent twice
    repeats_earlier_answer: bool  # compose found nothing it had not already sent: escalate honestly
    path: Annotated[list[str], operator.add]
    fallbacks: Annotated[list[str], operator.add]
    llm_errors: Annotated[list[str], operator.add]


class TicketGraphInput(TypedDict):
    """What a caller passes to start a thread."""

    ticket: TicketInput
