"""Solution finder agent: retrieve passages from the knowledge base with their confidence signals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.runtime import Runtime

from nodes.context import TicketContext, context_of
from state.agents import AnswerSource, Citation, Solution
from state.ticket import TicketState


def solution_from_retrieval(retrieved: Mapping[str, Any]) -> Solution:
    """Map `retrieve_kb_context`'s contract onto the solution the evaluator and composer read."""
    results = list(retrieved.get("results", []))
    signals = retrieved.get("metadata", {})
    citations: list[Citation] = []
    seen: set[tuple[str, str]] = set()
    for result in results[:3]:
        meta = result.get("metadata", {})
        key = (str(meta.get("source", "")), str(meta.get("section", "")))
        if key in seen:
            continue
        seen.add(key)
        kind: AnswerSource = "faq" if meta.get("kind") == "faq" else "documents"
        citations.append(Citation(title=str(meta.get("title") or key[0]), source=key[0], section=key[1], kind=kind))
    return Solution(
        results=results,
        solution_text=str(results[0]["chunk_text"]) if results else "",
        confidence=float(signals.get("confidence_score", signals.get("mean_similarity", 0.0))),
        kb_confident=bool(signals.get("kb_confident", False)),
        kb_limit_reached=bool(signals.get("kb_limit_reached", False)),
        citations=citations,
        answered_by=citations[0].kind if citations else "none",
    )


def find_solution(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Search the KB with the reformulation, keywords and category (the category is dropped if it finds nothing)."""
    analysis, classification = state["analysis"], state["classification"]
    policy = context_of(runtime).policy

    def search(category: str | None) -> Mapping[str, Any]:
        return context_of(runtime).retriever.retrieve(
            analysis.reformulation,
            analysis.keywords,
            category,
            top_k=policy.top_k,
            score_threshold=policy.score_threshold,
            kb_confidence_threshold=policy.kb_confidence_threshold,
            attempt_number=state.get("attempt", 1),
            max_retrieval_attempts=policy.max_attempts,
        )

    retrieved = search(classification.primary_category)
    if not retrieved.get("results"):
        retrieved = search(None)
    return {"solution": solution_from_retrieval(retrieved), "path": ["find_solution"]}
