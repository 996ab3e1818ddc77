"""Validator agent: refuse tickets too vague or too short to act on."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from nodes import email_text
from nodes.context import TicketContext
from nodes.llm_step import llm_or_offline
from nodes.prompts import VALIDATE
from state.agents import Validation
from state.ticket import TicketInput, TicketState
from text.analysis import vagueness


def validate_offline(subject: str, body: str) -> Validation:
    """Length and vagueness checks (docs/design.md §3.1: at least 20 characters that say something).

    Subject and body are judged together: a terse subject over a detailed description is workable.
    """
    text = f"{subject}\n{body}"
    report = vagueness(text)
    valid = not (report.too_short or report.vague)
    language = email_text.language_of(text)
    reasons = [email_text.REJECTION_REASONS.get(code, {}).get(language, code) for code in report.reasons]
    return Validation(valid=valid, reasons=reasons, confidence=0.9 if valid else 0.8)


def validate(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Check the ticket has enough substance to work on."""
    # Callers that pass plain JSON (LangGraph Studio, the HTTP API) give a dict: validate it once, here.
    ticket = TicketInput.model_validate(state["ticket"])
    validation, fallback = llm_or_offline(
        runtime,
        "validate",
        VALIDATE,
        Validation,
        lambda: validate_offline(ticket.subject, ticket.body),
        subject=ticket.subject,
        body=ticket.body,
    )
    return {
        "ticket": ticket,
        "validation": validation,
        "attempt": state.get("attempt", 1),
        "path": ["validate"],
        **fallback,
    }
