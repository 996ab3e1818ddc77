"""Request-size limits enforced before a body is parsed: 413 problem+json, whether Content-Length is sent or not."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem


class BodyTooLargeError(HTTPException):
    """The request body is larger than the route allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"the request body is larger than {limit} bytes")


class BodySizeLimit:
    """ASGI middleware: `limits_by_path` (exact paths) or `default_limit` bytes per request body."""

    def __init__(self, app: ASGIApp, *, default_limit: int, limits_by_path: Mapping[str, int]) -> None:
        self.app = app
        self.default_limit = default_limit
        self.limits_by_path = dict(limits_by_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared oversize body at once; count the bytes of an undeclared (chunked) one."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits_by_path.get(scope["path"], self.default_limit)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await problem(413, str(BodyTooLargeError(limit).detail))(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside the route's body parsing, so the app's handlers answer with problem+json.
                    raise BodyTooLargeError(limit)
            return message

        await self.app(scope, counted_receive, send)
