"""Groups of near-duplicate vectors: agglomerative clustering cut at a cosine distance, exact at any batch size.

FAQ mining groups a batch's tickets with it (one problem, one candidate); answer calibration groups
question-only FAQs with it (one question asked twice is one answer). Complete linkage, the default, keeps
every pair inside a group within the threshold, so a group cannot drift from one topic to another by
chaining; average linkage over-merges at any threshold that keeps threads whole (see BENCHMARKS.md,
"Ticket grouping").

Scaling: a plain agglomerative run needs the full n x n distance matrix. Here the batch is first
cut into the connected components of its neighbour graph (pairs within the threshold), found by a
blocked matrix product: O(n^2 * d) flops, O(block * n) memory. Single, complete and average linkage
never merge across components below the threshold (every pair between two components is farther than
it, so any mix of such pairs is too), so clustering each component on its own gives exactly the same
groups as clustering the batch. The per-component cost is O(m^2) time and memory for a component of
m rows. On two cores a 10,000-ticket batch takes about 2 s when it holds many distinct problems,
and about 7 s and 930 MiB when all of it is one component (BENCHMARKS.md).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.cluster.hierarchy import fcluster
from scipy.cluster.hierarchy import linkage as hierarchical_linkage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from core.errors import InvalidInputError

Linkage = Literal["complete", "average", "single"]

_BLOCK_ROWS = 512
# A pair is an edge when its float32 cosine distance is within threshold + this slack, so float
# rounding never drops a pair that the float64 linkage would count as within the threshold.
_EDGE_SLACK = 1e-5


def group_near_duplicates(
    vectors: npt.ArrayLike,
    threshold: float,
    linkage: Linkage = "complete",
) -> list[list[int]]:
    """Group row indices of `vectors` whose embeddings are within `threshold` cosine distance.

    Returns every index exactly once: groups largest first, indices ascending inside a group, ties
    broken by the first index, so the result is deterministic. Vectors need not be normalised.

    Example:
        >>> group_near_duplicates([[1.0, 0.0], [0.99, 0.1], [0.0, 1.0]], threshold=0.2)
        [[0, 1], [2]]
    """
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2:
        raise InvalidInputError(f"group_near_duplicates expects a 2-D array of vectors, got shape {matrix.shape}")
    if not 0.0 < threshold < 2.0:
        raise InvalidInputError(f"cosine distance threshold must be in (0, 2), got {threshold}")
    if linkage not in ("complete", "average", "single"):
        raise InvalidInputError(f"linkage must be complete, average or single, got {linkage!r}")
    if matrix.shape[0] == 0:
        return []
    if not np.isfinite(matrix).all():
        raise InvalidInputError("group_near_duplicates: vectors contain NaN or infinity")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if (norms == 0).any():
        raise InvalidInputError("group_near_duplicates: a vector is all zeros and has no direction")
    unit = matrix / norms

    component_count, component_of = _neighbour_components(unit, threshold)
    groups: list[list[int]] = []
    members_by_component = _members_by_label(component_of, component_count)
    for members in members_by_component:
        if len(members) <= 2 or linkage == "single":
            # Two rows in one component are within the threshold; single linkage is the components.
            groups.append(members.tolist())
            continue
        distances = _condensed_cosine_distances(unit[members])
        tree = hierarchical_linkage(distances, method=linkage)
        labels = fcluster(tree, t=threshold, criterion="distance")
        for sub in _members_by_label(labels - 1, int(labels.max())):
            groups.append(members[sub].tolist())
    groups.sort(key=lambda group: (-len(group), group[0]))
    return groups


def _neighbour_components(unit: npt.NDArray[np.float32], threshold: float) -> tuple[int, npt.NDArray[np.intp]]:
    """Connected components of the graph linking pairs within `threshold`, merged block by block.

    Only one block's edges exist at a time, and each block is reduced to edges between the components
    found so far, so even a batch of near-identical tickets (n^2 / 2 edges) stays within O(block * n).
    A block of rows is compared with its own and later rows only (an earlier row's pairs were seen in
    its block), and the search stops once every row not yet compared is in one component already:
    nothing left could join two components (a batch that is one component, as templated closure notes
    make it, needs about one block).
    """
    count = unit.shape[0]
    min_similarity = 1.0 - threshold - _EDGE_SLACK
    component_of = np.arange(count)
    for start in range(0, count, _BLOCK_ROWS):
        if (component_of[start:] == component_of[start]).all():
            break
        similarities = unit[start : start + _BLOCK_ROWS] @ unit[start:].T
        rows, cols = np.nonzero(similarities >= min_similarity)
        left, right = component_of[rows + start], component_of[cols + start]
        joining = left != right
        if not joining.any():
            continue
        edges = np.ones(int(joining.sum()), dtype=np.int8)
        graph = coo_matrix((edges, (left[joining], right[joining])), shape=(count, count))
        _, merged = connected_components(graph, directed=False)
        component_of = merged[component_of]
    labels, compact = np.unique(component_of, return_inverse=True)
    return int(labels.shape[0]), compact


def _members_by_label(labels: npt.NDArray[np.integer], label_count: int) -> list[npt.NDArray[np.intp]]:
    """Indices per label 0..label_count-1, each ascending."""
    order = np.argsort(labels, kind="stable")
    boundaries = np.searchsorted(labels[order], np.arange(1, label_count))
    return [part for part in np.split(order, boundaries) if part.size]


def _condensed_cosine_distances(unit: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Pairwise cosine distances in scipy's condensed order, without an m x m intermediate.

    Each block of rows is multiplied with its own and later rows only (the upper triangle, half the
    products), and each row's distances are written straight into the condensed array (float32
    arithmetic, as before, so the linkage sees the same values bit for bit).
    """
    count = unit.shape[0]
    condensed = np.empty(count * (count - 1) // 2, dtype=np.float64)
    position = 0
    for start in range(0, count, _BLOCK_ROWS):
        block = unit[start : start + _BLOCK_ROWS] @ unit[start:].T
        for offset, row in enumerate(block):
            tail = row[offset + 1 :]
            end = position + tail.shape[0]
            np.subtract(1.0, tail, out=condensed[position:end], dtype=np.float32, casting="same_kind")
            position = end
    np.clip(condensed, 0.0, 2.0, out=condensed)
    return condensed
