"""Wait for the customer's feedback: a node that only interrupts; handle_feedback acts on the answer."""

from __future__ import annotations

from typing import Any

from langgraph.types import interrupt

from state.ticket import CustomerFeedback, TicketState


def await_feedback(state: TicketState) -> dict[str, Any]:
    """Pause the thread until the API or CLI resumes it with a CustomerFeedback."""
    answer = interrupt(
        {
            "question": "Did this answer solve the problem?",
            "attempt": state.get("attempt", 1),
            "resume_with": CustomerFeedback.model_json_schema(),
        }
    )
    return {"feedback": CustomerFeedback.model_validate(answer), "path": ["await_feedback"]}
