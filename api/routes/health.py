"""Liveness and readiness."""

from __future__ import annotations

import psycopg
from fastapi import APIRouter, Request, Response

from api.deps import ServicesDep
from api.problems import problem_responses
from api.responses import Liveness, Readiness
from core.database import EmbeddedServerDown
from core.embedded_postgres import PostgresSupervisor

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    response_model_exclude_unset=True,
    # A probe's 503 carries the same body as its 200 (what is down), not a problem: probes and people read it.
    responses={
        503: {"model": Liveness, "description": "the embedded PostgreSQL died and is being restarted"},
        **problem_responses(500),
    },
)
def healthz(request: Request, response: Response) -> Liveness:
    """The process is up, and the embedded PostgreSQL it supervises runs (read now, no connection attempted)."""
    supervisor = _postgres_supervisor(request)
    if supervisor is not None and supervisor.state() == "down":
        response.status_code = 503
        return Liveness(status="degraded", postgres="embedded server down, restarting")
    return Liveness(status="ok")


def _postgres_supervisor(request: Request) -> PostgresSupervisor | None:
    services = getattr(request.app.state, "services", None)
    return None if services is None else services.db.supervisor


@router.get(
    "/readyz",
    responses={503: {"model": Readiness, "description": "a dependency is not ready"}, **problem_responses(500)},
)
def readyz(services: ServicesDep, response: Response) -> Readiness:
    """Postgres, the vector store, ClickHouse and the embedding model are usable."""
    from kb.vector_store.factory import open_vector_store

    checks: dict[str, str] = {}
    supervisor = services.db.supervisor
    try:
        if supervisor is not None and supervisor.state() == "down":
            raise EmbeddedServerDown("embedded server down, restarting")
        with services.db.connection() as conn:
            conn.execute("SELECT 1")
        checks["postgres"] = "ok"
    except EmbeddedServerDown as exc:
        checks["postgres"] = f"error: {exc}"
    except psycopg.Error as exc:
        checks["postgres"] = f"error: {exc.__class__.__name__}"
    try:
        checks["vector_store"] = open_vector_store(services).health_check().get("status", "unknown")
    except Exception as exc:  # noqa: BLE001 - readiness reports any failure instead of raising
        checks["vector_store"] = f"error: {exc.__class__.__name__}"
    try:
        # The embedded engine takes turns between processes (core/clickhouse.py): another Doxa process's turn
        # is a healthy engine, reported without waiting for it.
        held_elsewhere = getattr(services.clickhouse, "held_elsewhere", None)
        if held_elsewhere is not None and (holder := held_elsewhere()) is not None:
            checks["clickhouse"] = f"busy: in use by process {holder}"
        else:
            services.clickhouse.query("SELECT 1 AS ok")
            checks["clickhouse"] = "ok"
    except Exception as exc:  # noqa: BLE001 - readiness reports any failure instead of raising
        checks["clickhouse"] = f"error: {exc.__class__.__name__}"
    checks["embedding_model"] = "ok" if services.embedder.loaded else "not loaded"
    ready = all(value in ("ok", "empty") or str(value).startswith("busy:") for value in checks.values())
    response.status_code = 200 if ready else 503
    return Readiness(status="ready" if ready else "not ready", checks=checks)
