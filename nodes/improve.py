"""Continuous-improvement agent (per ticket): record what the knowledge base lacked and what would fill the gap."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from nodes.context import TicketContext, context_of
from nodes.llm_step import llm_or_offline
from nodes.prompts import SUGGEST_KB_ENTRY
from nodes.send_email import thread_id
from state.agents import KnowledgeGapSuggestion
from state.records import KbGap
from state.ticket import TicketState

_OUTLINE_FROM_KEYWORDS = 5


def gap_outcome(state: TicketState) -> str | None:
    """Why this thread counts as a KB gap: it reached a person after the KB was searched."""
    if "solution" not in state:
        return None
    if state.get("status") == "escalated":
        return "escalated"
    return None


def suggest_offline(state: TicketState, fallback_category: str) -> KnowledgeGapSuggestion:
    """The reformulated question as the title, its keywords and the customer's clarifications as the outline."""
    analysis = state["analysis"]
    title = analysis.reformulation.strip()[:150]
    if len(title) < 3:
        title = state["ticket"].subject[:150].ljust(3, ".")
    outline = [f"Explain: {keyword}" for keyword in analysis.keywords[:_OUTLINE_FROM_KEYWORDS]]
    outline += [f"Cover the case: {c}"[:200] for c in state.get("clarifications", [])]
    category = state["classification"].primary_category if "classification" in state else fallback_category
    return KnowledgeGapSuggestion(title=title, outline=outline[:8] or [f"Answer: {title}"], category=category)


def suggest_entry(
    state: TicketState, runtime: Runtime[TicketContext], outcome: str
) -> tuple[KnowledgeGapSuggestion, dict[str, Any]]:
    """The KB entry to write for this gap: the LLM proposes it, in a category of the taxonomy."""
    categories = list(context_of(runtime).categories)

    def outside_taxonomy(suggestion: KnowledgeGapSuggestion) -> str | None:
        return None if suggestion.category in categories else f"category {suggestion.category!r} is not configured"

    results = state["solution"].results
    passages = "\n".join(f"- {str(r.get('chunk_text', ''))[:300]}" for r in results[:3]) or "(none)"
    return llm_or_offline(
        runtime,
        "improve",
        SUGGEST_KB_ENTRY,
        KnowledgeGapSuggestion,
        lambda: suggest_offline(state, categories[-1] if categories else "autre"),
        check=outside_taxonomy,
        system_fields={"categories": ", ".join(categories)},
        reformulation=state["analysis"].reformulation,
        passages=passages,
        outcome=outcome,
    )


def improve(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Note the reformulation the KB could not answer, for `doxa improve report` and FAQ mining."""
    outcome = gap_outcome(state)
    if outcome is None or "analysis" not in state:
        return {"path": ["improve"]}
    suggestion, fallback = suggest_entry(state, runtime, outcome)
    results = state["solution"].results
    gap = KbGap(
        ticket_id=thread_id(),
        attempt=state.get("attempt", 1),
        category=state["classification"].primary_category if "classification" in state else None,
        reformulation=state["analysis"].reformulation,
        max_similarity=max((float(str(r.get("similarity_score", 0.0))) for r in results), default=None),
        outcome=outcome,
        suggested_title=suggestion.title,
        suggested_outline=suggestion.outline,
    )
    context_of(runtime).tickets.record_gap(gap)
    return {"kb_suggestion": suggestion, "path": ["improve"], **fallback}
