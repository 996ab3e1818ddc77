"""Query planner agent: decide up front whether the KB, a human, or the feature queue handles the ticket."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from nodes.context import TicketContext, context_of
from state.agents import Classification, Priority, QueryAnalysis, QueryPlan, ResolutionPath, Validation
from state.ticket import TicketState

_ESTIMATES = {"critical": "within 1 hour", "high": "within 4 hours", "medium": "within 1 day", "low": "within 3 days"}
_NEXT_STEPS: dict[ResolutionPath, list[str]] = {
    "kb_retrieval": ["search the knowledge base", "answer the customer", "ask whether it solved the problem"],
    "escalation": ["hand the ticket to a human team with its analysis"],
    "feature_queue": ["record the request for the product team", "tell the customer it was recorded"],
}


def analysis_confidence(validation: Validation, analysis: QueryAnalysis, classification: Classification) -> float:
    """How much the upstream agents agree that the ticket is understood (0-1)."""
    reformulation = max(0.0, min(1.0, analysis.reformulation_similarity))
    return round(0.5 * classification.overall_confidence + 0.3 * validation.confidence + 0.2 * reformulation, 4)


def choose_path(classification: Classification, confidence: float, escalate_below: float) -> ResolutionPath:
    """Feature requests are queued, critical or poorly understood tickets go to people, the rest to the KB."""
    if classification.primary_category == "feature_request":
        return "feature_queue"
    if classification.severity == "critical" or confidence < escalate_below:
        return "escalation"
    return "kb_retrieval"


def plan_resolution(
    validation: Validation, analysis: QueryAnalysis, classification: Classification, priority: Priority, floor: float
) -> QueryPlan:
    """The resolution plan from the upstream agents' outputs."""
    confidence = analysis_confidence(validation, analysis, classification)
    path = choose_path(classification, confidence, floor)
    return QueryPlan(
        resolution_path=path,
        priority_level=priority.priority,
        next_steps=_NEXT_STEPS[path],
        analysis_confidence=confidence,
        estimated_resolution_time=_ESTIMATES[priority.priority],
    )


def plan(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Choose the resolution path (deterministic: a routing rule, auditable and tested at its thresholds)."""
    query_plan = plan_resolution(
        state["validation"],
        state["analysis"],
        state["classification"],
        state["priority"],
        context_of(runtime).policy.plan_escalate_below,
    )
    update: dict[str, Any] = {"plan": query_plan, "path": ["plan"]}
    if query_plan.resolution_path == "escalation":
        update["escalation_reason"] = "the ticket needs a person (critical, or not understood well enough)"
    elif query_plan.resolution_path == "feature_queue":
        update["escalation_reason"] = "feature request, recorded for the product team"
    return update
