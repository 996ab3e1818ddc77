"""cluster: near-duplicate tickets of the batch become one group, so one problem gives one candidate."""

from __future__ import annotations

from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from faq_mining.clustering import cluster_tickets, clustering_text
from faq_mining.nodes.context import MiningContext, mining_context
from faq_mining.state import MiningState, TicketCluster


def cluster(state: MiningState, runtime: Runtime[MiningContext]) -> dict[str, Any]:
    """Embed each redacted ticket (subject, body, closure notes) and group them; most central ticket first.

    The most central ticket of a group is the one with the highest summed similarity to the others: the
    question and the answer are taken from it and its nearest neighbours.
    """
    context = mining_context(runtime)
    tickets = state.get("tickets", [])
    if not tickets:
        return {"clusters": []}
    texts = [clustering_text(ticket.subject, ticket.body, ticket.closurenotes) for ticket in tickets]
    vectors = np.asarray(context.embedder.encode(texts), dtype=np.float32)
    groups = cluster_tickets(vectors, threshold=context.policy.cluster_distance)
    clusters = []
    for members in groups:
        member_vectors = vectors[members]
        centrality = (member_vectors @ member_vectors.T).sum(axis=1)
        # Stable: equal centrality keeps the earlier (older) ticket first, so runs are deterministic.
        order = np.argsort(-centrality, kind="stable")
        clusters.append(TicketCluster(tickets=[tickets[members[i]] for i in order]))
    return {"clusters": clusters}
