"""Feedback handler agent: close, retry with the customer's clarification, or escalate."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from core.sentiment import analyze_sentiment
from nodes.context import TicketContext, context_of
from state.agents import FeedbackDecision
from state.ticket import CustomerFeedback, TicketState


def decide_on_feedback(feedback: CustomerFeedback, attempt: int, max_attempts: int) -> FeedbackDecision:
    """Satisfied: close. Not satisfied: retry while attempts remain and the customer is not angry, else escalate."""
    if feedback.satisfied:
        return FeedbackDecision(action="close", message="the customer confirmed the answer solved the problem")
    if feedback.comment and analyze_sentiment(feedback.comment).strongly_negative:
        return FeedbackDecision(action="escalate", message="the customer is strongly dissatisfied")
    if attempt < max_attempts:
        return FeedbackDecision(action="retry", message=f"attempt {attempt + 1} of {max_attempts}")
    return FeedbackDecision(action="escalate", message=f"not solved after {attempt} attempts")


def handle_feedback(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Turn the customer's answer into the next step of the thread."""
    feedback, attempt = state["feedback"], state.get("attempt", 1)
    decision = decide_on_feedback(feedback, attempt, context_of(runtime).policy.max_attempts)
    update: dict[str, Any] = {"feedback_decision": decision, "path": ["handle_feedback"]}
    if decision.action == "retry":
        update["attempt"] = attempt + 1
        update["status"] = "running"
        if feedback.comment:
            update["clarifications"] = [feedback.comment]
    elif decision.action == "escalate":
        update["escalation_reason"] = decision.message
    return update
