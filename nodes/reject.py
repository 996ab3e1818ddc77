"""Reply to an invalid ticket with the reasons, and end the thread."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from nodes import email_text
from nodes.compose_response import greeting
from nodes.context import TicketContext, context_of
from nodes.send_email import queue_email, thread_id
from state.agents import Email
from state.ticket import TicketState


def reject(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Tell the customer what is missing; the thread ends as rejected."""
    ticket, validation = state["ticket"], state["validation"]
    language = email_text.language_of(f"{ticket.subject} {ticket.body}")
    reasons = "\n".join(f"- {reason}" for reason in validation.reasons) or "-"
    email = Email(
        template="rejection",
        recipient=ticket.customer_email,
        subject=email_text.SUBJECT["rejection"][language].format(subject=ticket.subject or "-"),
        body="\n\n".join(
            [
                greeting(ticket, language),
                email_text.REJECTION_BODY[language].format(reasons=reasons),
                email_text.SIGNATURE[language],
            ]
        ),
    )
    ticket_id = thread_id()
    queue_email(context_of(runtime).outbox, email, ticket_id, f"{ticket_id}:rejection")
    return {"email": email, "status": "rejected", "path": ["reject"]}
