"""Grouping near-duplicate tickets of one mining batch, so one problem becomes one FAQ candidate.

The tickets' texts are embedded and grouped by `kb.near_duplicates` (complete linkage cut at a cosine
distance, exact at any batch size).
"""

from __future__ import annotations

import numpy.typing as npt

from kb.near_duplicates import Linkage, group_near_duplicates

# Chosen on StackFAQ (1,249 paraphrased tickets, 125 threads) with all-MiniLM-L6-v2 embeddings of
# body + closure notes: 126 groups, purity 0.984, 2.4% of threads split. 0.40 splits 5.6% of the
# threads; 0.48 lets purity fall to 0.968.
DEFAULT_DISTANCE_THRESHOLD = 0.44


def clustering_text(subject: str, body: str, closurenotes: str) -> str:
    """The text embedded to compare tickets: subject, body and closure notes, one per line.

    The closure notes matter most: on StackFAQ, paraphrased questions alone split 54% of the threads
    at a threshold that keeps purity at 0.98, while the same questions with their answer split 2.4%.
    """
    return "\n".join(part.strip() for part in (subject, body, closurenotes) if part and part.strip())


def cluster_tickets(
    vectors: npt.ArrayLike, threshold: float = DEFAULT_DISTANCE_THRESHOLD, linkage: Linkage = "complete"
) -> list[list[int]]:
    """Row indices of `vectors` grouped within `threshold` cosine distance (`kb.near_duplicates`)."""
    return group_near_duplicates(vectors, threshold, linkage)
