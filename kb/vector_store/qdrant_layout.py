"""What the two Qdrant stores share: the collection layout, the model checks and the point conversions.

`kb.vector_store.qdrant` (a Qdrant server through qdrant-client) and `kb.vector_store.qdrant_edge` (Qdrant's
engine in process) speak two client APIs over one layout; everything here is the same for both, so a
collection written by one reads the same through the other. Neither client is imported here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from core.embeddings import Vectors
from core.errors import EmbeddingModelMismatch
from kb.vector_store.base import SearchFilter, VectorHit, VectorPoint, VectorStore

BACKEND = "qdrant"
# Payload fields with a keyword index (on a server; local mode scans instead).
FILTER_FIELDS = ("document_id", "source", "category")
UPSERT_BATCH = 256
SCROLL_PAGE = 1024


def require_collection(collection: str, dimension: int) -> None:
    """Refuse an empty collection name or a dimension that is not positive (ValueError)."""
    if not collection:
        raise ValueError("collection must be a non-empty name")
    if dimension <= 0:
        raise ValueError(f"dimension must be positive, got {dimension}")


def upsert_batches(points: Sequence[VectorPoint]) -> Iterator[Sequence[VectorPoint]]:
    """`points` in consecutive batches of UPSERT_BATCH."""
    for start in range(0, len(points), UPSERT_BATCH):
        yield points[start : start + UPSERT_BATCH]


def filter_matches(filters: SearchFilter | None) -> list[tuple[str, str]]:
    """The (payload field, value) pairs a filter requires, each one a `must` keyword match."""
    if filters is None:
        return []
    return [
        (name, value)
        for name, value in (("category", filters.category), ("source", filters.source))
        if value is not None
    ]


def to_hit(point_id: object, score: float, payload: Mapping[str, Any] | None) -> VectorHit:
    """Our hit for one of Qdrant's scored points (either client's)."""
    return VectorHit(id=str(point_id), score=float(score), payload=dict(payload or {}))


def model_mismatch(store: VectorStore, stored_model: str, stored_dimension: object) -> EmbeddingModelMismatch:
    """The error for a collection recorded for another model or dimension than the store's."""
    return EmbeddingModelMismatch(
        f"Qdrant collection {store.collection!r} holds vectors of {stored_model}"
        f" ({stored_dimension} dimensions), but the configured model is {store.model_name}"
        f" ({store.dimension} dimensions). Rebuild the knowledge base (`doxa kb ingest --rebuild`)"
        " or configure another DOXA_KB_COLLECTION."
    )


def check_dimension(store: VectorStore, vector: Vectors) -> None:
    """Refuse a vector that is not of the store's dimension (EmbeddingModelMismatch)."""
    if vector.shape != (store.dimension,):
        raise EmbeddingModelMismatch(
            f"vector of shape {vector.shape} does not fit collection {store.collection!r}"
            f" ({store.dimension} dimensions, model {store.model_name})"
        )


def health_report(store: VectorStore, location: str) -> dict[str, Any]:
    """The part of a health check that names the store: backend, collection, dimension, model and location."""
    return {
        "backend": BACKEND,
        "collection": store.collection,
        "dimension": store.dimension,
        "model": store.model_name,
        "location": location,
    }
