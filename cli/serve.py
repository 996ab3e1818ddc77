"""`doxa serve`: the HTTP API under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from core.settings import get_settings


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Uvicorn worker processes (embedded mode: keep 1).")] = 1,
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs; auth settings in `doxa config`, keys with `doxa apikey`)."""
    import uvicorn

    from api.auth.dependencies import refuse_unsafe_auth

    # Refuse unsafe production auth with a one-line error before uvicorn imports the app.
    refuse_unsafe_auth(get_settings())
    # Keep idle connections longer than the load balancer does (nginx keeps upstream ones 60 s): when both
    # sides time out together, a request can leave on a connection the server is closing.
    # Access lines come from api/request_context.py (request id, redacted query), not from uvicorn.
    uvicorn.run(
        "api.main:app",
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        timeout_keep_alive=75,
        access_log=False,
    )
