"""Continuous-improvement agent (per ticket): record what the knowledge base lacked."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from nodes.context import TicketContext, context_of
from nodes.send_email import thread_id
from state.ticket import TicketState


def gap_outcome(state: TicketState) -> str | None:
    """Why this thread counts as a KB gap: it reached a person after the KB was searched."""
    if "solution" not in state:
        return None
    if state.get("status") == "escalated":
        return "escalated"
    return None


def improve(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Note the reformulation the KB could not answer, for `doxa improve report` and FAQ mining."""
    outcome = gap_outcome(state)
    if outcome is not None and "analysis" in state:
        solution = state["solution"]
        results = solution.results
        context_of(runtime).tickets.record_gap(
            ticket_id=thread_id(),
            attempt=state.get("attempt", 1),
            category=state["classification"].primary_category if "classification" in state else None,
            reformulation=state["analysis"].reformulation,
            max_similarity=max((float(str(r.get("similarity_score", 0.0))) for r in results), default=None),
            outcome=outcome,
        )
    return {"path": ["improve"]}
