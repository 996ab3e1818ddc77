"""Qdrant's own engine in process (qdrant-edge): one shard per collection under DOXA_HOME/qdrant_edge.

Qdrant Edge runs the segment engine of a Qdrant server (HNSW graphs, payload indexes, a WAL) inside
this process, with no server and no collections: a shard is one folder. `QdrantEdge` plays the part
of a server's collection API for Doxa's stores: it opens, creates and drops one shard per collection
name and keeps beside it the small record (model, dimension) a server keeps in collection metadata.

A shard's WAL is locked by the process that opened it, so one handle per folder is shared by the
whole process (`open_qdrant_edge`), and a second process cannot open the same folder (it fails with
`QdrantEdgeError`); a server (DOXA_QDRANT_URL) or pgvector serves several processes.
"""

from __future__ import annotations

import atexit
import json
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qdrant_edge import EdgeConfig, EdgeShard

from core.errors import ConfigurationError, DoxaError
from core.settings import Settings

_COLLECTION_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$")
_RECORD = "doxa_collection.json"
_SHARDS = "shard"


class QdrantEdgeError(DoxaError):
    """The embedded Qdrant engine refused an operation (a locked folder, a broken shard)."""


@dataclass(frozen=True)
class CollectionRecord:
    """What a collection was built with, kept beside its shard."""

    model: str
    dimension: int


class QdrantEdge:
    """The collections of one folder, each an open `EdgeShard`, shared by the whole process.

    Example:
        >>> edge = open_qdrant_edge(settings)
        >>> shard = edge.create("doxa_kb", EdgeConfig(...), CollectionRecord("all-MiniLM-L6-v2", 384))
        >>> edge.shard("doxa_kb") is shard
        True
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._shards: dict[str, EdgeShard] = {}
        self._lock = threading.RLock()

    def folder(self, collection: str) -> Path:
        """The folder of one collection; refuses names that are not plain folder names."""
        if not _COLLECTION_NAME.match(collection):
            raise ConfigurationError(
                f"vector collection {collection!r} must match {_COLLECTION_NAME.pattern} to name a folder"
            )
        return self.root / collection

    def exists(self, collection: str) -> bool:
        """Whether the collection has been created (and not dropped)."""
        return (self.folder(collection) / _RECORD).is_file()

    def record(self, collection: str) -> CollectionRecord | None:
        """The model record of an existing collection, or None."""
        path = self.folder(collection) / _RECORD
        if not path.is_file():
            return None
        raw = json.loads(path.read_text(encoding="utf-8"))
        return CollectionRecord(model=str(raw["model"]), dimension=int(raw["dimension"]))

    def shard(self, collection: str) -> EdgeShard | None:
        """The open shard of an existing collection (loaded on first use), or None if there is none."""
        with self._lock:
            shard = self._shards.get(collection)
            if shard is not None:
                return shard
            if not self.exists(collection):
                return None
            shard = _engine_call(lambda: EdgeShard.load(str(self.folder(collection) / _SHARDS)), collection)
            self._shards[collection] = shard
            return shard

    def create(self, collection: str, config: EdgeConfig, record: CollectionRecord) -> EdgeShard:
        """Create the collection's shard and its record (the record last: it marks the shard complete)."""
        with self._lock:
            folder = self.folder(collection)
            if folder.exists():
                shutil.rmtree(folder)  # a half-created collection from an interrupted run
            folder.mkdir(parents=True)
            shard = _engine_call(lambda: EdgeShard.create(str(folder / _SHARDS), config), collection)
            self._shards[collection] = shard
            payload = {"model": record.model, "dimension": record.dimension}
            (folder / _RECORD).write_text(json.dumps(payload), encoding="utf-8")
            return shard

    def drop(self, collection: str) -> None:
        """Close and delete a collection's shard and record; a missing collection is no error."""
        with self._lock:
            shard = self._shards.pop(collection, None)
            if shard is not None:
                shard.close()
            folder = self.folder(collection)
            if folder.exists():
                shutil.rmtree(folder)

    def close(self) -> None:
        """Flush and close every open shard (releases their WAL locks)."""
        with self._lock:
            for shard in self._shards.values():
                shard.close()
            self._shards.clear()


def _engine_call(call: Callable[[], EdgeShard], collection: str) -> EdgeShard:
    """Run a shard open/create; the engine raises bare `Exception`, which becomes a typed error here."""
    try:
        return call()
    except Exception as exc:  # qdrant-edge raises only builtins.Exception, with the engine's message
        raise QdrantEdgeError(
            f"the embedded Qdrant engine could not open collection {collection!r}: {exc}. Only one process"
            " can open DOXA_HOME/qdrant_edge at a time; use DOXA_QDRANT_URL or pgvector to share it."
        ) from exc


_registry_lock = threading.Lock()
_engines: dict[Path, QdrantEdge] = {}


def open_qdrant_edge(settings: Settings) -> QdrantEdge:
    """The process-wide embedded engine for DOXA_HOME/qdrant_edge."""
    return qdrant_edge_at(settings.state_dir("qdrant_edge").resolve())


def qdrant_edge_at(root: Path) -> QdrantEdge:
    """The process-wide embedded engine for one folder."""
    with _registry_lock:
        engine = _engines.get(root)
        if engine is None:
            engine = QdrantEdge(root)
            _engines[root] = engine
        return engine


@atexit.register
def close_engines() -> None:
    """Close every shard before the interpreter exits, so the next process finds its WAL unlocked."""
    with _registry_lock:
        for engine in _engines.values():
            engine.close()
        _engines.clear()
