"""The FAQ store: staged candidates and production FAQs in PostgreSQL + pgvector, compared question to question.

The migration leaves the vector columns untyped; the store pins them to `vector(dimension)` for the
configured model on first use, builds a partial HNSW index over the live FAQs and records `('faq',
model, dimension)` in the `vector_collection` registry (kb/vector_collection.py) the KB's pgvector store
uses. Opening the store with another model or dimension raises `EmbeddingModelMismatch` instead of comparing
vectors of two models.

Example:
    >>> store = FaqStore.from_services(services)
    >>> store.staged_ticket_ids(["T-1", "T-2"])
    {'T-1'}
    >>> store.similar(embedder.encode(["How do I reset my password?"]), top_k=3)[0][0].origin
    'production'
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import psycopg
from psycopg import sql
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from core.database import Database
from core.embeddings import Embedder, Vectors
from core.errors import EmbeddingModelMismatch, InvalidInputError
from core.timestamps import IsoTimestamp
from kb.faq_retriever import PHRASINGS_PER_FAQ
from kb.vector_collection import FAQ_COLLECTION, Registration, lock_registry, register, registration
from kb.vector_store.pgvector import BACKEND, vector_literal
from text.pii import has_placeholder

if TYPE_CHECKING:
    from core.services import Services

Connection = psycopg.Connection[DictRow]
FaqAction = Literal["NEW", "MERGE"]

_HNSW_INDEX = "faq_question_hnsw"
_PHRASING_HNSW_INDEX = "faq_phrasing_hnsw"
_MIN_EF_SEARCH = 40
_VECTOR_COLUMNS = (("faq", "question_embedding"), ("faq_staging", "question_embedding"), ("faq_phrasing", "embedding"))
MAX_PHRASINGS = 20  # ticket wordings a candidate keeps: enough ways of asking, not every duplicate ticket


@dataclass(frozen=True)
class CandidateContent:
    """What a candidate proposes and where it comes from: the same before staging and in `faq_staging`."""

    action: FaqAction
    question: str
    answer: str
    tags: list[str]
    confidence: float
    merge_with_id: int | None
    similarity: float | None
    source_ticket_ids: list[str]
    pii_kinds: list[str]
    run_id: str | None
    metadata: dict[str, Any]


@dataclass(frozen=True)
class CandidateDraft(CandidateContent):
    """What FAQ mining stages: one candidate for a whole cluster of tickets."""

    question_embedding: Vectors
    phrasings: list[str] = field(default_factory=list)  # how the source tickets asked (PII already redacted)


@dataclass(frozen=True)
class JoiningTickets:
    """Source tickets joining a PENDING candidate of the same FAQ: their ids, PII kinds and wordings."""

    ticket_ids: Sequence[str]
    pii_kinds: Sequence[str] = ()
    phrasings: Sequence[str] = ()  # how the tickets asked (PII already redacted)


@dataclass(frozen=True)
class SimilarFaq:
    """A production FAQ (`faq.id`) or a pending candidate (`faq_staging.id`) near a query question."""

    id: int
    origin: Literal["production", "pending"]
    question: str
    answer: str
    tags: list[str]
    similarity: float


@dataclass(frozen=True)
class StageResult:
    """What `stage` did: the new candidate (None when every ticket was already claimed) and the ticket split."""

    staging_id: int | None
    claimed_ticket_ids: list[str]
    already_staged_ticket_ids: list[str]


@dataclass(frozen=True)
class FaqRow:
    """A production FAQ with its audit metadata."""

    id: int
    question: str
    answer: str
    tags: list[str]
    version: int
    is_deleted: bool
    embedding_model: str
    source_staging_id: int | None
    source_ticket_ids: list[str]
    promoted_at: IsoTimestamp
    promoted_by: str
    metadata: dict[str, Any]
    updated_at: IsoTimestamp

    @classmethod
    def from_row(cls, row: DictRow) -> FaqRow:
        """Build from a `SELECT FAQ_COLUMNS FROM faq` row."""
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


FAQ_COLUMNS = ", ".join(FaqRow.__dataclass_fields__)


class FaqStore:
    """Staging, ticket claims and question-to-question similarity over the FAQ tables."""

    def __init__(self, db: Database, model_name: str, dimension: int) -> None:
        if dimension <= 0:
            raise ValueError(f"dimension must be positive, got {dimension}")
        self.db = db
        self.model_name = model_name
        self.dimension = dimension
        self._pin_vector_columns()

    @classmethod
    def from_services(cls, services: Services) -> FaqStore:
        """A store for the process's database and embedding model."""
        return cls(services.db, services.embedder.model_name, services.embedder.dimension)

    def _pin_vector_columns(self) -> None:
        """Type the vector columns for this model, index the live FAQs and register; or check the registration."""
        with self.db.connection() as conn:
            registered = registration(conn, FAQ_COLLECTION)
            indexes = conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL AS present",
                (_HNSW_INDEX, _PHRASING_HNSW_INDEX),
            ).fetchone()
            conn.rollback()
        if registered is not None:
            self._check_registration(registered)
            if indexes and indexes["present"]:
                return
        with self.db.transaction() as conn:
            lock_registry(conn)
            registered = registration(conn, FAQ_COLLECTION)
            if registered is not None:
                self._check_registration(registered)
            # Every time, not only on first registration: a table a later migration added starts untyped.
            self._type_vector_columns(conn)
            if registered is None:
                register(conn, FAQ_COLLECTION, Registration(BACKEND, self.model_name, self.dimension))
            # Partial index: deleted FAQs are never candidates, so searches that exclude them need no filtering.
            conn.execute(
                sql.SQL(
                    "CREATE INDEX IF NOT EXISTS {} ON faq USING hnsw (question_embedding vector_cosine_ops)"
                    " WHERE NOT is_deleted"
                ).format(sql.Identifier(_HNSW_INDEX))
            )
            phrasing_index = "CREATE INDEX IF NOT EXISTS {} ON faq_phrasing USING hnsw (embedding vector_cosine_ops)"
            conn.execute(sql.SQL(phrasing_index).format(sql.Identifier(_PHRASING_HNSW_INDEX)))

    def _type_vector_columns(self, conn: Connection) -> None:
        for table, column in _VECTOR_COLUMNS:
            current = conn.execute(
                "SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute"
                " WHERE attrelid = to_regclass(%s) AND attname = %s",
                (table, column),
            ).fetchone()
            wanted = f"vector({self.dimension})"
            if current is None or current["type"] == wanted:
                continue
            if current["type"] != "vector":
                raise EmbeddingModelMismatch(
                    f"{table}.{column} is {current['type']} but the configured model {self.model_name}"
                    f" makes {self.dimension}-dimensional vectors"
                )
            try:
                with conn.transaction():
                    conn.execute(
                        sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE vector({})").format(
                            sql.Identifier(table), sql.Identifier(column), sql.Literal(self.dimension)
                        )
                    )
            except psycopg.errors.DataException as exc:
                raise EmbeddingModelMismatch(
                    f"{table} holds vectors that are not {self.dimension}-dimensional ({self.model_name}): {exc}"
                ) from exc

    def _check_registration(self, registered: Registration) -> None:
        model, dimension = registered.model, registered.dimension
        if (model, dimension) != (self.model_name, self.dimension):
            raise EmbeddingModelMismatch(
                f"the FAQ tables hold question embeddings of {model} ({dimension} dimensions), but the configured"
                f" model is {self.model_name} ({self.dimension} dimensions); re-embed the FAQs or configure"
                f" DOXA_EMBEDDING_MODEL={model}"
            )

    def check_vector(self, vector: Vectors) -> str:
        """The pgvector literal of one question embedding, refusing one of another dimension."""
        if vector.shape != (self.dimension,):
            raise EmbeddingModelMismatch(
                f"question embedding of shape {vector.shape} does not fit the FAQ tables"
                f" ({self.dimension} dimensions, model {self.model_name})"
            )
        return vector_literal(vector)

    def embed_questions(self, embedder: Embedder, questions: Sequence[str]) -> list[str]:
        """Pgvector literals of questions, embedded as the FAQ tables store them (none: no model call)."""
        if not questions:
            return []
        return [self.check_vector(v) for v in embedder.embed_documents([q.strip() for q in questions])]

    def staged_ticket_ids(self, ticket_ids: Sequence[str]) -> set[str]:
        """Which of `ticket_ids` a candidate already holds (one query for the whole batch)."""
        if not ticket_ids:
            return set()
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT ticket_id FROM faq_staged_ticket WHERE ticket_id = ANY(%s::text[])", (list(ticket_ids),)
            ).fetchall()
            conn.rollback()
        return {row["ticket_id"] for row in rows}

    def similar(self, vectors: Vectors, top_k: int = 3) -> list[list[SimilarFaq]]:
        """Per row of `vectors` (n x d): the top_k live production FAQs and PENDING candidates, best first.

        A production FAQ scores its best phrasing (question or `faq_phrasing`), so tickets asked the way its
        source tickets were are recognised as that FAQ.
        """
        if vectors.ndim != 2:
            raise InvalidInputError(f"similar() takes an n x d matrix, got shape {vectors.shape}")
        if top_k <= 0 or len(vectors) == 0:
            return [[] for _ in range(len(vectors))]
        literals = [self.check_vector(row) for row in vectors]
        query = sql.SQL(
            "WITH q AS (SELECT ord, v::vector({dim}) AS v"
            " FROM unnest(%(vectors)s::text[]) WITH ORDINALITY AS t(v, ord))"
            " SELECT q.ord, hit.* FROM q CROSS JOIN LATERAL ("
            # A production FAQ is as near as its nearest phrasing: its question or how its source tickets asked.
            "  (SELECT f.id, 'production' AS origin, f.question, f.answer, f.tags, best.similarity"
            "   FROM (SELECT u.id, max(u.similarity) AS similarity FROM ("
            "     (SELECT f.id, 1 - (f.question_embedding <=> q.v) AS similarity FROM faq f"
            "      WHERE NOT f.is_deleted ORDER BY f.question_embedding <=> q.v LIMIT %(k)s)"
            "     UNION ALL"
            "     (SELECT p.faq_id, 1 - (p.embedding <=> q.v) FROM faq_phrasing p"
            "      WHERE NOT EXISTS (SELECT 1 FROM faq d WHERE d.id = p.faq_id AND d.is_deleted)"
            "      ORDER BY p.embedding <=> q.v LIMIT %(k_phrasings)s)"
            "    ) u GROUP BY u.id ORDER BY similarity DESC LIMIT %(k)s) best JOIN faq f ON f.id = best.id)"
            "  UNION ALL"
            "  (SELECT s.id, 'pending' AS origin, s.question, s.answer, s.tags,"
            "          1 - (s.question_embedding <=> q.v) AS similarity"
            "   FROM faq_staging s WHERE s.status = 'PENDING' ORDER BY s.question_embedding <=> q.v LIMIT %(k)s)"
            " ) hit ORDER BY q.ord, hit.similarity DESC, hit.origin DESC, hit.id"
        ).format(dim=sql.Literal(self.dimension))
        found: list[list[SimilarFaq]] = [[] for _ in range(len(vectors))]
        with self.db.transaction() as conn:
            # Phrasings of deleted FAQs are filtered after the index scan: keep scanning until enough rows pass.
            conn.execute(
                sql.SQL("SET LOCAL hnsw.ef_search = {}; SET LOCAL hnsw.iterative_scan = strict_order").format(
                    sql.Literal(max(_MIN_EF_SEARCH, top_k * PHRASINGS_PER_FAQ))
                )
            )
            rows = conn.execute(
                query, {"vectors": literals, "k": top_k, "k_phrasings": top_k * PHRASINGS_PER_FAQ}
            ).fetchall()
        for row in rows:
            hits = found[int(row["ord"]) - 1]
            if len(hits) < top_k:
                hits.append(
                    SimilarFaq(
                        id=int(row["id"]),
                        origin=row["origin"],
                        question=row["question"],
                        answer=row["answer"],
                        tags=list(row["tags"]),
                        similarity=float(row["similarity"]),
                    )
                )
        return found

    def live_faq(self, faq_id: int) -> FaqRow | None:
        """The production FAQ, or None when it does not exist or is deleted."""
        with self.db.connection() as conn:
            row = conn.execute(f"SELECT {FAQ_COLUMNS} FROM faq WHERE id = %s AND NOT is_deleted", (faq_id,)).fetchone()
            conn.rollback()
        return FaqRow.from_row(row) if row else None

    def stage(self, draft: CandidateDraft, actor: str = "faq-mining", *, conn: Connection | None = None) -> StageResult:
        """Stage a candidate and claim its source tickets, in one transaction (a savepoint inside `conn`).

        Tickets another candidate already claimed (a concurrent run) are dropped from the candidate; when
        none is left nothing is written and `staging_id` is None.
        """
        embedding = self.check_vector(draft.question_embedding)
        tickets = _validated_tickets(draft)
        with self._transaction(conn) as tx:
            if draft.merge_with_id is not None:
                target = tx.execute(
                    "SELECT id FROM faq WHERE id = %s AND NOT is_deleted", (draft.merge_with_id,)
                ).fetchone()
                if target is None:
                    raise InvalidInputError(f"MERGE target FAQ {draft.merge_with_id} does not exist or is deleted")
            staging = tx.execute(
                "INSERT INTO faq_staging (action, question, answer, tags, question_embedding, embedding_model,"
                " confidence, merge_with_id, similarity, source_ticket_ids, pii_kinds, run_id, metadata, phrasings)"
                " VALUES (%s, %s, %s, %s, %s::vector, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (
                    draft.action,
                    draft.question.strip(),
                    draft.answer.strip(),
                    normalise_tags(draft.tags),
                    embedding,
                    self.model_name,
                    draft.confidence,
                    draft.merge_with_id,
                    draft.similarity,
                    tickets,
                    sorted(set(draft.pii_kinds)),
                    draft.run_id,
                    Jsonb(draft.metadata),
                    Jsonb(staged_phrasings(draft.phrasings, question=draft.question)),
                ),
            ).fetchone()
            assert staging is not None
            staging_id = int(staging["id"])
            # Claims in sorted order so two runs claiming overlapping sets lock rows in the same order (no deadlock).
            claimed_rows = tx.execute(
                "INSERT INTO faq_staged_ticket (ticket_id, staging_id)"
                " SELECT t, %s FROM unnest(%s::text[]) AS t ORDER BY t"
                " ON CONFLICT (ticket_id) DO NOTHING RETURNING ticket_id",
                (staging_id, sorted(tickets)),
            ).fetchall()
            claimed_set = {row["ticket_id"] for row in claimed_rows}
            claimed = [t for t in tickets if t in claimed_set]
            already = [t for t in tickets if t not in claimed_set]
            if not claimed:
                raise psycopg.Rollback()
            if already:
                tx.execute("UPDATE faq_staging SET source_ticket_ids = %s WHERE id = %s", (claimed, staging_id))
            tx.execute(
                "INSERT INTO faq_audit (staging_id, faq_id, action, actor, detail) VALUES (%s, %s, 'staged', %s, %s)",
                (
                    staging_id,
                    draft.merge_with_id,
                    actor,
                    Jsonb({"action": draft.action, "source_count": len(claimed), "already_staged": already}),
                ),
            )
            return StageResult(staging_id, claimed, already)
        return StageResult(None, [], tickets)

    def join(self, staging_id: int, joining: JoiningTickets, actor: str = "faq-mining") -> StageResult:
        """Add source tickets (and how they asked) to a PENDING candidate of the same FAQ, claiming them.

        One FAQ, one pending candidate with N source tickets. Its question and answer, and so its version,
        stay as the reviewer may be reading them. `staging_id` is None when the candidate is no longer
        PENDING (decided meanwhile): the caller stages the tickets as usual.
        """
        tickets = sorted(dict.fromkeys(t for t in joining.ticket_ids if t))
        with self.db.transaction() as tx:
            row = tx.execute(
                "SELECT id, question, phrasings FROM faq_staging WHERE id = %s AND status = 'PENDING' FOR UPDATE",
                (staging_id,),
            ).fetchone()
            if row is None:
                return StageResult(None, [], [])
            claimed_rows = tx.execute(
                "INSERT INTO faq_staged_ticket (ticket_id, staging_id) SELECT t, %s FROM unnest(%s::text[]) AS t"
                " ORDER BY t ON CONFLICT (ticket_id) DO NOTHING RETURNING ticket_id",
                (staging_id, tickets),
            ).fetchall()
            claimed = sorted(row["ticket_id"] for row in claimed_rows)
            already = [t for t in tickets if t not in set(claimed)]
            if claimed:
                known = list(row["phrasings"])
                added = staged_phrasings(joining.phrasings, question=row["question"], known=[p["text"] for p in known])
                tx.execute(
                    "UPDATE faq_staging SET source_ticket_ids = source_ticket_ids || %s::text[],"
                    " pii_kinds = ARRAY(SELECT DISTINCT k FROM unnest(pii_kinds || %s::text[]) AS k ORDER BY k),"
                    " phrasings = %s, updated_at = now() WHERE id = %s",
                    (claimed, sorted(set(joining.pii_kinds)), Jsonb(known + added), staging_id),
                )
                tx.execute(
                    "INSERT INTO faq_audit (staging_id, action, actor, detail) VALUES (%s, 'sources_added', %s, %s)",
                    (staging_id, actor, Jsonb({"source_ticket_ids": claimed})),
                )
            return StageResult(staging_id, claimed, already)

    @contextmanager
    def _transaction(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            with conn.transaction():
                yield conn
        else:
            with self.db.transaction() as own:
                yield own


def normalise_tags(tags: Sequence[str]) -> list[str]:
    """Tags as one representation everywhere (a text[]): whitespace collapsed, empty ones and repeats dropped.

    A repeat differs only in case from an earlier tag; the first spelling is kept.
    """
    kept: dict[str, str] = {}
    for tag in tags:
        cleaned = " ".join(tag.split())
        if cleaned:
            kept.setdefault(cleaned.casefold(), cleaned)
    return list(kept.values())


def staged_phrasings(
    texts: Sequence[str], *, question: str, known: Sequence[str] = (), origin: str = "ticket"
) -> list[dict[str, str]]:
    """New phrasings as staged (`{"text", "origin"}`): tidied, not the question, no repeats, none redacted.

    A wording that held PII keeps a placeholder (`[EMAIL]`) where the customer's data was: it is kept out,
    as no customer asks that way. At most `MAX_PHRASINGS` in all, counting the `known` ones.
    """
    seen = {question.strip().casefold(), *(text.casefold() for text in known)}
    kept: list[dict[str, str]] = []
    for text in texts:
        cleaned = " ".join(text.split())
        if not cleaned or cleaned.casefold() in seen or has_placeholder(cleaned):
            continue
        if len(known) + len(kept) >= MAX_PHRASINGS:
            break
        seen.add(cleaned.casefold())
        kept.append({"text": cleaned, "origin": origin})
    return kept


def _validated_tickets(draft: CandidateDraft) -> list[str]:
    if draft.action not in ("NEW", "MERGE"):
        raise InvalidInputError(f"action must be NEW or MERGE, got {draft.action!r}")
    if (draft.action == "MERGE") != (draft.merge_with_id is not None):
        raise InvalidInputError("a MERGE candidate needs merge_with_id and a NEW one must not have it")
    if not draft.question.strip() or not draft.answer.strip():
        raise InvalidInputError("a candidate needs a non-empty question and answer")
    if not 0.0 <= draft.confidence <= 1.0:
        raise InvalidInputError(f"confidence must be within 0..1, got {draft.confidence}")
    tickets = list(dict.fromkeys(t for t in draft.source_ticket_ids if t))
    if not tickets:
        raise InvalidInputError("a candidate needs at least one source ticket")
    return tickets
