"""Wait for the customer's feedback: a node that only interrupts; handle_feedback acts on the answer."""

from __future__ import annotations

from typing import Any

from core.graph_runtime.edge import interrupt_until_valid
from state.ticket import CustomerFeedback, TicketState


def await_feedback(state: TicketState) -> dict[str, Any]:
    """Pause the thread until the API or CLI resumes it with a CustomerFeedback."""
    payload = {
        "question": "Did this answer solve the problem?",
        "attempt": state.get("attempt", 1),
        "resume_with": CustomerFeedback.model_json_schema(),
    }
    # A resume value that is no CustomerFeedback (Studio, a JSON client) waits again with the reason.
    feedback = interrupt_until_valid(CustomerFeedback, payload, "the customer's feedback")
    return {"feedback": feedback, "path": ["await_feedback"]}
