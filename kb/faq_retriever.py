"""The production FAQ retriever: the customer's question against approved FAQs' phrasings, deleted ones excluded.

An FAQ is found by its question or by any of its other phrasings (`faq_phrasing`: the wording of the
tickets it was mined from, questions an edit or merge replaced). Embeddings are of questions only, so the
query (a customer's reformulated question) is compared with like; an FAQ comes back once, scored by its
best phrasing, with every phrasing that matched. Each search reads the tables as they are now: an
approval, merge, revert or soft delete is visible to the next search, with no cache to invalidate.

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
from psycopg.rows import DictRow

from core.database import Database
from core.embeddings import Embedder
from core.errors import EmbeddingModelMismatch, InvalidInputError
from kb.vector_collection import FAQ_COLLECTION, registration
from kb.vector_store.pgvector import vector_literal

if TYPE_CHECKING:
    from core.services import Services

SCORE_DECIMALS = 6
_MIN_EF_SEARCH = 40
# Phrasing rows read per FAQ asked for: one FAQ may hold several of the nearest phrasings.
PHRASINGS_PER_FAQ = 4


@dataclass(frozen=True)
class PhrasingMatch:
    """One phrasing of an FAQ other than its question, and its cosine similarity to the query."""

    phrasing: str
    similarity: float


@dataclass(frozen=True)
class FaqHit:
    """A live production FAQ: its best similarity to the query over its question and phrasings.

    `question_similarity` is the question's own; `phrasing_matches` the other phrasings among the nearest
    rows, best first (what the answer-confidence features read as the FAQ's rows).
    """

    id: int
    question: str
    answer: str
    tags: list[str]
    similarity: float
    version: int
    question_similarity: float
    phrasing_matches: tuple[PhrasingMatch, ...] = ()


class FaqRetriever:
    """Top-k live FAQs by their best cosine similarity over question and phrasings (HNSW indexes)."""

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
        rows = self._nearest(vector_literal(self.embedder.embed_query(query)), top_k, exclude_ids)
        by_id: dict[int, DictRow] = {}
        best: dict[int, float] = {}
        matches: dict[int, list[PhrasingMatch]] = {}
        for row in rows:
            faq_id, similarity = int(row["id"]), round(float(row["similarity"]), SCORE_DECIMALS)
            by_id.setdefault(faq_id, row)
            best[faq_id] = max(best.get(faq_id, -1.0), similarity)
            if row["phrasing"] is not None:
                matches.setdefault(faq_id, []).append(PhrasingMatch(row["phrasing"], similarity))
        hits = [
            FaqHit(
                id=faq_id,
                question=by_id[faq_id]["question"],
                answer=by_id[faq_id]["answer"],
                tags=list(by_id[faq_id]["tags"]),
                similarity=best[faq_id],
                version=int(by_id[faq_id]["version"]),
                question_similarity=round(float(by_id[faq_id]["question_similarity"]), SCORE_DECIMALS),
                phrasing_matches=tuple(sorted(matches.get(faq_id, ()), key=lambda match: -match.similarity)),
            )
            for faq_id in sorted(best, key=lambda faq_id: (-best[faq_id], faq_id))[:top_k]
        ]
        return [hit for hit in hits if hit.similarity >= min_similarity]

    def _nearest(self, vector: str, top_k: int, exclude_ids: Collection[int]) -> list[DictRow]:
        """The nearest live FAQ questions (phrasing NULL) and phrasings of live FAQs, in one round trip."""
        phrasing_limit = top_k * PHRASINGS_PER_FAQ
        query = sql.SQL(
            "WITH q AS (SELECT %(v)s::vector({dim}) AS v),"
            " questions AS (SELECT f.id, NULL::text AS phrasing, 1 - (f.question_embedding <=> q.v) AS similarity"
            "  FROM faq f, q WHERE NOT f.is_deleted AND NOT f.id = ANY(%(excluded)s::bigint[])"
            "  ORDER BY f.question_embedding <=> q.v LIMIT %(k)s),"
            " phrasings AS (SELECT p.faq_id AS id, p.phrasing, 1 - (p.embedding <=> q.v) AS similarity"
            "  FROM faq_phrasing p, q WHERE NOT p.faq_id = ANY(%(excluded)s::bigint[])"
            "  AND NOT EXISTS (SELECT 1 FROM faq d WHERE d.id = p.faq_id AND d.is_deleted)"
            "  ORDER BY p.embedding <=> q.v LIMIT %(n)s)"
            " SELECT hit.id, hit.phrasing, hit.similarity, f.question, f.answer, f.tags, f.version,"
            "  1 - (f.question_embedding <=> q.v) AS question_similarity"
            " FROM (SELECT * FROM questions UNION ALL SELECT * FROM phrasings) hit JOIN faq f ON f.id = hit.id, q"
            " WHERE NOT f.is_deleted ORDER BY hit.similarity DESC, hit.id"
        ).format(dim=sql.Literal(self.embedder.dimension))
        with self.db.transaction() as conn:
            # Excluded and deleted FAQs are filtered after the index scans: keep scanning until enough rows pass.
            conn.execute(
                sql.SQL("SET LOCAL hnsw.ef_search = {}; SET LOCAL hnsw.iterative_scan = strict_order").format(
                    sql.Literal(max(_MIN_EF_SEARCH, phrasing_limit))
                )
            )
            return conn.execute(
                query, {"v": vector, "excluded": list(exclude_ids), "k": top_k, "n": phrasing_limit}
            ).fetchall()

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
