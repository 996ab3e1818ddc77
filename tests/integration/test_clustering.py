"""Grouping near-duplicate tickets: exactness against plain agglomerative clustering, and StackFAQ paraphrases."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist

from core.embeddings import Embedder
from core.errors import InvalidInputError
from faq_mining.clustering import cluster_tickets, clustering_text
from kb import near_duplicates
from kb.near_duplicates import Linkage


def reference_groups(vectors: np.ndarray, threshold: float, method: str) -> list[list[int]]:
    labels = fcluster(linkage(pdist(vectors.astype(np.float64), "cosine"), method), threshold, "distance")
    return sorted(sorted(np.flatnonzero(labels == label).tolist()) for label in np.unique(labels))


@pytest.mark.parametrize("method", ["complete", "average", "single"])
def test_component_split_gives_the_same_groups_as_plain_agglomerative_clustering(method: Linkage) -> None:
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(30, 32))
    vectors = centres[rng.integers(0, 30, 400)] + 0.35 * rng.normal(size=(400, 32))
    groups = cluster_tickets(vectors, threshold=0.35, linkage=method)
    assert sorted(groups) == reference_groups(vectors, 0.35, method)
    assert sorted(i for group in groups for i in group) == list(range(400))


def test_batches_over_several_blocks_give_the_same_groups_as_plain_agglomerative_clustering() -> None:
    # 1,300 rows are three blocks of the component search and of the distances: pairs between blocks, and a
    # search that stops early once the rows left are one component (the last 500 are one tight group) while
    # earlier rows are still in several.
    rng = np.random.default_rng(11)
    centres = rng.normal(size=(12, 24))
    spread = centres[rng.integers(0, 12, 800)] + 0.3 * rng.normal(size=(800, 24))
    tight = centres[0] + 0.01 * rng.normal(size=(500, 24))
    vectors = np.concatenate([spread, tight]).astype(np.float32)
    for method in ("complete", "average", "single"):
        assert sorted(cluster_tickets(vectors, threshold=0.3, linkage=method)) == reference_groups(vectors, 0.3, method)


def test_condensed_distances_are_scipys_order_and_values() -> None:
    rng = np.random.default_rng(3)
    unit = rng.normal(size=(1100, 16)).astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    condensed = near_duplicates._condensed_cosine_distances(unit)
    np.testing.assert_allclose(condensed, pdist(unit.astype(np.float64), "cosine"), atol=1e-6)


def test_groups_are_deterministic_largest_first_and_scale_free() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.98, 0.05], [0.99, 0.1], [0.05, 0.99]])
    groups = cluster_tickets(vectors, threshold=0.1)
    assert groups == [[0, 2, 3], [1, 4]]
    assert cluster_tickets(vectors * 7.5, threshold=0.1) == groups


def test_complete_linkage_does_not_chain_unlike_single_linkage() -> None:
    # Each step turns 0.3 rad (cosine distance ~0.045); the ends are 0.9 rad apart (~0.38).
    angles = np.arange(4) * 0.3
    chain = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    assert len(cluster_tickets(chain, threshold=0.1, linkage="single")) == 1
    assert len(cluster_tickets(chain, threshold=0.1, linkage="complete")) == 2


def test_bad_input_is_refused() -> None:
    assert cluster_tickets(np.zeros((0, 3))) == []
    for bad in (np.zeros(3), np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([[np.nan, 1.0]])):
        with pytest.raises(InvalidInputError):
            cluster_tickets(bad)
    with pytest.raises(InvalidInputError):
        cluster_tickets(np.eye(2), threshold=0.0)


def test_clustering_text_joins_the_parts_that_have_text() -> None:
    assert clustering_text("", " VPN drops ", "Updated the client") == "VPN drops\nUpdated the client"


@pytest.mark.slow
def test_stackfaq_paraphrases_of_ten_threads_group_by_thread(shared_data: Path, embedder: Embedder) -> None:
    folder = shared_data / "stackfaq"
    answers = {row["id"]: row["answer"] for row in map(json.loads, folder.joinpath("faqs.jsonl").open())}
    queries = [json.loads(line) for line in folder.joinpath("queries.jsonl").open()]
    # Ten threads with short answers and six paraphrases each keep the encoding to a few seconds on two
    # cores; benchmarks/clustering.py measures all 125 threads.
    chosen = [thread for thread in sorted(answers) if len(answers[thread]) <= 400][:10]
    taken: Counter[str] = Counter()
    tickets = []
    for query in queries:
        thread = query["gold_faq_ids"][0]
        if thread in chosen and taken[thread] < 6:
            taken[thread] += 1
            tickets.append((query["query"], thread))
    texts = [clustering_text("", body, answers[thread]) for body, thread in tickets]
    groups = cluster_tickets(embedder.encode(texts))

    threads = [thread for _, thread in tickets]
    majority = sum(Counter(threads[i] for i in group).most_common(1)[0][1] for group in groups)
    purity = majority / len(tickets)
    groups_of_thread: dict[str, set[int]] = defaultdict(set)
    for number, group in enumerate(groups):
        for i in group:
            groups_of_thread[threads[i]].add(number)
    split = sum(len(g) > 1 for g in groups_of_thread.values())
    assert len(tickets) == 60
    assert purity >= 0.97
    assert 10 <= len(groups) <= 11
    assert split <= 1
