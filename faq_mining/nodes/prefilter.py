"""prefilter: drop tickets that cannot teach anything (not resolved, body or closure notes too short)."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from faq_mining.nodes.context import MiningContext, MiningPolicy, mining_context
from faq_mining.state import MinedTicket, MiningState, MiningStats


def passes_prefilter(ticket: MinedTicket, policy: MiningPolicy) -> bool:
    """Resolved, with a body and closure notes at least as long as configured."""
    return (
        ticket.status in policy.statuses
        and len(ticket.body.strip()) >= policy.min_body_chars
        and len(ticket.closurenotes.strip()) >= policy.min_closure_notes_chars
    )


def prefilter(state: MiningState, runtime: Runtime[MiningContext]) -> dict[str, Any]:
    """Keep the tickets that pass the pre-filter; count the others as skipped_prefilter."""
    policy = mining_context(runtime).policy
    tickets = state.get("tickets", [])
    kept = [ticket for ticket in tickets if passes_prefilter(ticket, policy)]
    return {"tickets": kept, "stats": MiningStats(skipped_prefilter=len(tickets) - len(kept))}
