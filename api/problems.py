"""One error shape for every 4xx/5xx: RFC 9457 problem+json."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import (
    ConfigurationError,
    ConflictError,
    DoxaError,
    EngineBusyError,
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
    (EngineBusyError, 503),
]


PROBLEM_MEDIA_TYPE = "application/problem+json"
_PROBLEM_REF = "#/components/schemas/Problem"


class ValidationIssue(BaseModel):
    """One reason a request is not valid."""

    loc: list[str | int] = Field(description="Where: `body`, `query`, `path` or `header`, then the field's path.")
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem: the body of every 4xx and 5xx answer."""

    type: str = Field(default="about:blank", description="Always about:blank: `status` and `title` say it all.")
    title: str = Field(description="The status code's phrase.")
    status: int
    detail: str = Field(description="What went wrong, for a person to read.")
    errors: list[ValidationIssue] | None = Field(default=None, description="422 only: each invalid field.")


def problem_responses(*statuses: int | str, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for `statuses`, each a problem+json body; `descriptions` by `_<status>` key.

    Example: `problem_responses(401, 403, 404, _404="no such ticket")`.
    """
    return {
        status: {
            "description": descriptions.get(f"_{status}", HTTPStatus(int(status)).phrase),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _PROBLEM_REF}}},
        }
        for status in statuses
    }


def install_problem_schema(app: FastAPI) -> None:
    """Publish the `Problem` schema the routes' error responses refer to (FastAPI lists only bodies it models)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            defs = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(defs.pop("$defs", {}))
            schemas["Problem"] = defs
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


def problem(status: int, detail: str, headers: Mapping[str, str] | None = None, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    """Translate Doxa's typed errors, HTTP errors and validation errors into problem+json (and document it)."""
    install_problem_schema(app)

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

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette's last resort answers a bare text/plain 500; this one keeps the problem shape and the
        # request id (set on request.state by api/request_context.py) so the log line can be found.
        rid = getattr(request.state, "request_id", None)
        log.error("unexpected error: %s", exc.__class__.__name__, exc_info=exc, extra={"request_id": rid})
        return problem(500, f"internal error; quote request id {rid}", headers={"x-request-id": rid} if rid else None)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
            for err in exc.errors()
        ]
        return problem(422, "the request is not valid", errors=errors)
