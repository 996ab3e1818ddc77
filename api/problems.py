"""One error shape for every 4xx/5xx: RFC 9457 problem+json."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import (
    ConfigurationError,
    ConflictError,
    DoxaError,
    InvalidInputError,
    NotFoundError,
)

log = logging.getLogger(__name__)

DATABASE_RETRY_AFTER_S = 5

_STATUS_BY_ERROR: list[tuple[type[DoxaError], int]] = [
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidInputError, 422),
    (ConfigurationError, 500),
]


def problem(status: int, detail: str, headers: Mapping[str, str] | None = None, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    """Translate Doxa's typed errors, HTTP errors and validation errors into problem+json."""

    @app.exception_handler(DoxaError)
    async def _doxa_error(request: Request, exc: DoxaError) -> JSONResponse:
        status = next((code for kind, code in _STATUS_BY_ERROR if isinstance(exc, kind)), 400)
        if status >= 500:
            log.error("request failed: %s", exc)
        return problem(status, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Keep the exception's headers: WWW-Authenticate on 401, Retry-After on 503.
        return problem(exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(psycopg.OperationalError)
    async def _database_unavailable(request: Request, exc: psycopg.OperationalError) -> JSONResponse:
        # A stopped or restarting server, a dropped connection, or no pooled connection in time (PoolTimeout):
        # the request may succeed later; the pool's health checks replace broken connections by themselves.
        log.warning("database unavailable: %s: %s", exc.__class__.__name__, exc)
        return problem(
            503,
            "the database is unavailable; retry shortly",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
            for err in exc.errors()
        ]
        return problem(422, "the request is not valid", errors=errors)
