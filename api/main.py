"""The ASGI application that `doxa serve` and `uvicorn api.main:app` run."""

from api.app import create_app

app = create_app()
