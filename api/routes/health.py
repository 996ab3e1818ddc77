"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ServicesDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "a dependency is not ready"}})
def readyz(services: ServicesDep) -> JSONResponse:
    """Postgres, the vector store, ClickHouse and the embedding model are usable."""
    from kb.vector_store.factory import open_vector_store

    checks: dict[str, Any] = {}
    try:
        with services.db.connection() as conn:
            conn.execute("SELECT 1")
        checks["postgres"] = "ok"
    except psycopg.Error as exc:
        checks["postgres"] = f"error: {exc.__class__.__name__}"
    try:
        checks["vector_store"] = open_vector_store(services).health_check().get("status", "unknown")
    except Exception as exc:  # noqa: BLE001 - readiness reports any failure instead of raising
        checks["vector_store"] = f"error: {exc.__class__.__name__}"
    try:
        services.clickhouse.query("SELECT 1 AS ok")
        checks["clickhouse"] = "ok"
    except Exception as exc:  # noqa: BLE001 - readiness reports any failure instead of raising
        checks["clickhouse"] = f"error: {exc.__class__.__name__}"
    checks["embedding_model"] = "ok" if services.embedder.loaded else "not loaded"
    ready = all(value in ("ok", "empty") for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
    )
