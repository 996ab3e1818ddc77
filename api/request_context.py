"""Each request's id and its access-log line, written by Doxa rather than uvicorn.

A client may send `x-request-id` so its own logs and ours line up, but the value ends up in every log
line: one longer than 128 characters or holding anything but letters, digits and `-_.:` (spaces would
forge `key=value` fields) is replaced by a fresh id. The access line is logged here, inside the request's
context, so it carries that request's id; uvicorn's own access log runs outside it (`doxa serve` turns
it off). Query strings of open endpoints carry what customers type (`/kb/search?q=my card 4111…`), so
the logged query is PII-redacted.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logging import request_id
from text.pii import redact_pii

log = logging.getLogger("doxa.access")

REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def accepted_request_id(candidate: str | None) -> str:
    """The client's id when it is short and plain, else a fresh one."""
    if candidate is not None and REQUEST_ID_RE.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


def redacted_query(query_string: bytes) -> str:
    """The query string with each value PII-redacted (placeholders instead of card numbers, e-mails...)."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return urlencode([(key, redact_pii(value).text) for key, value in pairs], safe="[]")


class RequestContext:
    """ASGI middleware: request id in the context, on `request.state` and the response; one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request inside its id's context."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw = headers.get(b"x-request-id")
        rid = accepted_request_id(raw.decode("latin-1") if raw is not None else None)
        scope.setdefault("state", {})["request_id"] = rid
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message["headers"] = [*kept, (b"x-request-id", rid.encode())]
            await send(message)

        token = request_id.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            query = redacted_query(scope.get("query_string") or b"")
            path = scope.get("path", "") + (f"?{query}" if query else "")
            log.info(
                "%s %s %d",
                scope.get("method", "-"),
                path,
                status,
                extra={
                    "request_id": rid,
                    "status": status,
                    "duration_ms": round(1000 * (time.perf_counter() - started), 1),
                },
            )
            request_id.reset(token)
