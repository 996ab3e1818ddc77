"""Scorer agent: a 0-100 priority from urgency and impact cues."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from nodes.context import TicketContext
from nodes.llm_step import llm_or_offline
from nodes.prompts import SCORE
from state.agents import Priority
from state.ticket import TicketState
from text.analysis import urgency_signals

_BASE_SCORE = 25
_PER_URGENCY_TERM = 20
_PER_IMPACT_TERM = 15


def score_offline(subject: str, body: str) -> Priority:
    """Urgency and impact keywords (FR + EN) on top of a standard-priority base."""
    signals = urgency_signals(f"{subject}\n{body}")
    score = _BASE_SCORE + _PER_URGENCY_TERM * len(signals.urgency_terms) + _PER_IMPACT_TERM * len(signals.impact_terms)
    score = max(0, min(100, max(score, signals.score_hint)))
    cues = [*signals.urgency_terms, *signals.impact_terms]
    reasoning = f"cues: {', '.join(cues)}" if cues else "no urgency or impact cues"
    return Priority(score=score, reasoning=reasoning)


def score(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Assign the ticket its priority score and band."""
    ticket = state["ticket"]
    priority, fallback = llm_or_offline(
        runtime,
        "score",
        SCORE,
        Priority,
        lambda: score_offline(ticket.subject, ticket.body),
        subject=ticket.subject,
        body=ticket.body,
    )
    return {"priority": priority, "path": ["score"], **fallback}
