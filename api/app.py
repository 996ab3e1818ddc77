"""The FastAPI application factory: engines opened once in the lifespan, routes per resource."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from api.problems import install_problem_handlers
from api.routes import health, knowledge_base
from core.logging import request_id
from core.services import Services
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app; tests pass their own settings or already-open services."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services or Services.open(settings)
        # Load the model before serving, so the first request does not pay for it.
        await asyncio.to_thread(app.state.services.embedder.warm_up)
        try:
            yield
        finally:
            if owned:
                app.state.services.close()

    app = FastAPI(
        title="Doxa",
        version="0.1.0",
        description="AI help desk: ticket resolution and FAQ mining over one knowledge store.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)

    @app.middleware("http")
    async def _request_id(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        token = request_id.set(rid)
        try:
            response = await call_next(request)
        finally:
            request_id.reset(token)
        response.headers["x-request-id"] = rid
        return response

    app.include_router(health.router)
    app.include_router(knowledge_base.router)
    return app
