"""Incremental, idempotent ingestion of help-centre files into the knowledge base.

A document is skipped when the hash of its extracted text, chunking parameters and embedding model is
unchanged, so re-ingesting an unchanged directory writes nothing. Chunk ids are derived from the
document and the chunk's own hash, so an unchanged passage keeps its id and its vector across edits.
Writes are ordered so a failure never leaves a document half-written: new vectors first, then one
PostgreSQL transaction swapping the document's rows, then deletion of the vectors no longer used.
Retrieval joins vector hits with `kb_chunk`, so vectors orphaned by a crash are invisible until `gc`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from core.embeddings import Embedder, content_hash
from core.errors import EmbeddingModelMismatch, InvalidInputError
from core.services import Services
from kb.chunking import ChunkingParams, Section, chunk_document
from kb.readers import (
    PageOcr,
    ReadDocument,
    UnreadableFileError,
    collect_files,
    mistral_ocr,
    read_document,
)
from kb.repository import ChunkRecord, DocumentRecord, KnowledgeBaseRepository, SectionRecord
from kb.source_url import public_document_url, relative_to_folder
from kb.vector_store.base import VectorPoint, VectorStore
from kb.vector_store.factory import open_vector_store

log = logging.getLogger(__name__)

_CHUNK_ID_NAMESPACE = uuid.UUID("5d0c2a7e-8f5b-4d7e-9a51-d0c5a0000001")
# Called after each file: (files done, files in total, the file just processed).
ProgressCallback = Callable[[int, int, Path], None]


@dataclass(frozen=True)
class FailedFile:
    """A file that could not be ingested, and why."""

    path: str
    reason: str


@dataclass
class IngestReport:
    """What one ingest run did; `chunks_updated` counts kept chunks whose category changed."""

    files_read: int = 0
    documents_added: int = 0
    documents_updated: int = 0
    documents_unchanged: int = 0
    documents_removed: int = 0
    chunks_added: int = 0
    chunks_updated: int = 0
    chunks_removed: int = 0
    chunks_unchanged: int = 0
    vectors_rebuilt: int = 0
    failed: list[FailedFile] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    pages_without_text: dict[str, list[int]] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values."""
        return asdict(self)


def document_id_for(source: str) -> str:
    """The stable id of the document ingested from `source` (a resolved path)."""
    return "doc_" + content_hash(source)[:32]


def document_rows(
    document_id: str, source: str, category: str | None, title: str, sections: Sequence[Section]
) -> tuple[list[SectionRecord], list[ChunkRecord]]:
    """The rows of a chunked document; a chunk's id depends only on the document and its own text."""
    section_rows: list[SectionRecord] = []
    chunk_rows: list[ChunkRecord] = []
    occurrences: Counter[str] = Counter()  # identical passages in one document get distinct ids
    for section in sections:
        section_id = f"{document_id}/s{section.ordinal}"
        section_rows.append(
            SectionRecord(section_id, document_id, section.ordinal, section.path, section.page, section.text)
        )
        for chunk in section.chunks:
            chunk_hash = content_hash(chunk.embedded_text)
            occurrence = occurrences[chunk_hash]
            occurrences[chunk_hash] += 1
            chunk_rows.append(
                ChunkRecord(
                    id=str(uuid.uuid5(_CHUNK_ID_NAMESPACE, f"{document_id}/{chunk_hash}/{occurrence}")),
                    document_id=document_id,
                    section_id=section_id,
                    ordinal=chunk.ordinal,
                    text=chunk.text,
                    section_path=chunk.section_path,
                    page=chunk.page,
                    source=source,
                    category=category,
                    content_hash=chunk_hash,
                    title=title,
                )
            )
    return section_rows, chunk_rows


@dataclass(eq=False)
class KnowledgeBaseIngestor:
    """Reads, chunks, embeds and stores files; unchanged files cost a read and a hash, nothing more.

    Example:
        >>> ingestor = KnowledgeBaseIngestor.from_services(services)
        >>> report = ingestor.run([Path("examples/helpcentre")], prune=True)
        >>> report.chunks_added, report.failed
        (212, [])
    """

    repository: KnowledgeBaseRepository
    store: VectorStore
    embedder: Embedder
    params: ChunkingParams
    _: KW_ONLY
    max_file_bytes: int
    ocr: PageOcr | None = None
    base_url: str | None = None

    def __post_init__(self) -> None:
        if self.max_file_bytes <= 0:
            raise ValueError(f"max_file_bytes must be positive, got {self.max_file_bytes}")
        store, embedder = self.store, self.embedder
        if (store.model_name, store.dimension) != (embedder.model_name, embedder.dimension):
            raise EmbeddingModelMismatch(
                f"vector store {store.collection!r} is for {store.model_name} ({store.dimension}), "
                f"the embedder is {embedder.model_name} ({embedder.dimension})"
            )

    @classmethod
    def from_services(cls, services: Services, store: VectorStore | None = None) -> KnowledgeBaseIngestor:
        """An ingestor on the configured database, vector store, model and chunking settings."""
        settings = services.settings
        api_key = settings.mistral_api_key.get_secret_value() if settings.mistral_api_key else ""
        return cls(
            KnowledgeBaseRepository(services.db),
            store or open_vector_store(services),
            services.embedder,
            ChunkingParams.from_settings(settings),
            max_file_bytes=settings.max_file_bytes,
            ocr=mistral_ocr(api_key, timeout_s=settings.llm_timeout_s) if settings.llm_enabled else None,
            base_url=settings.kb_base_url,
        )

    def warm_up(self) -> None:
        """Load the embedding model (otherwise loaded when the first new chunk is embedded)."""
        self.embedder.warm_up()

    def run(
        self,
        paths: Sequence[Path],
        prune: bool = False,
        category: str | None = None,
        progress: ProgressCallback | None = None,
        rebuild: bool = False,
    ) -> IngestReport:
        """Ingest files and directories; with `prune`, forget files gone from the given directories.

        `category` labels every chunk of the files ingested now; when None, a document keeps the
        category it had. Files that cannot be read are reported in `failed` and keep their previous
        chunks; the rest of the batch is still ingested. With `rebuild`, or when the vector store is
        empty while chunks exist (a new back end, a dropped collection), every stored chunk's vector
        is written again first, from the embedding cache.
        """
        started = time.perf_counter()
        files, skipped, directories = collect_files(paths)
        report = IngestReport(skipped=[str(p) for p in skipped])
        if rebuild or (self.store.count() == 0 and self.repository.counts().chunks > 0):
            report.vectors_rebuilt = self.rebuild()
        for done, path in enumerate(files, start=1):
            try:
                self._ingest_file(path, category, report, relative_to_folder(path, directories))
            except InvalidInputError as exc:  # UnreadableFileError included: bad input, not a crash
                log.warning("not ingested: %s: %s", path, exc)
                report.failed.append(FailedFile(str(path), str(exc)))
            if progress is not None:
                progress(done, len(files), path)
        if prune:
            present = {str(p) for p in files}
            gone = [s for d in directories for s in self.repository.list_sources(str(d)) if s not in present]
            report.documents_removed = len(gone)
            report.chunks_removed += self._delete(gone)
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def delete_source(self, source: str | Path) -> int:
        """Forget one ingested file; returns how many chunks were removed."""
        return self._delete([str(Path(source).expanduser().resolve())])

    def rebuild(self, batch_size: int = 256) -> int:
        """Drop the vector collection and re-create every vector from kb_chunk (cached embeddings)."""
        self.store.drop()
        written = 0
        batch: list[ChunkRecord] = []
        for chunk in self.repository.iter_chunks():
            batch.append(chunk)
            if len(batch) >= batch_size:
                written += self._write_vectors(batch)
                batch = []
        written += self._write_vectors(batch)
        self.repository.set_embedding_model(self.embedder.model_name)
        return written

    def gc(self) -> int:
        """Delete vectors that no chunk refers to (left by an interrupted write); returns how many."""
        orphans = sorted(self.store.ids() - self.repository.chunk_ids())
        self.store.delete(orphans)
        return len(orphans)

    def _ingest_file(self, path: Path, category: str | None, report: IngestReport, relative: Path | None) -> None:
        source = str(path)
        document = read_document(path, max_bytes=self.max_file_bytes, ocr=self.ocr)
        url = public_document_url(document.url, self.base_url, relative)
        report.files_read += 1
        if document.pages_without_text:
            report.pages_without_text[source] = list(document.pages_without_text)
        sections = chunk_document(document, self.params)
        if not any(section.chunks for section in sections):
            raise UnreadableFileError("no text to index (headings only)")
        existing = self.repository.get_document(source)
        if category is None and existing is not None:
            category = existing.category
        fingerprint = "\n".join([self.params.fingerprint, self.embedder.model_name, document.title, document.text])
        document_hash = content_hash(fingerprint)
        unchanged = existing is not None and (
            existing.content_hash == document_hash
            and existing.category == category
            and existing.embedding_model == self.embedder.model_name
            and existing.url == url
        )
        if existing is not None and unchanged:
            report.documents_unchanged += 1
            report.chunks_unchanged += existing.chunk_count
            return

        document_id = document_id_for(source)
        section_rows, chunk_rows = document_rows(document_id, source, category, document.title, sections)
        previous = self.repository.document_chunks(document_id) if existing is not None else {}
        same_model = existing is not None and existing.embedding_model == self.embedder.model_name
        kept = [c for c in chunk_rows if c.id in previous and same_model]
        relabelled = [c for c in kept if previous[c.id].category != c.category]
        fresh = [c for c in chunk_rows if c.id not in previous or not same_model]
        self._write_vectors(fresh + relabelled)
        try:
            self._replace_rows(document_id, source, category, url, document_hash, document, chunk_rows, section_rows)
        except BaseException:
            # All or nothing across both stores: vectors this attempt added go when the rows do not land.
            self.store.delete([c.id for c in fresh if c.id not in previous])
            raise
        new_ids = {c.id for c in chunk_rows}
        stale = [chunk_id for chunk_id in previous if chunk_id not in new_ids]
        self.store.delete(stale)

        if existing is None:
            report.documents_added += 1
        else:
            report.documents_updated += 1
        report.chunks_added += len(fresh)
        report.chunks_updated += len(relabelled)
        report.chunks_unchanged += len(kept) - len(relabelled)
        report.chunks_removed += len(stale)

    def _replace_rows(
        self,
        document_id: str,
        source: str,
        category: str | None,
        url: str | None,
        document_hash: str,
        document: ReadDocument,
        chunk_rows: list[ChunkRecord],
        section_rows: list[SectionRecord],
    ) -> None:
        """Swap the document's rows in one transaction; text PostgreSQL refuses is bad input (422), not a crash."""
        record = DocumentRecord(
            document_id,
            source,
            document.title,
            category,
            document_hash,
            document.byte_size,
            document.page_count,
            len(chunk_rows),
            self.embedder.model_name,
            url,
        )
        try:
            self.repository.replace_document(record, section_rows, chunk_rows)
        except psycopg.DataError as exc:
            raise InvalidInputError(f"the document's text cannot be stored: {exc.__class__.__name__}") from exc

    def _write_vectors(self, chunks: Sequence[ChunkRecord]) -> int:
        if not chunks:
            return 0
        vectors = self.embedder.embed_documents([c.embedded_text for c in chunks])
        self.store.upsert(
            [
                VectorPoint(
                    id=c.id,
                    vector=vector,
                    payload={"document_id": c.document_id, "source": c.source, "category": c.category},
                )
                for c, vector in zip(chunks, vectors, strict=True)
            ]
        )
        return len(chunks)

    def _delete(self, sources: Sequence[str]) -> int:
        chunk_ids = self.repository.delete_documents(sources)
        self.store.delete(chunk_ids)
        return len(chunk_ids)
