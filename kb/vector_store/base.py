"""The interface every vector store implements, and the records that cross it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.embeddings import Vectors


@dataclass(frozen=True)
class VectorPoint:
    """One chunk vector with the payload used for filtering (document_id, source, category)."""

    id: str  # the kb_chunk uuid, as text
    vector: Vectors
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VectorHit:
    """A search result: the chunk id and its cosine similarity to the query."""

    id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchFilter:
    """Metadata filters; None means no restriction."""

    category: str | None = None
    source: str | None = None


class VectorStore(Protocol):
    """Chunk vectors for one embedding model and dimension.

    Implementations record the model name and dimension with the collection and refuse to open it
    with another (`EmbeddingModelMismatch`), so vectors of two models are never mixed.
    """

    model_name: str
    dimension: int
    collection: str

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        """Insert or replace points by id."""
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Remove points by id (unknown ids are ignored)."""
        ...

    def search(self, vector: Vectors, top_k: int, filters: SearchFilter | None = None) -> list[VectorHit]:
        """The top_k points by cosine similarity, best first."""
        ...

    def ids(self) -> set[str]:
        """Every point id in the collection (for garbage collection after a failed write)."""
        ...

    def count(self) -> int:
        """How many points the collection holds."""
        ...

    def drop(self) -> None:
        """Delete the whole collection and its model record."""
        ...

    def health_check(self) -> dict[str, Any]:
        """`{status, backend, collection, vector_count, dimension, model}`."""
        ...
