"""pgvector against the embedded Qdrant engine (qdrant-edge) at scale, in one process, interleaved.

    python -m benchmarks.retrieval_engines [--chunks 100000] [--queries 200] [--keep]

Both stores hold the same N synthetic chunks (benchmarks/corpus.py; kb rows written once) and answer
the same queries in turn, alternating which goes first, so both see the same load on a shared
machine. Timed: the vector search alone (top 50, with and without a category filter) and
`HybridRetriever.retrieve` (the retrieve_kb_context contract, top 5) with a precomputed query vector,
with the query embedded, and with a category filter. Recall@10 is measured against an exact scan in
numpy (with the same filter). pgvector's filtered search runs with `relaxed_order` (the store's
default) and `strict_order` (its previous setting). `--keep` reuses the stores and rows built by a
previous run under --home when they hold N points. Figures print as Markdown with the load average.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.corpus import CATEGORIES, DATA, OUT, chunk_vectors, synthesise_chunks
from benchmarks.retrieval import COLLECTION, upsert_batches, write_rows
from benchmarks.retrieval_quality import machine
from core.embeddings import Embedder
from core.services import Services
from core.settings import Settings
from kb.retrieval import HybridRetriever
from kb.vector_store.base import SearchFilter, VectorStore
from kb.vector_store.pgvector import PgVectorStore, vector_literal
from kb.vector_store.qdrant_edge import EdgeVectorStore

Sample = dict[str, list[float]]


def load() -> str:
    """The 1/5/15-minute load averages: other work on the machine inflates every figure."""
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def fill(store: VectorStore, chunks: list, vectors: np.ndarray) -> float:
    """Upsert every chunk in batches of 1,000 into a fresh collection; returns seconds."""
    store.drop()
    return upsert_batches(store, chunks, vectors, f"{store.__class__.__name__}:")


def bulk_fill_pgvector(services: Services, store: PgVectorStore, chunks: list, vectors: np.ndarray) -> float:
    """The pgvector table by COPY with the HNSW index built afterwards (a bulk load's usual path); seconds.

    Row-by-row upserts maintain the graph per insert (1,227 chunks/s on a quiet machine, far less on a
    busy one); the table, index name and search path are the store's own.
    """
    store.drop()
    store = PgVectorStore(services.db, store.collection, store.model_name, store.dimension)
    table = f"kbvec_{store.collection}"
    started = time.perf_counter()
    with services.db.transaction() as conn, conn.cursor() as cur:
        cur.execute(f"DROP INDEX IF EXISTS {table}_hnsw")
        with cur.copy(f"COPY {table} (id, embedding, document_id, category) FROM STDIN") as copy:
            for chunk, vector in zip(chunks, vectors, strict=True):
                copy.write_row((chunk.chunk_id, vector_literal(vector), chunk.document_id, chunk.category))
        cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cur.execute(f"CREATE INDEX {table}_hnsw ON {table} USING hnsw (embedding vector_cosine_ops)")
    return time.perf_counter() - started


def exact_top(vectors: np.ndarray, ids: np.ndarray, query: np.ndarray, mask: np.ndarray | None, k: int) -> set[str]:
    """The exact top k ids by cosine (vectors are normalised), within the mask if given."""
    scores = vectors @ query
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return set(ids[np.argpartition(-scores, k)[:k]].tolist())


def percentiles(samples: list[float]) -> str:
    """`p50 / p95` in ms."""
    return f"{np.percentile(samples, 50):.1f} / {np.percentile(samples, 95):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--home", type=Path, default=OUT / "engines_home")
    parser.add_argument("--keep", action="store_true", help="Reuse stores built by a previous run with N points.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    settings = Settings(home=args.home, vector_backend="pgvector", mistral_api_key=None)
    chunks = synthesise_chunks(args.chunks)
    embedder = Embedder.from_settings(settings)
    vectors = chunk_vectors(chunks, embedder)
    ids = np.array([c.chunk_id for c in chunks])
    category_of = np.array([c.category for c in chunks])
    rows = [json.loads(line) for line in (DATA / "stackfaq" / "queries.jsonl").open(encoding="utf-8")]
    queries = [row["query"] for row in rows[:: max(1, len(rows) // args.queries)]][: args.queries]
    print(f"# {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {machine()}, load {load()}")
    with Services.open(settings) as services:
        model, dim = settings.embedding_model, settings.embedding_dim
        stores: dict[str, VectorStore] = {
            "pgvector": PgVectorStore(services.db, COLLECTION, model, dim),
            "qdrant-edge": EdgeVectorStore(services.qdrant_edge, COLLECTION, model, dim),
        }
        strict = PgVectorStore(services.db, COLLECTION, model, dim, iterative_scan="strict_order")
        with services.db.connection() as conn:
            row = conn.execute("SELECT count(*) AS n FROM kb_chunk").fetchone()
        if not (args.keep and row and row["n"] == len(chunks)):
            print(f"kb rows by COPY: {write_rows(services, chunks, vectors):.1f} s", flush=True)
        for name, store in stores.items():
            if args.keep and store.count() == len(chunks):
                print(f"{name}: reused {len(chunks):,} points", flush=True)
                continue
            if isinstance(store, PgVectorStore):
                seconds = bulk_fill_pgvector(services, store, chunks, vectors)
                print(f"{name}: COPY + CREATE INDEX hnsw, {len(chunks):,} in {seconds:.1f} s", flush=True)
                continue
            seconds = fill(store, chunks, vectors)
            print(f"{name}: upserted {len(chunks):,} in {seconds:.1f} s ({len(chunks) / seconds:,.0f}/s)", flush=True)
        base = HybridRetriever.from_services(services, COLLECTION)
        base.keyword_index.current()
        retrievers = {}
        for name, store in stores.items():
            retriever = copy.copy(base)
            retriever.vector_store = store
            retrievers[name] = retriever
        query_vectors = embedder.encode(queries)
        samples: dict[str, Sample] = {name: {} for name in [*stores, "pgvector strict_order"]}
        recall: dict[str, dict[str, list[float]]] = {name: {"none": [], "category": []} for name in samples}
        started_load = load()

        def clock(name: str, label: str, call: Callable[..., object], *args: object, **kwargs: object) -> None:
            started = time.perf_counter()
            call(*args, **kwargs)
            samples[name].setdefault(label, []).append((time.perf_counter() - started) * 1000)

        for retriever in retrievers.values():  # warm-up
            for q, v in zip(queries[:5], query_vectors, strict=False):
                retriever.retrieve(q, query_vector=v)
                retriever.retrieve(q, category=CATEGORIES[0], query_vector=v)
        searchers: dict[str, VectorStore] = {**stores, "pgvector strict_order": strict}
        for i, (query, vector) in enumerate(zip(queries, query_vectors, strict=True)):
            category = CATEGORIES[i % len(CATEGORIES)]
            flt = SearchFilter(category=category)
            order = list(searchers) if i % 2 == 0 else list(reversed(searchers))
            for name in order:
                store = searchers[name]
                clock(name, "vector search, top 50", store.search, vector, 50)
                clock(name, "vector search + category filter, top 50", store.search, vector, 50, flt)
                found = {h.id for h in store.search(vector, 10)}
                recall[name]["none"].append(len(found & exact_top(vectors, ids, vector, None, 10)) / 10)
                found = {h.id for h in store.search(vector, 10, flt)}
                mask = category_of == category
                recall[name]["category"].append(len(found & exact_top(vectors, ids, vector, mask, 10)) / 10)
                if name not in retrievers:
                    continue
                r = retrievers[name]
                clock(name, "hybrid, precomputed query vector", r.retrieve, query, query_vector=vector)
                clock(name, "hybrid, query embedded", r.retrieve, query)
                label = "hybrid + category filter, precomputed vector"
                clock(name, label, r.retrieve, query, category=category, query_vector=vector)
        names = list(samples)
        print(f"\n{len(chunks):,} chunks, {len(queries)} queries, load before / after: {started_load} / {load()}\n")
        print("| p50 / p95 ms | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
        labels = list(samples["pgvector"])
        for label in labels:
            cells = [percentiles(samples[n][label]) if label in samples[n] else "-" for n in names]
            print(f"| {label} | " + " | ".join(cells) + " |")
        for kind, label in (("none", "recall@10 vs exact scan"), ("category", "recall@10 vs exact, category filter")):
            print(f"| {label} | " + " | ".join(f"{np.mean(recall[n][kind]):.3f}" for n in names) + " |")
        edge = stores["qdrant-edge"].health_check()
        print(f"\nqdrant-edge: {edge['vector_count']:,} points, {edge['indexed_vector_count']:,} in its HNSW graph")


if __name__ == "__main__":
    main()
