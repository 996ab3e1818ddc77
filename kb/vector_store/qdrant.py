"""Qdrant vector store on a Qdrant server (or qdrant-client's local mode), one collection per model.

Without DOXA_QDRANT_URL the factory opens `kb.vector_store.qdrant_edge` (Qdrant's engine in process)
instead; this client-side store keeps working against local mode, which the tests use as a stand-in
for a server's API.

The model name and dimension are kept in the collection's metadata, so opening the collection with
another model raises `EmbeddingModelMismatch` instead of mixing vectors of two models.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from core.embeddings import Vectors
from kb.vector_store import qdrant_layout as layout
from kb.vector_store.base import SearchFilter, VectorHit, VectorPoint

log = logging.getLogger(__name__)

# Errors a Qdrant server or the local engine raise for an unreachable or broken collection.
QDRANT_ERRORS = (UnexpectedResponse, ResponseHandlingException, ConnectionError, ValueError, RuntimeError)


class QdrantVectorStore:
    """Chunk vectors in one Qdrant collection (cosine distance) for one model and dimension.

    Example:
        >>> store = QdrantVectorStore(open_qdrant(settings), "doxa_kb", "all-MiniLM-L6-v2", 384)
        >>> store.upsert([VectorPoint(id=chunk_id, vector=vector, payload={"source": "faq.md"})])
        >>> store.search(query_vector, top_k=5, filters=SearchFilter(category="billing"))
    """

    def __init__(self, client: QdrantClient, collection: str, model_name: str, dimension: int) -> None:
        layout.require_collection(collection, dimension)
        self.client = client
        self.collection = collection
        self.model_name = model_name
        self.dimension = dimension
        self._ensure_collection()

    @property
    def is_local(self) -> bool:
        """Whether the client runs Qdrant's local mode (in memory or on disk) rather than a server."""
        options = self.client.init_options
        return bool(options.get("path")) or options.get("location") == ":memory:"

    def _ensure_collection(self) -> None:
        """Create the collection with its model record, or check the record of an existing one."""
        if self.client.collection_exists(self.collection):
            self._check_model()
            return
        log.info("creating Qdrant collection %s (%s, %d)", self.collection, self.model_name, self.dimension)
        self.client.create_collection(
            self.collection,
            vectors_config=models.VectorParams(size=self.dimension, distance=models.Distance.COSINE),
            metadata={"model": self.model_name, "dimension": self.dimension},
        )
        # Local mode evaluates filters by scanning and warns that payload indexes do nothing there.
        if not self.is_local:
            for field_name in layout.FILTER_FIELDS:
                self.client.create_payload_index(
                    self.collection, field_name, field_schema=models.PayloadSchemaType.KEYWORD
                )

    def _check_model(self) -> None:
        info = self.client.get_collection(self.collection)
        params = info.config.params.vectors
        size = params.size if isinstance(params, models.VectorParams) else None
        metadata = info.config.metadata or {}
        stored_model = metadata.get("model")
        stored_dimension = metadata.get("dimension", size)
        if stored_dimension != self.dimension or (stored_model and stored_model != self.model_name):
            raise layout.model_mismatch(self, stored_model or "an unknown model", stored_dimension)
        if not stored_model:
            # A collection made by a server without metadata support: record the model from now on.
            self.client.update_collection(
                self.collection, metadata={"model": self.model_name, "dimension": self.dimension}
            )

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        """Insert or replace points by id, in batches."""
        if not points:
            return
        if not self.client.collection_exists(self.collection):
            self._ensure_collection()
        for batch in layout.upsert_batches(points):
            for point in batch:
                layout.check_dimension(self, point.vector)
            self.client.upsert(
                self.collection,
                points=[models.PointStruct(id=p.id, vector=p.vector.tolist(), payload=dict(p.payload)) for p in batch],
                wait=True,
            )

    def delete(self, ids: Sequence[str]) -> None:
        """Remove points by id; unknown ids are ignored."""
        if not ids or not self.client.collection_exists(self.collection):
            return
        self.client.delete(self.collection, points_selector=models.PointIdsList(points=list(ids)), wait=True)

    def search(self, vector: Vectors, top_k: int, filters: SearchFilter | None = None) -> list[VectorHit]:
        """The top_k points by cosine similarity to `vector`, best first."""
        layout.check_dimension(self, vector)
        if top_k <= 0 or not self.client.collection_exists(self.collection):
            return []
        response = self.client.query_points(
            self.collection,
            query=vector.tolist(),
            query_filter=_to_qdrant_filter(filters),
            limit=top_k,
            with_payload=True,
        )
        return [layout.to_hit(point.id, point.score, point.payload) for point in response.points]

    def ids(self) -> set[str]:
        """Every point id in the collection."""
        if not self.client.collection_exists(self.collection):
            return set()
        found: set[str] = set()
        offset: Any = None
        while True:
            records, offset = self.client.scroll(
                self.collection, limit=layout.SCROLL_PAGE, offset=offset, with_payload=False, with_vectors=False
            )
            found.update(str(record.id) for record in records)
            if offset is None:
                return found

    def count(self) -> int:
        """How many points the collection holds."""
        if not self.client.collection_exists(self.collection):
            return 0
        return int(self.client.count(self.collection, exact=True).count)

    def drop(self) -> None:
        """Delete the collection with its model record; the next upsert creates it afresh."""
        if self.client.collection_exists(self.collection):
            self.client.delete_collection(self.collection)

    def health_check(self) -> dict[str, Any]:
        """`{status, backend, collection, vector_count, dimension, model}`; status is ok, empty or error."""
        report = layout.health_report(self, "local" if self.is_local else "server")
        try:
            if not self.client.collection_exists(self.collection):
                return {**report, "status": "empty", "vector_count": 0}
            vector_count = self.count()
        except QDRANT_ERRORS as exc:
            return {**report, "status": "error", "vector_count": None, "error": str(exc)}
        return {**report, "status": "ok", "vector_count": vector_count}


def _to_qdrant_filter(filters: SearchFilter | None) -> models.Filter | None:
    """Translate our metadata filter into Qdrant's `must` conditions."""
    conditions: list[models.Condition] = [
        models.FieldCondition(key=name, match=models.MatchValue(value=value))
        for name, value in layout.filter_matches(filters)
    ]
    return models.Filter(must=conditions) if conditions else None
