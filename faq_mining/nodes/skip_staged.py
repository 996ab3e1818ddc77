"""skip_staged: drop tickets that an earlier run already staged (one batched lookup)."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from faq_mining.nodes.context import MiningContext, mining_context
from faq_mining.state import MiningState, MiningStats


def skip_staged(state: MiningState, runtime: Runtime[MiningContext]) -> dict[str, Any]:
    """Count already-staged tickets as skipped_duplicate; a concurrent run is caught again at staging."""
    tickets = state.get("tickets", [])
    staged = mining_context(runtime).store.staged_ticket_ids([ticket.id for ticket in tickets]) if tickets else set()
    kept = [ticket for ticket in tickets if ticket.id not in staged]
    return {"tickets": kept, "stats": MiningStats(skipped_duplicate=len(tickets) - len(kept))}
