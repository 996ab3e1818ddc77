"""Open the configured vector store (DOXA_VECTOR_BACKEND) for the configured embedding model.

Qdrant is the embedded engine (qdrant-edge) unless DOXA_QDRANT_URL names a server.
"""

from __future__ import annotations

from core.services import Services
from kb.vector_store.base import VectorStore
from kb.vector_store.pgvector import PgVectorStore, drop_collection
from kb.vector_store.qdrant_edge import EdgeVectorStore


def open_vector_store(services: Services, collection: str | None = None) -> VectorStore:
    """The vector store for KB chunks, checked against DOXA_EMBEDDING_MODEL and DOXA_EMBEDDING_DIM.

    Raises `EmbeddingModelMismatch` when the collection was built with another model or dimension.
    """
    settings = services.settings
    name = collection or settings.kb_collection
    if settings.vector_backend == "pgvector":
        return PgVectorStore(services.db, name, settings.embedding_model, settings.embedding_dim)
    if not settings.qdrant_url:
        return EdgeVectorStore(services.qdrant_edge, name, settings.embedding_model, settings.embedding_dim)
    from kb.vector_store.qdrant import QdrantVectorStore  # qdrant_client: seconds to import, only for a server

    return QdrantVectorStore(services.qdrant, name, settings.embedding_model, settings.embedding_dim)


def discard_vector_store(services: Services, collection: str | None = None) -> None:
    """Delete a collection whatever model built it (the first step of a rebuild after a model change)."""
    settings = services.settings
    name = collection or settings.kb_collection
    if settings.vector_backend == "pgvector":
        drop_collection(services.db, name)
    elif not settings.qdrant_url:
        services.qdrant_edge.drop(name)
    elif services.qdrant.collection_exists(name):
        services.qdrant.delete_collection(name)
