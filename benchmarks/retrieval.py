"""Retrieval latency and ingest throughput at scale, for each vector back end.

    python -m benchmarks.retrieval [--chunks 100000] [--queries 200] [--backends qdrant,pgvector]

For each back end: write N synthetic chunks (benchmarks/corpus.py) to kb_chunk + embedding_cache
(COPY) and to the vector store, build the BM25 index, then time `HybridRetriever.retrieve` (the
retrieve_kb_context contract, top 5) with precomputed query vectors, with the query embedding, and
with a category filter. Figures print as Markdown; copy them to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.corpus import CATEGORIES, DATA, OUT, SyntheticChunk, chunk_vectors, synthesise_chunks
from benchmarks.retrieval_quality import machine
from core.embeddings import content_hash
from core.services import Services
from core.settings import Settings
from kb.retrieval import HybridRetriever
from kb.vector_store.base import VectorPoint, VectorStore
from kb.vector_store.factory import discard_vector_store, open_vector_store

COLLECTION = "bench_kb"
_BATCH = 1000


def write_rows(services: Services, chunks: list[SyntheticChunk], vectors: np.ndarray) -> float:
    """kb_document, kb_chunk and embedding_cache rows by COPY; returns seconds."""
    started = time.perf_counter()
    model = services.settings.embedding_model
    with services.db.transaction() as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE kb_document CASCADE")
        cur.execute("DELETE FROM embedding_cache WHERE model = %s", (model,))
        documents = {c.document_id: c for c in chunks}
        with cur.copy(
            "COPY kb_document (id, source, title, category, content_hash, byte_size, chunk_count, embedding_model)"
            " FROM STDIN"
        ) as copy:
            for doc_id, c in documents.items():
                copy.write_row((doc_id, f"bench/{doc_id}.md", c.title, c.category, doc_id, 0, 10, model))
        hashes = {}
        with cur.copy(
            "COPY kb_chunk (id, document_id, ordinal, text, section_path, source, category, content_hash) FROM STDIN"
        ) as copy:
            for i, c in enumerate(chunks):
                digest = content_hash(c.embedded_text)
                hashes[digest] = vectors[i]
                copy.write_row(
                    (
                        c.chunk_id,
                        c.document_id,
                        i % 10,
                        c.text,
                        c.section_path,
                        f"bench/{c.document_id}.md",
                        c.category,
                        digest,
                    )
                )
        with cur.copy("COPY embedding_cache (model, content_hash, dimension, vector) FROM STDIN") as copy:
            for digest, vector in hashes.items():
                copy.write_row((model, digest, int(vector.shape[0]), vector.astype("<f4").tobytes()))
        cur.execute("UPDATE kb_state SET revision = revision + 1, updated_at = now()")
    return time.perf_counter() - started


def upsert_vectors(services: Services, chunks: list[SyntheticChunk], vectors: np.ndarray) -> float:
    """Fresh collection, all vectors upserted in batches; returns seconds."""
    discard_vector_store(services, COLLECTION)
    return upsert_batches(open_vector_store(services, COLLECTION), chunks, vectors, "upserted")


def upsert_batches(store: VectorStore, chunks: list[SyntheticChunk], vectors: np.ndarray, label: str) -> float:
    """Upsert every chunk with its vector and filter payload, 1,000 at a time, showing `label` and the progress."""
    started = time.perf_counter()
    for start in range(0, len(chunks), _BATCH):
        store.upsert(
            [
                VectorPoint(c.chunk_id, vectors[start + j], {"document_id": c.document_id, "category": c.category})
                for j, c in enumerate(chunks[start : start + _BATCH])
            ]
        )
        print(f"  {label} {min(start + _BATCH, len(chunks))}/{len(chunks)}", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    return time.perf_counter() - started


def load() -> str:
    """The 1-minute load average: other work on the machine inflates every figure."""
    import os

    return f"{os.getloadavg()[0]:.1f}"


def percentiles(samples: list[float]) -> str:
    """`p50 / p95` in ms."""
    return f"{np.percentile(samples, 50):.1f} / {np.percentile(samples, 95):.1f}"


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of `repeat` calls."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def bench_backend(
    backend: str, home: Path, chunks: list[SyntheticChunk], vectors: np.ndarray, queries: list[str]
) -> None:
    settings = Settings(home=home, vector_backend=backend, mistral_api_key=None)  # type: ignore[arg-type]
    with Services.open(settings) as services:
        sql_s = write_rows(services, chunks, vectors)
        upsert_s = upsert_vectors(services, chunks, vectors)
        retriever = HybridRetriever.from_services(services, COLLECTION)
        started = time.perf_counter()
        retriever.keyword_index.current()
        index_s = time.perf_counter() - started
        embedder = services.embedder
        query_vectors = embedder.encode(queries)
        for q, v in zip(queries[:5], query_vectors, strict=False):  # warm-up
            retriever.retrieve(q, query_vector=v)
        position = iter(range(10**9))

        def next_query() -> int:
            return next(position) % len(queries)

        def no_embedding() -> None:
            i = next_query()
            retriever.retrieve(queries[i], query_vector=query_vectors[i])

        def with_embedding() -> None:
            retriever.retrieve(queries[next_query()])

        def with_category() -> None:
            i = next_query()
            retriever.retrieve(queries[i], category=CATEGORIES[i % len(CATEGORIES)], query_vector=query_vectors[i])

        store, keyword_index, passages = retriever.vector_store, retriever.keyword_index, retriever.passages
        top_ids = [h.id for h in store.search(query_vectors[0], 5)]

        def dense_search() -> None:
            store.search(query_vectors[next_query()], retriever.dense_candidates)

        def keyword_search() -> None:
            keyword_index.current().search(queries[next_query()], limit=retriever.keyword_candidates)

        def fetch_passages() -> None:
            passages.passages(top_ids)

        n = len(queries)
        rows = [
            ("part: vector store search, top 50", timed(dense_search, n)),
            ("part: BM25 search (title + body + exact matches), top 50", timed(keyword_search, n)),
            ("part: fetch 5 passages (kb_chunk)", timed(fetch_passages, n)),
            ("part: embed the query", timed(lambda: embedder.embed_query(queries[next_query()]), n)),
            ("hybrid, precomputed query vector", timed(no_embedding, n)),
            ("hybrid, query embedded", timed(with_embedding, n)),
            ("hybrid + category filter, precomputed vector", timed(with_category, n)),
        ]
        print(f"\n### {backend}, {len(chunks):,} chunks (load average {load()})\n")
        print(f"- kb rows (COPY kb_document, kb_chunk, embedding_cache): {len(chunks) / sql_s:,.0f} chunks/s")
        print(f"- vector upsert: {len(chunks) / upsert_s:,.0f} chunks/s ({upsert_s:.1f} s)")
        print(f"- BM25 index build (title + body) from kb_chunk: {index_s:.1f} s")
        print("\n| retrieve_kb_context, top 5 | p50 / p95 ms |\n|---|---|")
        for name, samples in rows:
            print(f"| {name} | {percentiles(samples)} |", flush=True)
        discard_vector_store(services, COLLECTION)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--backends", default="qdrant,pgvector")
    parser.add_argument("--home", type=Path, default=OUT / "bench_home")
    parser.add_argument("--keep-home", action="store_true", help="Reuse the Postgres under --home.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    if args.home.exists() and not args.keep_home:
        shutil.rmtree(args.home)
    chunks = synthesise_chunks(args.chunks)
    from core.embeddings import Embedder

    embedder = Embedder.from_settings(Settings(mistral_api_key=None))
    started = time.perf_counter()
    vectors = chunk_vectors(chunks, embedder)
    print(f"# {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {machine()}, load average {load()}")
    print(f"vectors ready in {time.perf_counter() - started:.1f} s (cached under benchmarks/out/)")
    rows = [json.loads(line) for line in (DATA / "stackfaq" / "queries.jsonl").open(encoding="utf-8")]
    queries = [row["query"] for row in rows[:: max(1, len(rows) // args.queries)]][: args.queries]
    texts = [c.embedded_text for c in chunks[:500]]
    started = time.perf_counter()
    embedder.encode(texts)
    print(f"embedding throughput (chunk texts, this machine now): {len(texts) / (time.perf_counter() - started):.0f}/s")
    for backend in args.backends.split(","):
        bench_backend(backend.strip(), args.home, chunks, vectors, queries)


if __name__ == "__main__":
    main()
