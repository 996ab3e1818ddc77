"""Query planner agent: decide up front whether the KB, a human, or the feature queue handles the ticket."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from nodes.context import TicketContext, context_of
from nodes.llm_step import llm_or_offline
from nodes.prompts import PLAN
from state.agents import Classification, PlanProposal, Priority, QueryAnalysis, QueryPlan, ResolutionPath, Validation
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


def apply_rules(proposal: PlanProposal, offline: QueryPlan, classification: Classification, floor: float) -> QueryPlan:
    """The LLM's path and steps, unless a rule decides: critical or poorly understood tickets go to people.

    Priority, confidence and the rule-driven paths stay deterministic; the LLM may send a ticket to a person or
    the feature queue where the rules would search the KB, never the other way round for a rule's escalation.
    """
    path = proposal.resolution_path
    critical = "critical" in (classification.severity, offline.priority_level)
    if critical or offline.analysis_confidence < floor:
        path = "escalation"
    steps = proposal.next_steps if path == proposal.resolution_path else _NEXT_STEPS[path]
    return offline.model_copy(
        update={
            "resolution_path": path,
            "next_steps": list(steps),
            "estimated_resolution_time": proposal.estimated_resolution_time,
        }
    )


def plan(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Choose the resolution path: the LLM proposes, the routing rules (tested at their thresholds) dispose."""
    ticket, classification = state["ticket"], state["classification"]
    floor = context_of(runtime).policy.plan_escalate_below
    offline = plan_resolution(state["validation"], state["analysis"], classification, state["priority"], floor)
    proposal, fallback = llm_or_offline(
        runtime,
        "plan",
        PLAN,
        PlanProposal,
        lambda: PlanProposal(
            resolution_path=offline.resolution_path,
            next_steps=offline.next_steps,
            estimated_resolution_time=offline.estimated_resolution_time,
        ),
        summary=state["analysis"].summary,
        body=ticket.body,
        category=classification.primary_category,
        severity=classification.severity,
        priority=offline.priority_level,
        confidence=offline.analysis_confidence,
    )
    query_plan = apply_rules(proposal, offline, classification, floor)
    update: dict[str, Any] = {"plan": query_plan, "path": ["plan"], **fallback}
    if query_plan.resolution_path == "escalation":
        update["escalation_reason"] = (
            "the ticket needs a person (critical, or not understood well enough)"
            if query_plan.resolution_path == offline.resolution_path
            else f"the planner sent it to a person: {proposal.reasoning or 'no reason given'}"
        )
    elif query_plan.resolution_path == "feature_queue":
        update["escalation_reason"] = "feature request, recorded for the product team"
    return update
