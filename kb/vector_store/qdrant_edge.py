"""Embedded Qdrant vector store: Qdrant's own engine in process (qdrant-edge), one shard per collection.

The same layout a Qdrant server gets from `QdrantVectorStore`: one unnamed cosine vector per point,
the payload as given, keyword payload indexes on document_id, source and category, and the model
name and dimension recorded with the collection so that another model raises
`EmbeddingModelMismatch`.

Qdrant Edge has no background optimizer: new points land in a plain (brute-force, but native)
segment until `optimize()` builds the HNSW graph. The store runs it after an upsert that leaves at
least `_INDEX_AFTER` points unindexed, so a bulk ingest pays for the graph a few times, not per batch,
and a query never scans more than that many points exhaustively.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from qdrant_edge import (
    CountRequest,
    Distance,
    EdgeConfig,
    EdgeOptimizersConfig,
    EdgeShard,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    MatchValue,
    PayloadSchemaType,
    Point,
    Query,
    QueryRequest,
    ScrollRequest,
    SearchParams,
    UpdateOperation,
)

from core.embeddings import Vectors
from core.qdrant_edge import CollectionRecord, QdrantEdge, QdrantEdgeError
from kb.vector_store import qdrant_layout as layout
from kb.vector_store.base import SearchFilter, VectorHit, VectorPoint

log = logging.getLogger(__name__)

# Build the HNSW graph once this many points sit in plain segments (a native scan of 10k points is ~2 ms).
_INDEX_AFTER = 10_000
# HNSW candidates kept per query: at least this many, and never fewer than top_k.
_MIN_HNSW_EF = 128


class EdgeVectorStore:
    """Chunk vectors in one embedded Qdrant shard (cosine distance) for one model and dimension.

    Example:
        >>> store = EdgeVectorStore(open_qdrant_edge(settings), "doxa_kb", "all-MiniLM-L6-v2", 384)
        >>> store.upsert([VectorPoint(id=chunk_id, vector=vector, payload={"source": "faq.md"})])
        >>> store.search(query_vector, top_k=5, filters=SearchFilter(category="billing"))
    """

    def __init__(
        self,
        engine: QdrantEdge,
        collection: str,
        model_name: str,
        dimension: int,
        *,
        index_after: int = _INDEX_AFTER,
        indexing_threshold_kb: int | None = None,
    ) -> None:
        """Open (or, on first upsert, create) one collection.

        `index_after`: unindexed points that trigger an HNSW build; `indexing_threshold_kb`: the smallest
        segment Qdrant indexes (None: Qdrant's default, 10 MB, about 6,500 vectors of 384 floats).
        """
        layout.require_collection(collection, dimension)
        self.engine = engine
        self.collection = collection
        self.model_name = model_name
        self.dimension = dimension
        self.index_after = index_after
        self.indexing_threshold_kb = indexing_threshold_kb
        engine.folder(collection)  # refuses a name that cannot be a folder before anything is written
        self._check_model()

    def _check_model(self) -> None:
        record = self.engine.record(self.collection)
        if record is not None and (record.model, record.dimension) != (self.model_name, self.dimension):
            raise layout.model_mismatch(self, record.model, record.dimension)

    def _shard(self) -> EdgeShard | None:
        return self.engine.shard(self.collection)

    def _create(self) -> EdgeShard:
        log.info("creating embedded Qdrant collection %s (%s, %d)", self.collection, self.model_name, self.dimension)
        optimizers = (
            None
            if self.indexing_threshold_kb is None
            else EdgeOptimizersConfig(indexing_threshold=self.indexing_threshold_kb)
        )
        config = EdgeConfig(
            vectors=EdgeVectorParams(size=self.dimension, distance=Distance.Cosine), optimizers=optimizers
        )
        shard = self.engine.create(self.collection, config, CollectionRecord(self.model_name, self.dimension))
        for field_name in layout.FILTER_FIELDS:
            shard.update(UpdateOperation.create_field_index(field_name, PayloadSchemaType.Keyword))
        return shard

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        """Insert or replace points by id, in batches; builds the HNSW graph when enough points wait for it."""
        if not points:
            return
        for point in points:
            layout.check_dimension(self, point.vector)
        shard = self._shard() or self._create()
        for batch in layout.upsert_batches(points):
            shard.update(
                UpdateOperation.upsert_points([Point(p.id, p.vector.tolist(), dict(p.payload)) for p in batch])
            )
        info = shard.info()
        if info.points_count - info.indexed_vectors_count >= self.index_after:
            log.info("indexing %d points of %s", info.points_count - info.indexed_vectors_count, self.collection)
            shard.optimize()

    def delete(self, ids: Sequence[str]) -> None:
        """Remove points by id; unknown ids are ignored."""
        shard = self._shard()
        if ids and shard is not None:
            shard.update(UpdateOperation.delete_points(list(ids)))

    def search(self, vector: Vectors, top_k: int, filters: SearchFilter | None = None) -> list[VectorHit]:
        """The top_k points by cosine similarity to `vector`, best first."""
        layout.check_dimension(self, vector)
        shard = self._shard()
        if top_k <= 0 or shard is None:
            return []
        points = shard.query(
            QueryRequest(
                limit=top_k,
                query=Query.Nearest(vector.tolist()),
                filter=_to_edge_filter(filters),
                with_payload=True,
                params=SearchParams(hnsw_ef=max(_MIN_HNSW_EF, top_k)),
            )
        )
        return [layout.to_hit(p.id, p.score, p.payload) for p in points]

    def ids(self) -> set[str]:
        """Every point id in the collection."""
        shard = self._shard()
        found: set[str] = set()
        offset: Any = None
        while shard is not None:
            records, offset = shard.scroll(
                ScrollRequest(offset=offset, limit=layout.SCROLL_PAGE, with_payload=False, with_vector=False)
            )
            found.update(str(record.id) for record in records)
            if offset is None:
                break
        return found

    def count(self) -> int:
        """How many points the collection holds."""
        shard = self._shard()
        return 0 if shard is None else int(shard.count(CountRequest(exact=True)))

    def drop(self) -> None:
        """Delete the collection with its model record; the next upsert creates it afresh."""
        self.engine.drop(self.collection)

    def health_check(self) -> dict[str, Any]:
        """`{status, backend, collection, vector_count, dimension, model}`; status is ok, empty or error."""
        report = layout.health_report(self, "embedded")
        try:
            shard = self._shard()
        except QdrantEdgeError as exc:
            return {**report, "status": "error", "vector_count": None, "error": str(exc)}
        if shard is None:
            return {**report, "status": "empty", "vector_count": 0}
        info = shard.info()
        return {
            **report,
            "status": "ok",
            "vector_count": int(info.points_count),
            "indexed_vector_count": int(info.indexed_vectors_count),
        }


def _to_edge_filter(filters: SearchFilter | None) -> Filter | None:
    """Translate our metadata filter into Qdrant's `must` conditions (served by the keyword indexes)."""
    conditions: list[Any] = [
        FieldCondition(key=name, match=MatchValue(value)) for name, value in layout.filter_matches(filters)
    ]
    return Filter(must=conditions) if conditions else None
