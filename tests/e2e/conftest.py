"""The real app served by uvicorn on a free loopback port, on the test's embedded Postgres."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from api.app import create_app
from core.services import Services
from core.settings import Settings
from tests.api.conftest import _classifier_in_home, api_settings, fitted_classifier  # noqa: F401 (fixtures)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served_app(api_settings: Settings, services: Services) -> Iterator[str]:  # noqa: F811
    """The base URL of the app, served in a thread until the test ends."""
    config = uvicorn.Config(
        create_app(api_settings, services), host="127.0.0.1", port=free_port(), log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{config.port}"
    server.should_exit = True
    thread.join(timeout=30)
