"""Qdrant server client: the configured server at DOXA_QDRANT_URL.

Without a URL Doxa runs Qdrant's own engine in process instead (`core.qdrant_edge`); qdrant-client's
local mode (a brute-force scan in Python) is no longer used.
"""

from __future__ import annotations

from qdrant_client import QdrantClient

from core.errors import ConfigurationError
from core.settings import Settings


def open_qdrant(settings: Settings) -> QdrantClient:
    """The client of the configured Qdrant server."""
    if not settings.qdrant_url:
        raise ConfigurationError(
            "DOXA_QDRANT_URL is not set: the embedded Qdrant engine (core.qdrant_edge) serves this configuration"
        )
    api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    return QdrantClient(url=settings.qdrant_url, api_key=api_key)
