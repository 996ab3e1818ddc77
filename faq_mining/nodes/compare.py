"""compare: each group's candidate question against production and pending FAQs; identical ones are skipped.

A group asking what a PENDING candidate asks (at the same-FAQ threshold) joins that candidate as more source
tickets, so one FAQ has one pending candidate however many runs its tickets arrive in.

Like is compared with like: the candidate question (from the group's most central ticket, redacted)
against the questions of production FAQs and pending candidates, whose stored embeddings are of the
question only. Comparing subject + body + closure notes with question + answer embeddings would mix two kinds of
text and blur both the skip and the merge decision (docs/design.md §8).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from faq_mining.faq_store import JoiningTickets, SimilarFaq
from faq_mining.nodes.context import MiningContext, mining_context
from faq_mining.nodes.extractive import question_of
from faq_mining.state import MiningState, MiningStats, TicketCluster

NEIGHBOURS = 3


def compare(state: MiningState, runtime: Runtime[MiningContext]) -> dict[str, Any]:
    """Attach each group's question, its vector and its nearest FAQs; skip groups at the identical threshold."""
    context = mining_context(runtime)
    clusters = state.get("clusters", [])
    if not clusters:
        return {"clusters": []}
    questions = [question_of(group.tickets[0]) for group in clusters]
    vectors = np.asarray(context.embedder.encode(questions), dtype=np.float32)
    neighbours = context.store.similar(vectors, top_k=NEIGHBOURS)
    kept = []
    stats = MiningStats()
    for group, question, vector, similar in zip(clusters, questions, vectors, neighbours, strict=True):
        if _joined_pending(group, similar, context, stats):
            continue
        if similar and similar[0].similarity >= context.policy.identical_similarity:
            stats.skipped_identical += len(group.tickets)
            continue
        kept.append(replace(group, question=question, question_vector=vector, neighbours=list(similar)))
    return {"clusters": kept, "stats": stats}


def _joined_pending(
    group: TicketCluster, similar: list[SimilarFaq], context: MiningContext, stats: MiningStats
) -> bool:
    """Add the group's tickets to a PENDING candidate asking the same question; True when it took them.

    The same check as the analysis's same-FAQ decision (`merge_similarity`, which makes the offline analysis
    MERGE into a production FAQ): a later run's paraphrase of a question still waiting for review joins that
    candidate as more source tickets instead of becoming a second candidate for one FAQ.
    """
    pending = next((faq for faq in similar if faq.origin == "pending"), None)
    if pending is None or pending.similarity < context.policy.merge_similarity:
        return False
    phrasings = [question_of(ticket) for ticket in group.tickets]
    result = context.store.join(pending.id, JoiningTickets(group.ticket_ids, group.pii_kinds, phrasings))
    if result.staging_id is None:
        return False  # decided meanwhile: the group is analysed on its own
    stats.joined_pending += len(result.claimed_ticket_ids)
    stats.skipped_duplicate += len(result.already_staged_ticket_ids)
    return True
