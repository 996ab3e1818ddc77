"""The vector store back ends against real engines: Qdrant's engine in process (qdrant-edge), pgvector on
the test DB, and the server-side Qdrant store against qdrant-client's local mode (a stand-in for a server)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from core.database import Database
from core.errors import ConfigurationError, EmbeddingModelMismatch
from core.qdrant_edge import QdrantEdge, QdrantEdgeError
from core.services import Services
from kb.vector_store.base import SearchFilter, VectorPoint, VectorStore
from kb.vector_store.factory import discard_vector_store, open_vector_store
from kb.vector_store.pgvector import PgVectorStore
from kb.vector_store.qdrant import QdrantVectorStore
from kb.vector_store.qdrant_edge import EdgeVectorStore

DIM = 8
MODEL = "test-model"
StoreFactory = Callable[..., VectorStore]


@pytest.fixture(params=["qdrant-edge", "qdrant-client", "pgvector"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path, db: Database) -> StoreFactory:
    """Opens a store on the parametrised back end; the same name reopens the same collection."""
    if request.param == "qdrant-edge":
        engine = QdrantEdge(tmp_path / "qdrant_edge")
        request.addfinalizer(engine.close)

        def open_edge(collection: str = "kb_test", model: str = MODEL, dimension: int = DIM) -> VectorStore:
            return EdgeVectorStore(engine, collection, model, dimension)

        return open_edge
    if request.param == "pgvector":

        def open_pg(collection: str = "kb_test", model: str = MODEL, dimension: int = DIM) -> VectorStore:
            return PgVectorStore(db, collection, model, dimension)

        return open_pg

    client = QdrantClient(path=str(tmp_path / "qdrant"))
    request.addfinalizer(client.close)

    def open_qdrant(collection: str = "kb_test", model: str = MODEL, dimension: int = DIM) -> VectorStore:
        return QdrantVectorStore(client, collection, model, dimension)

    return open_qdrant


def unit(index: int, tilt: float = 0.0) -> np.ndarray:
    """A normalised vector pointing along axis `index`, tilted towards the next axis."""
    vector = np.zeros(DIM, dtype=np.float32)
    vector[index] = 1.0
    vector[(index + 1) % DIM] = tilt
    return vector / np.linalg.norm(vector)


def point(vector: np.ndarray, *, category: str | None = None, source: str = "a.md") -> VectorPoint:
    return VectorPoint(
        id=str(uuid.uuid4()),
        vector=vector,
        payload={"document_id": f"doc:{source}", "source": source, "category": category},
    )


def test_search_returns_nearest_first_with_cosine_scores(open_store: StoreFactory) -> None:
    store = open_store()
    exact, near, far = point(unit(0)), point(unit(0, tilt=0.5)), point(unit(3))
    store.upsert([far, exact, near])

    hits = store.search(unit(0), top_k=2)

    assert [h.id for h in hits] == [exact.id, near.id]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[1].score == pytest.approx(float(unit(0) @ unit(0, tilt=0.5)), abs=1e-5)
    assert hits[0].payload["source"] == "a.md"


def test_filters_restrict_by_category_and_source(open_store: StoreFactory) -> None:
    store = open_store()
    billing = point(unit(1), category="billing", source="pay.md")
    account = point(unit(0), category="account", source="login.md")
    other_billing = point(unit(2), category="billing", source="refund.md")
    store.upsert([billing, account, other_billing])

    by_category = store.search(unit(0), top_k=5, filters=SearchFilter(category="billing"))
    by_both = store.search(unit(0), top_k=5, filters=SearchFilter(category="billing", source="refund.md"))

    assert {h.id for h in by_category} == {billing.id, other_billing.id}
    assert [h.id for h in by_both] == [other_billing.id]
    assert store.search(unit(0), top_k=5, filters=SearchFilter(source="none.md")) == []


def test_filtered_search_returns_the_exact_filtered_top_k_best_first(open_store: StoreFactory) -> None:
    store = open_store()
    rng = np.random.default_rng(11)
    vectors = rng.standard_normal((200, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    points = [point(v, category="rare" if i % 10 == 0 else "common") for i, v in enumerate(vectors)]
    store.upsert(points)
    query = vectors[3]

    hits = store.search(query, top_k=5, filters=SearchFilter(category="rare"))

    rare = sorted(
        ((float(v @ query), p.id) for v, p in zip(vectors, points, strict=True) if p.payload["category"] == "rare"),
        reverse=True,
    )
    assert [h.id for h in hits] == [pid for _, pid in rare[:5]]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_upsert_replaces_by_id_and_delete_ignores_unknown_ids(open_store: StoreFactory) -> None:
    store = open_store()
    first = point(unit(0))
    store.upsert([first, point(unit(1))])
    store.upsert([VectorPoint(id=first.id, vector=unit(5), payload=first.payload)])

    assert store.count() == 2
    assert store.search(unit(5), top_k=1)[0].id == first.id

    store.delete([first.id, str(uuid.uuid4())])

    assert store.count() == 1
    assert first.id not in store.ids()


def test_ids_lists_every_point(open_store: StoreFactory) -> None:
    store = open_store()
    points = [point(unit(i % DIM, tilt=i / 10)) for i in range(30)]
    store.upsert(points)

    assert store.ids() == {p.id for p in points}


def test_drop_empties_the_collection_and_upsert_recreates_it(open_store: StoreFactory) -> None:
    store = open_store()
    store.upsert([point(unit(0))])
    store.drop()

    assert store.count() == 0
    assert store.search(unit(0), top_k=3) == []
    assert store.health_check()["status"] == "empty"

    store.upsert([point(unit(2))])
    assert store.count() == 1


def test_health_check_reports_collection_count_and_model(open_store: StoreFactory) -> None:
    store = open_store()
    store.upsert([point(unit(0)), point(unit(1))])

    health = store.health_check()

    assert health["status"] == "ok"
    assert health["backend"] in {"qdrant", "pgvector"}
    assert (health["collection"], health["vector_count"], health["dimension"], health["model"]) == (
        "kb_test",
        2,
        DIM,
        MODEL,
    )


def test_reopening_with_another_model_or_dimension_is_refused(open_store: StoreFactory) -> None:
    open_store().upsert([point(unit(0))])

    assert open_store().count() == 1
    with pytest.raises(EmbeddingModelMismatch, match="other-model"):
        open_store(model="other-model")
    with pytest.raises(EmbeddingModelMismatch, match="16 dimensions"):
        open_store(dimension=16)


def test_vectors_of_the_wrong_dimension_are_refused(open_store: StoreFactory) -> None:
    store = open_store()

    with pytest.raises(EmbeddingModelMismatch):
        store.upsert([point(np.ones(DIM + 1, dtype=np.float32))])
    with pytest.raises(EmbeddingModelMismatch):
        store.search(np.ones(3, dtype=np.float32), top_k=1)


def test_collections_are_independent(open_store: StoreFactory) -> None:
    first, second = open_store("kb_one"), open_store("kb_two", model="other-model")
    first.upsert([point(unit(0))])

    assert (first.count(), second.count()) == (1, 0)


def test_pgvector_refuses_collection_names_that_are_not_identifiers(db: Database) -> None:
    with pytest.raises(ConfigurationError):
        PgVectorStore(db, "kb; DROP TABLE kb_chunk", MODEL, DIM)


def test_pgvector_search_after_another_process_dropped_the_table_finds_nothing_then_recovers(db: Database) -> None:
    serving = PgVectorStore(db, "kb_shared", MODEL, DIM)
    serving.upsert([point(unit(0))])
    assert len(serving.search(unit(0), top_k=3)) == 1  # the table is now remembered as there

    PgVectorStore(db, "kb_shared", MODEL, DIM).drop()  # `doxa kb ingest --rebuild` in another process

    assert serving.search(unit(0), top_k=3) == []
    serving.upsert([point(unit(1))])
    assert [hit.score > 0.99 for hit in serving.search(unit(1), top_k=3)] == [True]


def test_pgvector_search_uses_the_hnsw_index(db: Database) -> None:
    store = PgVectorStore(db, "kb_plan", MODEL, DIM)
    store.upsert([point(unit(i % DIM, tilt=i / 50)) for i in range(50)])
    with db.transaction() as conn:
        conn.execute("SET LOCAL enable_seqscan = off")
        plan = conn.execute(
            "EXPLAIN SELECT id, embedding <=> %s::vector AS distance FROM kbvec_kb_plan ORDER BY distance LIMIT 5",
            ("[" + ",".join(["0.5"] * DIM) + "]",),
        ).fetchall()
    assert any("kbvec_kb_plan_hnsw" in row["QUERY PLAN"] for row in plan)


def test_edge_store_searches_its_hnsw_graph_once_built(tmp_path: Path) -> None:
    engine = QdrantEdge(tmp_path / "edge")
    store = EdgeVectorStore(engine, "kb_hnsw", MODEL, DIM, index_after=200, indexing_threshold_kb=1)
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((400, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    points = [point(v, category="even" if i % 2 == 0 else "odd") for i, v in enumerate(vectors)]
    store.upsert(points[:150])
    assert store.health_check()["indexed_vector_count"] == 0  # under index_after: plain segments only
    store.upsert(points[150:])

    health = store.health_check()
    query = vectors[7]
    hits = store.search(query, top_k=5, filters=SearchFilter(category="odd"))
    odd = [(float(v @ query), p.id) for v, p in zip(vectors, points, strict=True) if p.payload["category"] == "odd"]
    engine.close()

    assert (health["vector_count"], health["indexed_vector_count"]) == (400, 400)
    assert [h.id for h in hits] == [pid for _, pid in sorted(odd, reverse=True)[:5]]


def test_edge_collections_survive_a_restart_and_refuse_a_second_opener(tmp_path: Path) -> None:
    engine = QdrantEdge(tmp_path / "edge")
    kept = point(unit(2))
    EdgeVectorStore(engine, "kb_keep", MODEL, DIM).upsert([kept, point(unit(4))])

    with pytest.raises(QdrantEdgeError, match="one process"):
        EdgeVectorStore(QdrantEdge(tmp_path / "edge"), "kb_keep", MODEL, DIM).count()
    engine.close()
    reopened = EdgeVectorStore(QdrantEdge(tmp_path / "edge"), "kb_keep", MODEL, DIM)

    assert reopened.count() == 2
    assert reopened.search(unit(2), top_k=1)[0].id == kept.id
    with pytest.raises(ConfigurationError):
        EdgeVectorStore(engine, "../escape", MODEL, DIM)


@pytest.mark.parametrize("backend", ["qdrant", "pgvector"])
def test_factory_opens_the_configured_backend(services: Services, backend: str) -> None:
    services.settings = services.settings.model_copy(update={"vector_backend": backend})
    store = open_vector_store(services)

    assert store.health_check()["backend"] == backend
    if backend == "qdrant":  # no DOXA_QDRANT_URL: Qdrant's engine in process, not a client-side scan
        assert isinstance(store, EdgeVectorStore) and store.health_check()["location"] == "embedded"
    assert (store.collection, store.dimension) == ("doxa_kb", 384)

    discard_vector_store(services)
    changed = services.settings.model_copy(update={"embedding_model": "another/model"})
    services.settings = changed
    assert open_vector_store(services).model_name == "another/model"
