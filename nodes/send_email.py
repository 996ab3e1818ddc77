"""Queue the composed answer in the outbox (idempotent, so a re-run sends nothing twice)."""

from __future__ import annotations

from typing import Any

from langgraph.config import get_config
from langgraph.runtime import Runtime

from nodes.answer_log import note_answer_sent
from nodes.context import MessageOutbox, TicketContext, context_of
from state.agents import Email
from state.records import OutboxMessage
from state.ticket import TicketState


def thread_id() -> str:
    """The id of the running thread, which is the ticket id."""
    return str(get_config()["configurable"]["thread_id"])


def passage_id(result: dict[str, object]) -> str:
    """The chunk id of a retrieved passage."""
    metadata = result.get("metadata")
    return str(metadata.get("chunk_id", "")) if isinstance(metadata, dict) else ""


def section_of(result: dict[str, object]) -> str | None:
    """The section id of a retrieved passage (FAQs have none)."""
    metadata = result.get("metadata")
    section = metadata.get("section_id") if isinstance(metadata, dict) else None
    return str(section) if section else None


def queue_email(outbox: MessageOutbox, email: Email, ticket_id: str, idempotency_key: str) -> bool:
    """Put a composed e-mail in the outbox; False when that key was already queued (a re-run)."""
    return outbox.enqueue(
        OutboxMessage(
            idempotency_key=idempotency_key,
            ticket_id=ticket_id,
            recipient=email.recipient,
            subject=email.subject,
            body=email.body,
            template=email.template,
        )
    )


def send_email(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Put the answer in the outbox; a confident answer is 'answered', the others await feedback."""
    email, attempt = state["email"], state.get("attempt", 1)
    ticket_id = thread_id()
    queue_email(context_of(runtime).outbox, email, ticket_id, f"{ticket_id}:{attempt}:{email.template}")
    note_answer_sent(context_of(runtime).answers, state, ticket_id)
    status = "answered" if email.template == "auto_confident" else "awaiting_feedback"
    # The passage the answer was built on: a retry after "not satisfied" looks for another one.
    solution = state.get("solution")
    shown = [passage_id(solution.results[0])] if solution and solution.results else []
    # Its section too: the answer may have shown the whole section, so no other chunk of it is new.
    section = section_of(solution.results[0]) if solution and solution.results else None
    return {
        "status": status,
        "shown_chunk_ids": shown,
        "shown_section_ids": [section] if section else [],
        "path": ["send_email"],
    }
