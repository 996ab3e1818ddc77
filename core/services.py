"""Process-wide service handles built from settings: the one place where engines are opened.

The CLI and the API open a `Services` once and hand its parts to the graphs' runtime context;
tests build one on a fresh database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from core.clickhouse import ClickHouse, open_clickhouse
from core.database import Database
from core.embeddings import Embedder, PostgresEmbeddingCache
from core.qdrant_edge import QdrantEdge, open_qdrant_edge
from core.settings import Settings

if TYPE_CHECKING:
    # qdrant_client takes seconds to import: only a process that opens it pays (`doxa --help` does not).
    from qdrant_client import QdrantClient


@dataclass
class Services:
    """Lazily opened engines for one process."""

    settings: Settings
    db: Database
    embedder: Embedder = field(init=False)

    def __post_init__(self) -> None:
        self.embedder = Embedder.from_settings(self.settings, PostgresEmbeddingCache(self.db))

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """Open the database (embedded or configured) with migrations applied."""
        return cls(settings, Database.open(settings))

    @cached_property
    def qdrant(self) -> QdrantClient:
        """The client of the Qdrant server at DOXA_QDRANT_URL."""
        from core.qdrant import open_qdrant

        return open_qdrant(self.settings)

    @cached_property
    def qdrant_edge(self) -> QdrantEdge:
        """Qdrant's engine in process under DOXA_HOME/qdrant_edge (used when DOXA_QDRANT_URL is unset)."""
        return open_qdrant_edge(self.settings)

    @cached_property
    def clickhouse(self) -> ClickHouse:
        """The ClickHouse client (chdb or server)."""
        return open_clickhouse(self.settings)

    def close(self) -> None:
        """Release pooled connections."""
        self.db.close()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
