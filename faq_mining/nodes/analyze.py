"""analyze: what each group of tickets should become (SKIP, NEW or MERGE), by the LLM or offline.

The LLM sees only redacted text (redact_pii ran first) and answers with a validated `FaqAnalysis`; when it
is not configured the extractive analysis answers, and when it fails after its retries the extractive
analysis answers too and the candidate's metadata says so.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime

from core.structured_llm import structured_or_fallback
from faq_mining.faq_store import SimilarFaq
from faq_mining.nodes.context import MiningContext, mining_context
from faq_mining.nodes.extractive import analyze_offline
from faq_mining.prompts import ANALYZE_TICKETS
from faq_mining.state import AnalyzedCluster, FaqAnalysis, MiningFailure, MiningState, MiningStats, TicketCluster

TICKETS_SHOWN = 5
TICKET_CHARS = 1_500
NEIGHBOUR_ANSWER_CHARS = 400


def render_tickets(cluster: TicketCluster) -> str:
    """The group's most central tickets as the prompt shows them (already redacted)."""
    blocks = []
    for ticket in cluster.tickets[:TICKETS_SHOWN]:
        text = f"Subject: {ticket.subject}\nProblem: {ticket.body}\nResolution: {ticket.closurenotes}"
        blocks.append(f"[ticket {ticket.id}]\n{text[:TICKET_CHARS]}")
    if len(cluster.tickets) > TICKETS_SHOWN:
        blocks.append(f"({len(cluster.tickets) - TICKETS_SHOWN} more tickets about the same problem)")
    return "\n\n".join(blocks)


def merge_targets(cluster: TicketCluster, min_similarity: float) -> dict[int, SimilarFaq]:
    """The production FAQs a MERGE of this group may target: the near ones it was compared with."""
    return {
        faq.id: faq for faq in cluster.neighbours if faq.origin == "production" and faq.similarity >= min_similarity
    }


def render_neighbours(cluster: TicketCluster, min_similarity: float) -> str:
    """The production FAQs a MERGE may target, with their similarity."""
    lines = [
        f"#{faq.id} (similarity {faq.similarity:.2f}) Q: {faq.question} A: {faq.answer[:NEIGHBOUR_ANSWER_CHARS]}"
        for faq in merge_targets(cluster, min_similarity).values()
    ]
    return "\n".join(lines) or "(none)"


def analyze_cluster(cluster: TicketCluster, context: MiningContext) -> AnalyzedCluster:
    """One group's analysis and how it was made."""
    outcome = structured_or_fallback(
        context.chat_model,
        FaqAnalysis,
        ANALYZE_TICKETS.system,
        ANALYZE_TICKETS.render(
            tickets=render_tickets(cluster),
            category=cluster.tickets[0].category or "(none)",
            neighbours=render_neighbours(cluster, context.policy.merge_candidate_similarity),
        ),
        lambda: analyze_offline(cluster, context.policy.merge_similarity),
        max_attempts=context.llm_max_attempts,
        initial_backoff_s=context.llm_backoff_s,
    )
    metadata: dict[str, Any] = {
        "analysis": _analysis_kind(context.chat_model, outcome.fell_back),
        "prompt": f"{ANALYZE_TICKETS.name}@{ANALYZE_TICKETS.version}",
        "category": cluster.tickets[0].category,
        "reason": outcome.value.reason,
    }
    if context.chat_model is not None:
        metadata["model"] = str(getattr(context.chat_model, "model_name", None) or type(context.chat_model).__name__)
    if outcome.error:
        metadata["llm_error"] = outcome.error[:500]
    return AnalyzedCluster(cluster=cluster, analysis=outcome.value, metadata=metadata)


def analyze(state: MiningState, runtime: Runtime[MiningContext]) -> dict[str, Any]:
    """Analyse every group; a group whose analysis breaks is counted as failed, the others go on."""
    context = mining_context(runtime)
    analyzed = []
    stats = MiningStats()
    for cluster in state.get("clusters", []):
        try:
            analyzed.append(analyze_cluster(cluster, context))
        # The batch boundary: one group's unexpected error is recorded per ticket, never silently dropped.
        except Exception as exc:  # noqa: BLE001
            reason = f"analysis failed: {exc.__class__.__name__}: {exc}"[:500]
            stats.failed += len(cluster.tickets)
            stats.failures.extend(MiningFailure(ticket_id=tid, reason=reason) for tid in cluster.ticket_ids)
    return {"analyzed": analyzed, "stats": stats}


def _analysis_kind(model: BaseChatModel | None, fell_back: bool) -> str:
    if model is None:
        return "offline"
    return "offline_fallback" if fell_back else "llm"
