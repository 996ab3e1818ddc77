"""pgvector store: one table per collection with an HNSW index, in Doxa's PostgreSQL schema.

The `vector_collection` registry (kb/vector_collection.py) records each collection's model and dimension, so
opening it with another model raises `EmbeddingModelMismatch` instead of mixing vectors of two models. Vectors cross
the wire as pgvector text literals, which needs no per-connection type registration on pooled
connections.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

import psycopg
from psycopg import sql

from core.database import Database
from core.embeddings import Vectors
from core.errors import ConfigurationError, EmbeddingModelMismatch
from kb.vector_collection import Registration, lock_registry, register, registration, unregister
from kb.vector_store.base import SearchFilter, VectorHit, VectorPoint

BACKEND = "pgvector"
_COLLECTION_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")
# hnsw.ef_search bounds how many candidates a scan keeps; it must be at least top_k to return top_k.
_MIN_EF_SEARCH = 40
# A filtered HNSW scan keeps walking the graph until top_k rows pass the filter (pgvector >= 0.8).
# relaxed_order returns them in graph order (re-sorted here), strict_order re-checks the order as it
# goes and walks further for it; max_scan_tuples bounds the walk for a filter that matches almost nothing.
IterativeScan = Literal["relaxed_order", "strict_order"]
_MAX_SCAN_TUPLES = 20_000
_UPSERT_BATCH = 500


def vector_literal(vector: Vectors) -> str:
    """A pgvector text literal (`[0.1,0.2,...]`) for one vector."""
    return "[" + ",".join(repr(float(x)) for x in vector.tolist()) + "]"


def table_name(collection: str) -> str:
    """The table holding a collection's vectors; refuses names that would need quoting."""
    if not _COLLECTION_NAME.match(collection):
        raise ConfigurationError(
            f"vector collection {collection!r} must match {_COLLECTION_NAME.pattern} to name a table"
        )
    return f"kbvec_{collection}"


class PgVectorStore:
    """Chunk vectors in a pgvector table (cosine distance, HNSW index) for one model and dimension.

    Example:
        >>> store = PgVectorStore(db, "doxa_kb", "all-MiniLM-L6-v2", 384)
        >>> store.upsert([VectorPoint(id=chunk_id, vector=vector, payload={"source": "faq.md"})])
        >>> store.search(query_vector, top_k=5, filters=SearchFilter(category="billing"))
    """

    def __init__(
        self,
        db: Database,
        collection: str,
        model_name: str,
        dimension: int,
        *,
        iterative_scan: IterativeScan = "relaxed_order",
    ) -> None:
        if dimension <= 0:
            raise ValueError(f"dimension must be positive, got {dimension}")
        self.db = db
        self.collection = collection
        self.model_name = model_name
        self.dimension = dimension
        if iterative_scan not in ("relaxed_order", "strict_order"):
            raise ValueError(f"iterative_scan must be relaxed_order or strict_order, got {iterative_scan!r}")
        self.iterative_scan = iterative_scan
        self.table = sql.Identifier(table_name(collection))
        self._exists = False
        self._ensure_collection()

    def _ensure_collection(self) -> None:
        """Create the registry and the collection's table and index, or check the registered model."""
        index = sql.Identifier(f"{table_name(self.collection)}_hnsw")
        with self.db.transaction() as conn:
            lock_registry(conn)
            known = registration(conn, self.collection)
            if known is not None and (known.model, known.dimension) != (self.model_name, self.dimension):
                raise EmbeddingModelMismatch(
                    f"pgvector collection {self.collection!r} holds vectors of {known.model}"
                    f" ({known.dimension} dimensions), but the configured model is {self.model_name}"
                    f" ({self.dimension} dimensions). Rebuild the knowledge base"
                    " (`doxa kb ingest --rebuild`) or configure another DOXA_KB_COLLECTION."
                )
            if known is None:
                register(conn, self.collection, Registration(BACKEND, self.model_name, self.dimension))
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (id uuid PRIMARY KEY, embedding vector({}) NOT NULL,"
                    " document_id text, source text, category text)"
                ).format(self.table, sql.Literal(self.dimension))
            )
            conn.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING hnsw (embedding vector_cosine_ops)").format(
                    index, self.table
                )
            )

    def upsert(self, points: Sequence[VectorPoint]) -> None:
        """Insert or replace points by id, in one transaction."""
        if not points:
            return
        for point in points:
            self._check_dimension(point.vector)
        if not self._table_exists():
            self._ensure_collection()
        statement = sql.SQL(
            "INSERT INTO {} (id, embedding, document_id, source, category)"
            " VALUES (%s, %s::vector, %s, %s, %s)"
            " ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding,"
            " document_id = EXCLUDED.document_id, source = EXCLUDED.source, category = EXCLUDED.category"
        ).format(self.table)
        with self.db.transaction() as conn, conn.cursor() as cur:
            for start in range(0, len(points), _UPSERT_BATCH):
                cur.executemany(
                    statement,
                    [
                        (
                            p.id,
                            vector_literal(p.vector),
                            p.payload.get("document_id"),
                            p.payload.get("source"),
                            p.payload.get("category"),
                        )
                        for p in points[start : start + _UPSERT_BATCH]
                    ],
                )

    def delete(self, ids: Sequence[str]) -> None:
        """Remove points by id; unknown ids are ignored."""
        if not ids or not self._table_exists():
            return
        with self.db.transaction() as conn:
            conn.execute(sql.SQL("DELETE FROM {} WHERE id = ANY(%s::uuid[])").format(self.table), (list(ids),))

    def search(self, vector: Vectors, top_k: int, filters: SearchFilter | None = None) -> list[VectorHit]:
        """The top_k points by cosine similarity to `vector`, best first."""
        self._check_dimension(vector)
        # The hot path skips the check once the table was seen: one round trip less per query.
        if top_k <= 0 or not (self._exists or self._table_exists()):
            return []
        conditions: list[sql.Composable] = []
        params: list[Any] = [vector_literal(vector)]
        if filters is not None:
            for column, value in (("category", filters.category), ("source", filters.source)):
                if value is not None:
                    conditions.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
                    params.append(value)
        where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
        query = sql.SQL(
            "SELECT id::text AS id, embedding <=> %s::vector AS distance, document_id, source, category"
            " FROM {}{} ORDER BY distance LIMIT %s"
        ).format(self.table, where)
        if conditions:
            # relaxed_order may return the filtered rows slightly out of order: sort the few it found.
            query = sql.SQL("WITH found AS MATERIALIZED ({}) SELECT * FROM found ORDER BY distance").format(query)
        params.append(top_k)
        # SET LOCAL cannot take bind parameters (the values are ints we computed); one round trip for the three.
        # With a filter the index scan continues until top_k rows pass it (see IterativeScan).
        settings = sql.SQL(
            "SET LOCAL hnsw.ef_search = {}; SET LOCAL hnsw.iterative_scan = {}; SET LOCAL hnsw.max_scan_tuples = {}"
        ).format(sql.Literal(max(_MIN_EF_SEARCH, top_k)), sql.SQL(self.iterative_scan), sql.Literal(_MAX_SCAN_TUPLES))
        try:
            with self.db.transaction() as conn:
                conn.execute(settings)
                rows = conn.execute(query, params).fetchall()
        except psycopg.errors.UndefinedTable:
            self._exists = False  # dropped since (a rebuild, another process): empty until written again
            return []
        return [
            VectorHit(
                id=row["id"],
                score=1.0 - float(row["distance"]),
                payload={k: row[k] for k in ("document_id", "source", "category")},
            )
            for row in rows
        ]

    def ids(self) -> set[str]:
        """Every point id in the collection."""
        if not self._table_exists():
            return set()
        with self.db.connection() as conn:
            rows = conn.execute(sql.SQL("SELECT id::text AS id FROM {}").format(self.table)).fetchall()
        return {row["id"] for row in rows}

    def count(self) -> int:
        """How many points the collection holds."""
        if not self._table_exists():
            return 0
        with self.db.connection() as conn:
            row = conn.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(self.table)).fetchone()
        return int(row["n"]) if row else 0

    def drop(self) -> None:
        """Drop the collection's table and its registry entry; the next upsert creates them afresh."""
        self._exists = False
        drop_collection(self.db, self.collection)

    def health_check(self) -> dict[str, Any]:
        """`{status, backend, collection, vector_count, dimension, model}`; status is ok, empty or error."""
        report: dict[str, Any] = {
            "backend": BACKEND,
            "collection": self.collection,
            "dimension": self.dimension,
            "model": self.model_name,
        }
        try:
            if not self._table_exists():
                return {**report, "status": "empty", "vector_count": 0}
            vector_count = self.count()
        except psycopg.Error as exc:
            return {**report, "status": "error", "vector_count": None, "error": str(exc)}
        return {**report, "status": "ok", "vector_count": vector_count}

    def _table_exists(self) -> bool:
        """Whether the table is there now (remembered for `search`, which forgets it when it finds it gone)."""
        with self.db.connection() as conn:
            row = conn.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (table_name(self.collection),))
            found = row.fetchone()
        self._exists = bool(found and found["present"])
        return self._exists

    def _check_dimension(self, vector: Vectors) -> None:
        if vector.shape != (self.dimension,):
            raise EmbeddingModelMismatch(
                f"vector of shape {vector.shape} does not fit collection {self.collection!r}"
                f" ({self.dimension} dimensions, model {self.model_name})"
            )


def drop_collection(db: Database, collection: str) -> None:
    """Drop a collection's table and registry entry whatever model it was built with."""
    with db.transaction() as conn:
        lock_registry(conn)
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table_name(collection))))
        unregister(conn, collection)
