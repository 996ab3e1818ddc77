"""stage: store each draft as a PENDING candidate and claim its tickets; a ticket is staged at most once."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from core.errors import InvalidInputError
from faq_mining.nodes.context import MiningContext, mining_context
from faq_mining.state import MiningFailure, MiningState, MiningStats, ReviewRequest


def stage(state: MiningState, runtime: Runtime[MiningContext]) -> dict[str, Any]:
    """Stage every draft; tickets a concurrent run claimed first count as skipped_duplicate.

    Database errors fail the run (nothing is half-staged: each candidate is one transaction, and the
    watermark has not moved). A MERGE whose target was deleted since validation fails only its tickets.
    """
    store = mining_context(runtime).store
    stats = MiningStats()
    staged: list[ReviewRequest] = []
    for draft in state.get("drafts", []):
        try:
            result = store.stage(draft)
        except InvalidInputError as exc:
            stats.failed += len(draft.source_ticket_ids)
            stats.failures.extend(MiningFailure(ticket_id=tid, reason=str(exc)) for tid in draft.source_ticket_ids)
            continue
        stats.skipped_duplicate += len(result.already_staged_ticket_ids)
        if result.staging_id is None:
            continue
        stats.staged_tickets += len(result.claimed_ticket_ids)
        if draft.action == "MERGE":
            stats.staged_merge += 1
        else:
            stats.staged_new += 1
        staged.append(
            ReviewRequest(
                staging_id=result.staging_id,
                action=draft.action,
                question=draft.question,
                answer=draft.answer,
                tags=list(draft.tags),
                source_count=len(result.claimed_ticket_ids),
                merge_with_id=draft.merge_with_id,
            )
        )
    return {"staged": staged, "stats": stats}
