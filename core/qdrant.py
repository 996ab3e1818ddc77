"""Qdrant client factory: local mode on disk under DOXA_HOME, or a server when DOXA_QDRANT_URL is set.

Qdrant's local mode locks its directory, so one client per path is shared by the whole process.
"""

from __future__ import annotations

import atexit
import threading
from pathlib import Path

from qdrant_client import QdrantClient

from core.settings import Settings

_lock = threading.Lock()
_local_clients: dict[Path, QdrantClient] = {}


def open_qdrant(settings: Settings) -> QdrantClient:
    """The configured Qdrant client (shared per path in local mode)."""
    if settings.qdrant_url:
        api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return QdrantClient(url=settings.qdrant_url, api_key=api_key)
    path = settings.state_dir("qdrant").resolve()
    return local_qdrant(path)


def local_qdrant(path: Path) -> QdrantClient:
    """A process-wide local-mode client for one directory."""
    with _lock:
        client = _local_clients.get(path)
        if client is None:
            client = QdrantClient(path=str(path))
            _local_clients[path] = client
        return client


@atexit.register
def close_local_clients() -> None:
    """Close every local-mode client (flushes and unlocks its directory) before the interpreter exits.

    Left to garbage collection, the client closes during interpreter teardown and prints an ignored
    ImportError.
    """
    with _lock:
        for client in _local_clients.values():
            client.close()
        _local_clients.clear()
