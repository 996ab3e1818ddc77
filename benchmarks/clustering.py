"""Ticket grouping benchmark: StackFAQ's paraphrased queries as tickets, and a 10,000-ticket timing.

StackFAQ (../shared/data/stackfaq): 1,249 paraphrased queries of 125 threads. Each query becomes a
Closed ticket (body = the query, closure notes = an answer of its thread), goes through the real
ticket source (chdb import, keyset paging) and is grouped by `cluster_tickets`. A perfect grouping
gives 125 groups, each holding one thread. Reported: groups, purity (share of tickets in their
group's majority thread), share of threads split over several groups, time.

Closure-note variants, because StackFAQ's own setting is generous:
- `top_answer`: every ticket of a thread carries the thread's top answer (the issue's setting);
- `varied_answer`: tickets of a thread cycle through the thread's different answers, like agents
  writing their own notes for one problem;
- `body_only`: no closure notes.

Scale: 10,000 synthetic 384-d vectors (1,000 problems of ~10 tickets) in three regimes: distinct
problems (many small neighbour components); one product whose problems resemble each other (a single
neighbour component, the worst case for time and memory); and tickets so alike that every pair is
within the threshold (50 million neighbour pairs). Each runs in a fresh process so its peak memory
can be read.

Usage: python -m benchmarks.clustering [--threshold 0.44] [--skip-scale] [--json]
Vectors are cached under benchmarks/out/ (keyed by model and texts), so reruns take seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.corpus import OUT, save_results  # noqa: E402
from core.clickhouse import ChdbClickHouse  # noqa: E402
from core.embeddings import Embedder  # noqa: E402
from core.settings import Settings  # noqa: E402
from faq_mining.clustering import DEFAULT_DISTANCE_THRESHOLD, cluster_tickets, clustering_text  # noqa: E402
from faq_mining.ticket_source import TicketSource  # noqa: E402

STACKFAQ = ROOT.parent / "shared" / "data" / "stackfaq"
VARIANTS = ("top_answer", "varied_answer", "body_only")
SWEEP = (0.35, 0.40, 0.42, 0.44, 0.46, 0.48, 0.50)


def stackfaq_tickets(variant: str) -> list[dict[str, Any]]:
    """StackFAQ queries as Closed tickets; the thread id rides along in `category` for scoring."""
    threads = {row["id"]: row for row in map(json.loads, (STACKFAQ / "faqs.jsonl").open())}
    seen: Counter[str] = Counter()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    tickets = []
    for number, query in enumerate(map(json.loads, (STACKFAQ / "queries.jsonl").open())):
        thread = query["gold_faq_ids"][0]
        answers = threads[thread]["all_answers"]
        notes = {"top_answer": answers[0], "varied_answer": answers[seen[thread] % len(answers)], "body_only": ""}
        seen[thread] += 1
        tickets.append(
            {
                "id": query["query_id"],
                "body": query["query"],
                "closurenotes": notes[variant],
                "category": thread,
                "status": "Closed",
                "closed_at": (start + timedelta(minutes=number // 3)).isoformat(),
            }
        )
    return tickets


def through_ticket_source(clickhouse: ChdbClickHouse, variant: str) -> tuple[list[str], list[str], float]:
    """Import the tickets into chdb and page them back out; returns texts, threads, seconds."""
    started = time.perf_counter()
    source = TicketSource(clickhouse, database=f"bench_{variant}")
    source.ensure_schema()
    report = source.import_rows(stackfaq_tickets(variant))
    assert report.rejected == 0, report.rejected_by_reason
    fetched = [t for page in source.iter_resolved(None, None, page_size=500) for t in page.tickets]
    clickhouse.command(f"DROP DATABASE bench_{variant}")
    texts = [clustering_text(t.subject, t.body, t.closurenotes) for t in fetched]
    return texts, [t.category for t in fetched], time.perf_counter() - started


def embed(texts: list[str], embedder: Embedder) -> tuple[np.ndarray, float, bool]:
    """Vectors for the texts, from benchmarks/out when this model has seen these exact texts."""
    key = hashlib.sha256("\x1e".join([embedder.model_name, *texts]).encode()).hexdigest()[:16]
    cached = OUT / f"clustering_vectors_{key}.npy"
    if cached.exists():
        return np.load(cached), 0.0, True
    started = time.perf_counter()
    vectors = embedder.encode(texts)
    seconds = time.perf_counter() - started
    OUT.mkdir(parents=True, exist_ok=True)
    np.save(cached, vectors)
    return vectors, seconds, False


def score(groups: list[list[int]], threads: list[str]) -> dict[str, Any]:
    """Groups, purity and the share of threads split over several groups."""
    majority = sum(Counter(threads[i] for i in group).most_common(1)[0][1] for group in groups)
    groups_of_thread: dict[str, set[int]] = defaultdict(set)
    for number, group in enumerate(groups):
        for i in group:
            groups_of_thread[threads[i]].add(number)
    split = sum(len(numbers) > 1 for numbers in groups_of_thread.values())
    return {
        "groups": len(groups),
        "threads": len(groups_of_thread),
        "purity": round(majority / len(threads), 3),
        "threads_split": round(split / len(groups_of_thread), 3),
    }


def synthetic_batch(size: int, problems: int, shared_weight: float, seed: int = 0) -> np.ndarray:
    """Unit-ish vectors around `problems` centres (within-problem cosine ~0.76) plus a shared direction."""
    rng = np.random.default_rng(seed)
    dimension = 384
    shared = rng.normal(size=dimension)
    centres = rng.normal(size=(problems, dimension))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    centres += shared_weight * shared / np.linalg.norm(shared)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    members = rng.integers(0, problems, size)
    return (centres[members] + 0.6 * rng.normal(size=(size, dimension)) / np.sqrt(dimension)).astype(np.float32)


def _time_synthetic(shared_weight: float, threshold: float) -> dict[str, Any]:
    vectors = synthetic_batch(10_000, 1_000, shared_weight)
    started = time.perf_counter()
    groups = cluster_tickets(vectors, threshold=threshold)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"groups": len(groups), "seconds": round(seconds, 2), "peak_rss_mib": round(peak_mib)}


def scale_runs(threshold: float) -> dict[str, Any]:
    """Both 10k regimes, each in a fresh process."""
    context = multiprocessing.get_context("spawn")
    results = {}
    for name, shared_weight in (("distinct_problems", 0.0), ("one_component", 1.3), ("all_alike", 10.0)):
        with context.Pool(1) as pool:
            results[name] = pool.apply(_time_synthetic, (shared_weight, threshold))
    return results


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threshold", type=float, default=DEFAULT_DISTANCE_THRESHOLD)
    parser.add_argument("--skip-scale", action="store_true", help="Skip the 10,000-ticket timing.")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON only.")
    args = parser.parse_args()

    embedder = Embedder.from_settings(Settings(mistral_api_key=None))
    results: dict[str, Any] = {"threshold": args.threshold, "stackfaq": {}}
    with tempfile.TemporaryDirectory() as home:
        clickhouse = ChdbClickHouse(Path(home))
        for variant in VARIANTS:
            texts, threads, source_seconds = through_ticket_source(clickhouse, variant)
            vectors, embed_seconds, cached = embed(texts, embedder)
            started = time.perf_counter()
            groups = cluster_tickets(vectors, threshold=args.threshold)
            cluster_seconds = time.perf_counter() - started
            sweep = {
                f"{method}@{cut}": score(cluster_tickets(vectors, threshold=cut, linkage=method), threads)
                for method in ("complete", "average")
                for cut in SWEEP
            }
            results["stackfaq"][variant] = {
                **score(groups, threads),
                "tickets": len(texts),
                "source_seconds": round(source_seconds, 2),
                "embed_seconds": None if cached else round(embed_seconds, 1),
                "cluster_seconds": round(cluster_seconds, 3),
                "sweep": sweep,
            }
    if not args.skip_scale:
        results["scale_10k"] = scale_runs(args.threshold)
    save_results("clustering", results)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"complete linkage at cosine distance {args.threshold}")
    for variant, row in results["stackfaq"].items():
        print(
            f"  {variant:14} tickets {row['tickets']}  groups {row['groups']}  purity {row['purity']:.3f}"
            f"  threads split {row['threads_split']:.1%}  cluster {row['cluster_seconds']} s"
            f"  (import+page {row['source_seconds']} s, embed {row['embed_seconds'] or 'cached'} s)"
        )
    for name, row in results.get("scale_10k", {}).items():
        print(f"  10k {name:18} groups {row['groups']}  {row['seconds']} s  peak RSS {row['peak_rss_mib']} MiB")
    print(f"sweeps: {OUT / 'clustering.json'}")


if __name__ == "__main__":
    main()
