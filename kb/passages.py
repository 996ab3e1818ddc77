"""Where retrieval reads chunk text, metadata and stored vectors: kb_chunk in PostgreSQL, or memory.

Retrieval only reads. Chunks and the revision come through `kb.repository`; the one query of its own
here reads the cached vectors of chunks that only the keyword side found (from `embedding_cache`,
by the chunk's content hash), so their cosine is exact without embedding them again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from core.database import Database
from core.embeddings import Vectors
from kb.keyword_index import KeywordDocument
from kb.repository import ChunkRecord, KnowledgeBaseRepository


@dataclass(frozen=True)
class Passage:
    """One KB chunk as retrieval shows it."""

    chunk_id: str
    document_id: str
    title: str  # the document title
    section_path: str  # "Title > Section", prepended to the text that was embedded
    text: str
    source: str
    section_id: str | None = None
    page: int | None = None
    category: str | None = None
    content_hash: str | None = None  # hash of the embedded text: the key of its cached vector
    url: str | None = None  # the document's public address; `source` is a server path, never shown to customers

    @property
    def public_source(self) -> str:
        """What a customer may be shown as the passage's origin: the public address, else the title."""
        return self.url or self.title

    def keyword_document(self) -> KeywordDocument:
        """The fields the keyword index reads."""
        return KeywordDocument(self.chunk_id, self.section_path, self.text, self.category)


class PassageSource(Protocol):
    """Read access to KB chunks for retrieval."""

    def revision(self) -> int:
        """A number that changes whenever chunks are added, changed or removed."""
        ...

    def keyword_documents(self) -> tuple[int, list[KeywordDocument]]:
        """Every chunk's keyword fields, with the revision they were read at."""
        ...

    def passages(self, chunk_ids: Sequence[str]) -> dict[str, Passage]:
        """The chunks with these ids (unknown ids are left out)."""
        ...

    def stored_vectors(self, chunk_ids: Sequence[str]) -> dict[str, Vectors]:
        """Vectors already computed for these chunks, where known."""
        ...


class PostgresPassages:
    """Chunks from the KB repository; stored vectors come from `embedding_cache` by content hash.

    Example:
        >>> passages = PostgresPassages(db, "sentence-transformers/all-MiniLM-L6-v2")
        >>> passages.passages(["5f0c..."])
    """

    def __init__(self, db: Database, embedding_model: str) -> None:
        self.db = db
        self.embedding_model = embedding_model
        self.repository = KnowledgeBaseRepository(db)

    def revision(self) -> int:
        """kb_state.revision, bumped by ingestion on every change."""
        return self.repository.revision()

    def keyword_documents(self) -> tuple[int, list[KeywordDocument]]:
        """Every chunk's keyword fields, and the revision read before them.

        A change made while reading bumps the revision past the one returned, so the next check
        rebuilds: an index is never tagged with a revision newer than its contents.
        """
        revision = self.repository.revision()
        documents = [
            KeywordDocument(chunk.id, chunk.section_path, chunk.text, chunk.category)
            for chunk in self.repository.iter_chunks(batch_size=5000)
        ]
        return revision, documents

    def passages(self, chunk_ids: Sequence[str]) -> dict[str, Passage]:
        """The chunks with these ids, with their document's title."""
        return {chunk.id: _passage(chunk) for chunk in self.repository.fetch_chunks(chunk_ids)}

    def stored_vectors(self, chunk_ids: Sequence[str]) -> dict[str, Vectors]:
        """Cached vectors of these chunks' embedded text, for the configured model."""
        if not chunk_ids:
            return {}
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT c.id::text AS chunk_id, e.vector FROM kb_chunk c"
                " JOIN embedding_cache e ON e.content_hash = c.content_hash AND e.model = %s"
                " WHERE c.id = ANY(%s::uuid[])",
                (self.embedding_model, list(chunk_ids)),
            ).fetchall()
            conn.rollback()
        return {row["chunk_id"]: np.frombuffer(row["vector"], dtype="<f4") for row in rows}


class InMemoryPassages:
    """Passages and their vectors held in memory (evaluation runs, tests)."""

    def __init__(self, passages: Sequence[Passage], vectors: Mapping[str, Vectors], revision: int = 1) -> None:
        self._passages = {passage.chunk_id: passage for passage in passages}
        self._vectors = dict(vectors)
        self._revision = revision

    def revision(self) -> int:
        """Fixed: an in-memory collection does not change under the retriever."""
        return self._revision

    def keyword_documents(self) -> tuple[int, list[KeywordDocument]]:
        """Every passage's keyword fields."""
        return self._revision, [passage.keyword_document() for passage in self._passages.values()]

    def passages(self, chunk_ids: Sequence[str]) -> dict[str, Passage]:
        """The passages with these ids."""
        return {chunk_id: self._passages[chunk_id] for chunk_id in chunk_ids if chunk_id in self._passages}

    def stored_vectors(self, chunk_ids: Sequence[str]) -> dict[str, Vectors]:
        """The vectors of these passages."""
        return {chunk_id: self._vectors[chunk_id] for chunk_id in chunk_ids if chunk_id in self._vectors}


def _passage(chunk: ChunkRecord) -> Passage:
    return Passage(
        chunk_id=chunk.id,
        document_id=chunk.document_id,
        title=chunk.title,
        section_path=chunk.section_path,
        text=chunk.text,
        source=chunk.source,
        section_id=chunk.section_id,
        page=chunk.page,
        category=chunk.category,
        content_hash=chunk.content_hash,
        url=chunk.url,
    )
