"""Query analyzer agent: summary, a reformulation for the KB, keywords and entities."""

from __future__ import annotations

import re
from typing import Any

from langgraph.runtime import Runtime

from nodes.context import TicketContext, context_of
from nodes.llm_step import llm_or_offline
from nodes.prompts import ANALYZE
from state.agents import Entities, QueryAnalysis
from state.ticket import TicketState
from text.analysis import extract_entities, extract_keywords

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_REFORMULATION_CHARS = 400


def ticket_text(subject: str, body: str, clarifications: list[str]) -> str:
    """The text the analysis works on: subject, body and what the customer added since."""
    parts = [subject.strip(), body.strip(), *[c.strip() for c in clarifications if c.strip()]]
    return "\n".join(p for p in parts if p)


def analyze_offline(subject: str, body: str, clarifications: list[str]) -> QueryAnalysis:
    """Extractive analysis: the subject and the first sentences as the query, ranked keywords, regex entities."""
    text = ticket_text(subject, body, clarifications)
    sentences = [s for s in _SENTENCE_END.split(body.strip()) if s]
    summary = sentences[0][:300] if sentences else subject
    query_parts = [subject.strip(), *sentences[:2], *clarifications[-1:]]
    reformulation = " ".join(p for p in query_parts if p)[:_REFORMULATION_CHARS]
    found = extract_entities(text)
    entities = Entities(
        error_codes=list(found.error_codes),
        versions=list(found.versions),
        platforms=list(found.platforms),
        components=list(found.components),
    )
    return QueryAnalysis(
        summary=summary, reformulation=reformulation, keywords=extract_keywords(text), entities=entities
    )


def analyze(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Restate the problem for the knowledge base and keep the reformulation only if it stays faithful."""
    ticket = state["ticket"]
    clarifications = state.get("clarifications", [])
    analysis, fallback = llm_or_offline(
        runtime,
        "analyze",
        ANALYZE,
        QueryAnalysis,
        lambda: analyze_offline(ticket.subject, ticket.body, clarifications),
        subject=ticket.subject,
        body=ticket.body,
        clarifications="; ".join(clarifications) or "none",
    )
    original = ticket_text(ticket.subject, ticket.body, clarifications)
    # One batch for both texts: each call to the model costs more than the second text does.
    reformulated, customer = context_of(runtime).embedder.encode([analysis.reformulation, original])
    similarity = float(reformulated @ customer)
    if similarity < context_of(runtime).policy.reformulation_min_similarity:
        # An unfaithful reformulation would search for another problem: fall back to the customer's words.
        analysis = analysis.model_copy(update={"reformulation": original[:_REFORMULATION_CHARS]})
    analysis = analysis.model_copy(update={"reformulation_similarity": round(similarity, 4)})
    return {"analysis": analysis, "path": ["analyze"], **fallback}
