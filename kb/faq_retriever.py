"""The production FAQ retriever: the customer's question against approved FAQ questions, deleted ones excluded.

FAQ embeddings are of the question only, so the query (a customer's reformulated question) is compared
with like. Each search reads the table as it is now: an approval, merge, revert or soft delete is
visible to the next search, with no cache to invalidate.

Example:
    >>> faqs = FaqRetriever.from_services(services)
    >>> hits = faqs.search("I forgot my password", top_k=3, min_similarity=0.5)
    >>> hits[0].id, hits[0].similarity
    (12, 0.83)
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from psycopg import sql

from core.database import Database
from core.embeddings import Embedder
from core.errors import EmbeddingModelMismatch, InvalidInputError
from kb.vector_collection import FAQ_COLLECTION, registration
from kb.vector_store.pgvector import vector_literal

if TYPE_CHECKING:
    from core.services import Services

SCORE_DECIMALS = 6
_MIN_EF_SEARCH = 40


@dataclass(frozen=True)
class FaqHit:
    """A live production FAQ and its question's cosine similarity to the query."""

    id: int
    question: str
    answer: str
    tags: list[str]
    similarity: float
    version: int


class FaqRetriever:
    """Top-k live FAQs by cosine similarity of their question to the query (HNSW index over live rows)."""

    def __init__(self, db: Database, embedder: Embedder) -> None:
        self.db = db
        self.embedder = embedder
        self._registration_checked = False

    @classmethod
    def from_services(cls, services: Services, *, embedder: Embedder | None = None) -> FaqRetriever:
        """The retriever on the process's database and embedding model (or another embedder, e.g. a memo)."""
        return cls(services.db, embedder or services.embedder)

    def search(
        self, query: str, top_k: int = 3, min_similarity: float = 0.0, *, exclude_ids: Collection[int] = ()
    ) -> list[FaqHit]:
        """The `top_k` live FAQs whose similarity (rounded to 6 decimals) is >= `min_similarity`, best first."""
        if top_k <= 0:
            raise InvalidInputError(f"top_k must be positive, got {top_k}")
        if not -1.0 <= min_similarity <= 1.0:
            raise InvalidInputError(f"min_similarity must be within -1..1, got {min_similarity}")
        if not query.strip() or not self._faqs_registered():
            return []
        vector = self.embedder.embed_query(query)
        query_sql = sql.SQL(
            "WITH q AS (SELECT %s::vector({dim}) AS v)"
            " SELECT f.id, f.question, f.answer, f.tags, f.version, 1 - (f.question_embedding <=> q.v) AS similarity"
            " FROM faq f, q WHERE NOT f.is_deleted AND NOT f.id = ANY(%s::bigint[])"
            " ORDER BY f.question_embedding <=> q.v LIMIT %s"
        ).format(dim=sql.Literal(self.embedder.dimension))
        with self.db.transaction() as conn:
            conn.execute(sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(max(_MIN_EF_SEARCH, top_k))))
            # Excluded ids are filtered after the index scan: keep scanning until top_k rows pass.
            conn.execute("SET LOCAL hnsw.iterative_scan = strict_order")
            rows = conn.execute(query_sql, (vector_literal(vector), list(exclude_ids), top_k)).fetchall()
        hits = [
            FaqHit(
                id=int(row["id"]),
                question=row["question"],
                answer=row["answer"],
                tags=list(row["tags"]),
                similarity=round(float(row["similarity"]), SCORE_DECIMALS),
                version=int(row["version"]),
            )
            for row in rows
        ]
        return [hit for hit in hits if hit.similarity >= min_similarity]

    def _faqs_registered(self) -> bool:
        """Whether FAQs exist for this model; refuses FAQs embedded by another model or dimension."""
        if self._registration_checked:
            return True
        with self.db.connection() as conn:
            registered = registration(conn, FAQ_COLLECTION)
            conn.rollback()
        if registered is None:
            return False  # nothing was ever promoted: the FAQ store registers the model on first use
        if (registered.model, registered.dimension) != (self.embedder.model_name, self.embedder.dimension):
            raise EmbeddingModelMismatch(
                f"the FAQ table holds question embeddings of {registered.model} ({registered.dimension} dimensions),"
                f" but the configured model is {self.embedder.model_name} ({self.embedder.dimension} dimensions)"
            )
        self._registration_checked = True
        return True
