"""Unified classifier agent: category, severity, treatment type and skills, each with a confidence."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from nodes.context import TicketContext, context_of
from nodes.llm_step import llm_or_offline
from nodes.prompts import CLASSIFY
from state.agents import Classification, Priority, QueryAnalysis, Severity, TreatmentType
from state.ticket import TicketState

_TREATMENT_BY_SEVERITY: dict[Severity, TreatmentType] = {
    "low": "standard",
    "medium": "standard",
    "high": "priority",
    "critical": "urgent",
}
_SKILLS_BY_CATEGORY = {
    "technique": ["troubleshooting", "product"],
    "facturation": ["billing"],
    "authentification": ["identity-and-access"],
    "feature_request": ["product-management"],
}
# The priority band is a direct reading of the scorer, so severity inherits a fixed, fairly high confidence.
_SEVERITY_CONFIDENCE = 0.8


def classify_offline(
    runtime: Runtime[TicketContext], analysis: QueryAnalysis, priority: Priority, text: str
) -> Classification:
    """The learned classifier for the category; severity, treatment and skills follow from it and the priority."""
    prediction = context_of(runtime).classifier.predict(text)
    severity: Severity = priority.priority
    skills = _SKILLS_BY_CATEGORY.get(prediction.label, ["general-support"])
    return Classification(
        primary_category=prediction.label,
        confidence_category=round(prediction.confidence, 4),
        severity=severity,
        confidence_severity=_SEVERITY_CONFIDENCE,
        treatment_type=_TREATMENT_BY_SEVERITY[severity],
        confidence_treatment=_SEVERITY_CONFIDENCE,
        required_skills=skills,
        confidence_skills=round(prediction.confidence, 4),
        alternatives=[(label, round(p, 4)) for label, p in prediction.alternatives],
    )


def classify(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Classify the ticket; an LLM answer outside the taxonomy is a fault (retried, then the offline answer)."""
    ticket, analysis, priority = state["ticket"], state["analysis"], state["priority"]
    text = f"{ticket.subject}\n{ticket.body}"
    categories = list(context_of(runtime).categories)

    def outside_taxonomy(answer: Classification) -> str | None:
        return None if answer.primary_category in categories else f"category {answer.primary_category!r} is unknown"

    classification, fallback = llm_or_offline(
        runtime,
        "classify",
        CLASSIFY,
        Classification,
        lambda: classify_offline(runtime, analysis, priority, text),
        check=outside_taxonomy,
        system_fields={"categories": ", ".join(categories)},
        summary=analysis.summary,
        body=ticket.body,
        keywords=", ".join(analysis.keywords),
    )
    return {"classification": classification, "path": ["classify"], **fallback}
