"""The knowledge base's state in one summary: counts, revision, models and vector-store health."""

from __future__ import annotations

from typing import Any

from core.errors import EmbeddingModelMismatch
from core.services import Services
from kb.calibration_store import CalibrationStore
from kb.repository import KnowledgeBaseRepository
from kb.vector_store.factory import open_vector_store


def knowledge_base_status(services: Services) -> dict[str, Any]:
    """Documents, sections, chunks, revision, models and the vector store's health, with a hint on drift."""
    settings = services.settings
    counts = KnowledgeBaseRepository(services.db).counts()
    try:
        health = open_vector_store(services).health_check()
    except EmbeddingModelMismatch as exc:
        health = {"status": "model_mismatch", "backend": settings.vector_backend, "error": str(exc)}
    summary: dict[str, Any] = {
        "documents": counts.documents,
        "sections": counts.sections,
        "chunks": counts.chunks,
        "revision": counts.revision,
        "updated_at": counts.updated_at.isoformat(),
        "embedding_model": settings.embedding_model,
        "embedding_dim": settings.embedding_dim,
        "models_in_kb": list(counts.embedding_models),
        "vector_store": health,
    }
    summary["answer_model"] = answer_model_status(services)
    vector_count = health.get("vector_count")
    if vector_count is not None and vector_count != counts.chunks:
        summary["hint"] = (
            f"the vector store holds {vector_count} vectors for {counts.chunks} chunks; "
            "`doxa kb ingest --rebuild PATH` rewrites them from the stored chunks"
        )
    return summary


def answer_model_status(services: Services) -> dict[str, Any]:
    """The answer model kb_confident uses: kind, threshold, the state it was fitted on, and whether it is stale."""
    store = CalibrationStore(services.db, services.settings.embedding_model)
    stored = store.latest()
    if stored is None:
        return {
            "kind": "fallback",
            "threshold": services.settings.kb_confidence_threshold,
            "note": "not calibrated yet: kb_confident is best cosine >= DOXA_KB_CONFIDENCE_THRESHOLD until"
            " `doxa kb calibrate` (or the service) fits a model on this knowledge base",
        }
    status: dict[str, Any] = {
        "kind": stored.model.kind,
        "threshold": stored.model.threshold,
        "fitted_at": stored.fitted_at.isoformat(),
        "kb_revision": stored.state.kb_revision,
        "stale": stored.state != store.state(),
        "positives": stored.model.fitted_on.get("positives", 0),
        "negatives": stored.model.fitted_on.get("negatives", 0),
    }
    if stored.model.kind == "fallback":
        status["note"] = (
            f"knowledge base too small to calibrate ({stored.model.fitted_on.get('reason', '')}): kb_confident is"
            f" the conservative best cosine >= {stored.model.threshold:.2f}"
        )
    return status
