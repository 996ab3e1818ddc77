"""Evaluator agent: combine the confidence signals, check for sensitive data and anger, answer or escalate."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from core.pii import detect_pii
from core.sentiment import analyze_sentiment
from nodes.context import TicketContext, context_of
from nodes.policy import TicketPolicy
from state.agents import Classification, Evaluation, QueryAnalysis, Solution, Validation
from state.ticket import TicketState


def combined_confidence(
    policy: TicketPolicy,
    solution: Solution,
    classification: Classification,
    validation: Validation,
    analysis: QueryAnalysis,
) -> float:
    """Seed 004: 0.40 KB signal (step function) + 0.30 classifier + 0.20 validation + 0.10 reformulation."""
    w_kb, w_classifier, w_validation, w_reformulation = policy.confidence_weights
    reformulation = (
        1.0
        if analysis.reformulation_similarity >= policy.reformulation_min_similarity
        else max(0.0, analysis.reformulation_similarity)
    )
    total = (
        w_kb * policy.kb_signal(solution.confidence)
        + w_classifier * classification.overall_confidence
        + w_validation * validation.confidence
        + w_reformulation * reformulation
    )
    return round(min(1.0, max(0.0, total)), 4)


def evaluate(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Escalate on low confidence, sensitive personal data, strong negativity or an empty answer."""
    policy = context_of(runtime).policy
    ticket, solution = state["ticket"], state["solution"]
    text = "\n".join([ticket.subject, ticket.body, *state.get("clarifications", [])])
    confidence = combined_confidence(policy, solution, state["classification"], state["validation"], state["analysis"])
    sensitive_kinds = sorted({str(f.kind) for f in detect_pii(text)} & policy.escalate_on_pii)
    negative = analyze_sentiment(text).strongly_negative
    reasons = []
    if not solution.solution_text:
        reasons.append("the knowledge base has no answer")
    if confidence < policy.escalate_below:
        reasons.append(f"confidence {confidence:.2f} is below {policy.escalate_below:.2f}")
    if sensitive_kinds:
        reasons.append(f"sensitive data in the ticket ({', '.join(sensitive_kinds)})")
    if negative:
        reasons.append("the customer is strongly dissatisfied")
    evaluation = Evaluation(
        confidence=confidence,
        escalate=bool(reasons),
        sensitive=bool(sensitive_kinds),
        negative_sentiment=negative,
        reason="; ".join(reasons),
    )
    update: dict[str, Any] = {"evaluation": evaluation, "path": ["evaluate"]}
    if evaluation.escalate:
        update["escalation_reason"] = evaluation.reason
    return update
