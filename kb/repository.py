"""All SQL for the knowledge base's documents, sections (parents), chunks (children) and revision.

Every write runs in one explicit transaction and bumps `kb_state.revision`, so in-process keyword
indexes know when to reload.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from core.database import Database
from core.errors import ConfigurationError


@dataclass(frozen=True)
class DocumentRecord:
    """A document row: what ingest compares to decide whether a file changed."""

    id: str
    source: str
    title: str
    category: str | None
    content_hash: str
    byte_size: int
    page_count: int | None
    chunk_count: int
    embedding_model: str
    url: str | None = None  # the public address replies cite; `source` is the path on the server


@dataclass(frozen=True)
class SectionRecord:
    """A section row: the whole text under one heading, shown when an answer needs context."""

    id: str
    document_id: str
    ordinal: int
    path: str
    page: int | None
    text: str


@dataclass(frozen=True)
class ChunkRecord:
    """A chunk row with its document's title: what retrieval hands to the answer."""

    id: str
    document_id: str
    section_id: str | None
    ordinal: int
    text: str
    section_path: str
    page: int | None
    source: str
    category: str | None
    content_hash: str
    title: str = ""
    url: str | None = None  # the document's public address, if it has one

    @property
    def embedded_text(self) -> str:
        """The text whose vector is stored (section path, blank line, passage)."""
        return f"{self.section_path}\n\n{self.text}"


@dataclass(frozen=True)
class KnowledgeBaseCounts:
    """Sizes of the knowledge base for `doxa kb status`."""

    documents: int
    sections: int
    chunks: int
    revision: int
    updated_at: datetime
    embedding_models: tuple[str, ...]


_CHUNK_COLUMNS = (
    "c.id::text AS id, c.document_id, c.section_id, c.ordinal, c.text, c.section_path, c.page,"
    " c.source, c.category, c.content_hash, d.title, d.url"
)


class KnowledgeBaseRepository:
    """Reads and writes kb_document, kb_section, kb_chunk and kb_state.

    Example:
        >>> repo = KnowledgeBaseRepository(db)
        >>> repo.fetch_chunks(["6f1c..."])[0].section_path
        'Billing > Refunds'
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- documents -------------------------------------------------------------------------------

    def get_document(self, source: str) -> DocumentRecord | None:
        """The document ingested from `source`, if any."""
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT id, source, title, category, content_hash, byte_size, page_count, chunk_count,"
                " embedding_model, url FROM kb_document WHERE source = %s",
                (source,),
            ).fetchone()
        return DocumentRecord(**row) if row else None

    def list_sources(self, under: str | None = None) -> list[str]:
        """Every ingested source, or those whose path starts with the directory `under`."""
        with self.db.connection() as conn:
            if under is None:
                rows = conn.execute("SELECT source FROM kb_document ORDER BY source").fetchall()
            else:
                prefix = under.rstrip("/") + "/"
                rows = conn.execute(
                    "SELECT source FROM kb_document WHERE left(source, length(%s)) = %s ORDER BY source",
                    (prefix, prefix),
                ).fetchall()
        return [row["source"] for row in rows]

    def replace_document(
        self, document: DocumentRecord, sections: Sequence[SectionRecord], chunks: Sequence[ChunkRecord]
    ) -> None:
        """Write a document with exactly these sections and chunks, in one transaction."""
        with self.db.transaction() as conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO kb_document (id, source, title, category, content_hash, byte_size, page_count,"
                " chunk_count, embedding_model, url) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET source = EXCLUDED.source, title = EXCLUDED.title,"
                " category = EXCLUDED.category, content_hash = EXCLUDED.content_hash,"
                " byte_size = EXCLUDED.byte_size, page_count = EXCLUDED.page_count,"
                " chunk_count = EXCLUDED.chunk_count, embedding_model = EXCLUDED.embedding_model,"
                " url = EXCLUDED.url, updated_at = now()",
                (
                    document.id,
                    document.source,
                    document.title,
                    document.category,
                    document.content_hash,
                    document.byte_size,
                    document.page_count,
                    document.chunk_count,
                    document.embedding_model,
                    document.url,
                ),
            )
            cur.execute("DELETE FROM kb_chunk WHERE document_id = %s", (document.id,))
            cur.execute("DELETE FROM kb_section WHERE document_id = %s", (document.id,))
            cur.executemany(
                "INSERT INTO kb_section (id, document_id, ordinal, path, page, text) VALUES (%s, %s, %s, %s, %s, %s)",
                [(s.id, s.document_id, s.ordinal, s.path, s.page, s.text) for s in sections],
            )
            cur.executemany(
                "INSERT INTO kb_chunk (id, document_id, section_id, ordinal, text, section_path, page,"
                " source, category, content_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        c.id,
                        c.document_id,
                        c.section_id,
                        c.ordinal,
                        c.text,
                        c.section_path,
                        c.page,
                        c.source,
                        c.category,
                        c.content_hash,
                    )
                    for c in chunks
                ],
            )
            _bump_revision(conn)

    def delete_documents(self, sources: Sequence[str]) -> list[str]:
        """Delete documents (their sections and chunks cascade); return the deleted chunk ids."""
        if not sources:
            return []
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT c.id::text AS id FROM kb_chunk c JOIN kb_document d ON d.id = c.document_id"
                " WHERE d.source = ANY(%s)",
                (list(sources),),
            ).fetchall()
            deleted = conn.execute("DELETE FROM kb_document WHERE source = ANY(%s)", (list(sources),))
            if deleted.rowcount:
                _bump_revision(conn)
        return [row["id"] for row in rows]

    def set_embedding_model(self, model: str) -> None:
        """Record that every document's vectors now come from `model` (after a rebuild)."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE kb_document SET embedding_model = %s WHERE embedding_model <> %s", (model, model))
            _bump_revision(conn)

    # --- chunks and sections ---------------------------------------------------------------------

    def document_chunks(self, document_id: str) -> dict[str, ChunkRecord]:
        """A document's current chunks by id (what ingest diffs a new version against)."""
        with self.db.connection() as conn:
            rows = conn.execute(
                f"SELECT {_CHUNK_COLUMNS} FROM kb_chunk c JOIN kb_document d ON d.id = c.document_id"
                " WHERE c.document_id = %s ORDER BY c.ordinal",
                (document_id,),
            ).fetchall()
        return {row["id"]: ChunkRecord(**row) for row in rows}

    def fetch_chunks(self, ids: Sequence[str]) -> list[ChunkRecord]:
        """Chunks by id, in the order asked; ids that no longer exist are left out."""
        if not ids:
            return []
        with self.db.connection() as conn:
            rows = conn.execute(
                f"SELECT {_CHUNK_COLUMNS} FROM kb_chunk c JOIN kb_document d ON d.id = c.document_id"
                " WHERE c.id = ANY(%s::uuid[])",
                (list(ids),),
            ).fetchall()
        by_id = {row["id"]: ChunkRecord(**row) for row in rows}
        return [by_id[chunk_id] for chunk_id in ids if chunk_id in by_id]

    def fetch_section(self, section_id: str) -> SectionRecord | None:
        """A whole section by id (the parent of a retrieved chunk)."""
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT id, document_id, ordinal, path, page, text FROM kb_section WHERE id = %s", (section_id,)
            ).fetchone()
        return SectionRecord(**row) if row else None

    def iter_chunks(self, batch_size: int = 1000) -> Iterator[ChunkRecord]:
        """Every chunk in a stable order, read in batches (keyword index builds, vector rebuilds)."""
        last_id = "00000000-0000-0000-0000-000000000000"  # the nil uuid sorts before every uuid5
        while True:
            with self.db.connection() as conn:
                rows = conn.execute(
                    f"SELECT {_CHUNK_COLUMNS} FROM kb_chunk c JOIN kb_document d ON d.id = c.document_id"
                    " WHERE c.id > %s::uuid ORDER BY c.id LIMIT %s",
                    (last_id, batch_size),
                ).fetchall()
            if not rows:
                return
            yield from (ChunkRecord(**row) for row in rows)
            last_id = rows[-1]["id"]

    def chunk_ids(self) -> set[str]:
        """Every chunk id (vectors with other ids are orphans)."""
        with self.db.connection() as conn:
            return {row["id"] for row in conn.execute("SELECT id::text AS id FROM kb_chunk")}

    # --- state -----------------------------------------------------------------------------------

    def revision(self) -> int:
        """The KB revision, bumped by every change."""
        with self.db.connection() as conn:
            row = conn.execute("SELECT revision FROM kb_state").fetchone()
        return int(row["revision"]) if row else 0

    def counts(self) -> KnowledgeBaseCounts:
        """How many documents, sections and chunks the KB holds, and its revision."""
        with self.db.connection() as conn:
            row: dict[str, Any] | None = conn.execute(
                "SELECT (SELECT count(*) FROM kb_document) AS documents,"
                " (SELECT count(*) FROM kb_section) AS sections,"
                " (SELECT count(*) FROM kb_chunk) AS chunks,"
                " s.revision, s.updated_at,"
                " ARRAY(SELECT DISTINCT embedding_model FROM kb_document ORDER BY 1) AS embedding_models"
                " FROM kb_state s"
            ).fetchone()
        if row is None:
            raise ConfigurationError("kb_state has no row; migration 0001 was not applied")
        row["embedding_models"] = tuple(row["embedding_models"])
        return KnowledgeBaseCounts(**row)


def _bump_revision(conn: psycopg.Connection[Any]) -> None:
    conn.execute("UPDATE kb_state SET revision = revision + 1, updated_at = now()")
