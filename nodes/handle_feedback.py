"""Feedback handler agent: close, retry with the customer's clarification, or escalate."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from nodes.answer_log import note_verdict
from nodes.context import TicketContext, context_of
from nodes.llm_step import llm_or_offline
from nodes.prompts import READ_FEEDBACK
from nodes.send_email import thread_id
from state.agents import FeedbackAction, FeedbackDecision, FeedbackReading
from state.records import FeedbackOutcome
from state.ticket import CustomerFeedback, TicketState
from text.resolution import says_unsolved
from text.sentiment import analyze_sentiment

# What each decision means for the answer the customer judged.
_OUTCOME: dict[FeedbackAction, FeedbackOutcome] = {
    "close": "closed",
    "retry": "retry",
    "escalate": "escalated",
}


def read_feedback_offline(feedback: CustomerFeedback) -> FeedbackReading:
    """The customer's click, the lexicon's sentiment, and the comment itself as the clarification.

    A "satisfied" click whose comment says the problem is still there ("no, it still does not work") is
    read as not satisfied: the customer answered the question in words, and the click was a slip.
    """
    comment = (feedback.comment or "").strip()
    return FeedbackReading(
        satisfied=feedback.satisfied and not (comment and says_unsolved(comment)),
        strongly_negative=bool(comment) and analyze_sentiment(comment).strongly_negative,
        clarification=comment,
    )


def decide_on_feedback(reading: FeedbackReading, attempt: int, max_attempts: int) -> FeedbackDecision:
    """Satisfied: close. Not satisfied: retry while attempts remain and the customer is not angry, else escalate."""
    if reading.satisfied:
        return FeedbackDecision(action="close", message="the customer confirmed the answer solved the problem")
    if reading.strongly_negative:
        return FeedbackDecision(action="escalate", message="the customer is strongly dissatisfied")
    if attempt < max_attempts:
        return FeedbackDecision(action="retry", message=f"attempt {attempt + 1} of {max_attempts}")
    return FeedbackDecision(action="escalate", message=f"not solved after {attempt} attempts")


def read_feedback(
    feedback: CustomerFeedback, runtime: Runtime[TicketContext], state: TicketState
) -> tuple[FeedbackReading, dict[str, Any]]:
    """What the customer means: the LLM reads a comment, but can only make a 'satisfied' click less satisfied.

    A customer who clicked 'not satisfied' is never closed on an LLM's reading; one who clicked 'satisfied'
    but wrote that it still fails is not closed either. Without a comment there is nothing to read.
    """
    offline = read_feedback_offline(feedback)
    if not offline.clarification:
        return offline, {}
    ticket = state["ticket"]
    reading, fallback = llm_or_offline(
        runtime,
        "handle_feedback",
        READ_FEEDBACK,
        FeedbackReading,
        lambda: offline,
        subject=ticket.subject,
        body=ticket.body,
        clicked="satisfied" if feedback.satisfied else "not satisfied",
        comment=offline.clarification,
    )
    return (
        FeedbackReading(
            satisfied=feedback.satisfied and reading.satisfied,
            strongly_negative=offline.strongly_negative or reading.strongly_negative,
            clarification=reading.clarification.strip() or offline.clarification,
        ),
        fallback,
    )


def handle_feedback(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Turn the customer's answer into the next step of the thread (the attempt limit is a rule)."""
    feedback, attempt = state["feedback"], state.get("attempt", 1)
    reading, fallback = read_feedback(feedback, runtime, state)
    decision = decide_on_feedback(reading, attempt, context_of(runtime).policy.max_attempts)
    # The verdict is a label for the answer's FAQ or passage (first write wins, so a re-run adds nothing).
    outcome = _OUTCOME[decision.action]
    note_verdict(context_of(runtime).answers, state, thread_id(), satisfied=reading.satisfied, outcome=outcome)
    update: dict[str, Any] = {"feedback_decision": decision, "path": ["handle_feedback"], **fallback}
    if decision.action == "retry":
        update["attempt"] = attempt + 1
        update["status"] = "running"
        if reading.clarification:
            update["clarifications"] = [reading.clarification]
    elif decision.action == "escalate":
        update["escalation_reason"] = decision.message
    return update
