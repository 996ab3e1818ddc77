"""FAQ-mining benchmark: StackFAQ's paraphrased queries mined into candidates, and 10,000 tickets end to end.

(a) StackFAQ (../shared/data/stackfaq): 1,249 queries of 125 threads become Closed tickets (body = the
    query, closure notes = the thread's top answer; see benchmarks/clustering.py), are imported into chdb
    and mined offline through the whole graph (fetch .. stage) on an embedded PostgreSQL. A perfect run
    stages 125 candidates, each holding the tickets of one thread. Reported: candidates, purity (share of
    staged tickets in their candidate's majority thread), share of threads split over several candidates,
    timings per step. The minimum body length is 0 here: 18 of the queries are shorter than the default 30.
(b) 10,000 tickets: BANKING77 customer queries (../shared/data/banking77) as Closed tickets whose closure
    notes are one resolution text per intent (the data set has no answers), mined end to end offline:
    tickets per second, the embedding's share of the time, and the checkpoint bytes the run wrote. With
    --bare, the texts the run embedded (ticket texts and candidate questions, in the calls it made) are
    encoded again by the bare encoder right after the run: mining / bare is that encoder time over the
    run's time, so 100% would be a pipeline that costs nothing beyond its embeddings.

Usage: python -m benchmarks.mining [--skip-10k] [--bare] [--json]
Vectors are cached under benchmarks/out/ (keyed by model and texts) with --cache-vectors; timings are
then no longer those of a cold run, and the embedding share is reported as cached.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.clustering import score, stackfaq_tickets  # noqa: E402
from benchmarks.corpus import OUT, save_results  # noqa: E402
from benchmarks.provenance import code_commit  # noqa: E402
from core.clickhouse import ChdbClickHouse  # noqa: E402
from core.database import Database  # noqa: E402
from core.embeddings import Embedder, Vectors  # noqa: E402
from core.services import Services  # noqa: E402
from core.settings import Settings  # noqa: E402
from faq_mining.service import MiningService, mining_context_from_services, postgres_saver  # noqa: E402
from faq_mining.state import MiningRequest  # noqa: E402
from faq_mining.ticket_source import TicketSource  # noqa: E402

BANKING77 = ROOT.parent / "shared" / "data" / "banking77"
NOW = datetime.now(UTC)


class TimedEmbedder:
    """The embedder, timed; with `cache`, vectors of texts seen before come from benchmarks/out."""

    def __init__(self, embedder: Embedder, cache: bool) -> None:
        self.embedder = embedder
        self.cache = cache
        self.seconds = 0.0
        self.texts = 0
        self.cached_calls = 0
        self.calls: list[list[str]] = []  # every call's texts, in order, for the bare replay

    def encode(self, texts: Sequence[str]) -> Vectors:
        started = time.perf_counter()
        key = hashlib.sha256("\x1e".join([self.embedder.model_name, *texts]).encode()).hexdigest()[:16]
        path = OUT / f"mining_vectors_{key}.npy"
        if self.cache and path.exists():
            vectors: Vectors = np.load(path)
            self.cached_calls += 1
        else:
            vectors = self.embedder.encode(texts)
            if self.cache:
                OUT.mkdir(parents=True, exist_ok=True)
                np.save(path, vectors)
        self.seconds += time.perf_counter() - started
        self.texts += len(texts)
        self.calls.append(list(texts))
        return vectors

    def embed_query(self, text: str) -> Vectors:
        return self.encode([text])[0]


def bare_seconds(embedder: Embedder, calls: list[list[str]]) -> float:
    """Seconds the bare encoder takes for the same texts in the same calls (no graph, no stores)."""
    started = time.perf_counter()
    for texts in calls:
        embedder.encode(texts)
    return time.perf_counter() - started


def banking77_tickets(count: int) -> list[dict[str, Any]]:
    """BANKING77 queries as Closed tickets with one resolution text per intent, spread over five days."""
    rows = [json.loads(line) for line in (BANKING77 / "tickets.jsonl").open()][:count]
    rng = random.Random(0)
    tickets = []
    for number, row in enumerate(rows):
        intent = row["category"].replace("_", " ")
        tickets.append(
            {
                "id": row["id"],
                "body": row["body"],
                "closurenotes": f"Explained the {intent} procedure step by step in the app and confirmed with the "
                f"customer that the {intent} question was answered.",
                "category": row["category"],
                "status": rng.choice(["Closed", "Resolved"]),
                "closed_at": (NOW - timedelta(minutes=5 * 24 * 60 * number / count + 10)).isoformat(),
            }
        )
    return tickets


def mine(
    home: Path, tickets: list[dict[str, Any]], embedder: Embedder, cache: bool, bare: bool = False, **policy: Any
) -> dict[str, Any]:
    """Import the tickets into chdb and run one mining run over them on a fresh embedded Postgres.

    With `bare`, the bare encoder then encodes the run's texts again (see the module docstring).
    """
    settings = Settings(home=home, mistral_api_key=None, clickhouse_url=None)
    db = Database.open(settings)
    try:
        services = Services(settings, db)
        services.embedder = embedder
        clickhouse = ChdbClickHouse(home / "chdb")
        services.__dict__["clickhouse"] = clickhouse
        source = TicketSource(clickhouse, database="ticketing")
        source.ensure_schema()
        started = time.perf_counter()
        report = source.import_rows(tickets)
        import_seconds = time.perf_counter() - started
        timed = TimedEmbedder(embedder, cache)
        context = mining_context_from_services(services, with_source=False)
        context = replace(context, source=source, embedder=timed, policy=replace(context.policy, **policy))
        service = MiningService(context, postgres_saver(db), db)
        steps: dict[str, float] = {}
        last = time.perf_counter()

        def on_step(step: str) -> None:
            nonlocal last
            now = time.perf_counter()
            steps[step] = round(now - last, 3)
            last = now

        started = last = time.perf_counter()
        run = service.mine(MiningRequest(lookback_days=3_650, limit=100_000), run_id="bench", on_step=on_step)
        seconds = time.perf_counter() - started
        with db.connection() as conn:
            staged = conn.execute("SELECT source_ticket_ids FROM faq_staging ORDER BY id").fetchall()
            checkpoint = conn.execute(
                "SELECT (SELECT coalesce(sum(octet_length(blob)), 0) FROM checkpoint_blobs WHERE thread_id = 'bench')"
                " + (SELECT coalesce(sum(octet_length(blob)), 0) FROM checkpoint_writes WHERE thread_id = 'bench')"
                " AS bytes"
            ).fetchone()
        clickhouse.close()
    finally:
        db.close()
    replay = {}
    if bare:
        encoder_seconds = bare_seconds(embedder, timed.calls)
        replay = {
            "bare_seconds": round(encoder_seconds, 2),
            "bare_tickets_per_second": round(run.stats.processed / encoder_seconds, 1),
            "mining_over_bare": round(encoder_seconds / seconds, 3),
        }
    return {
        "imported": report.imported,
        "stats": run.stats.model_dump(exclude={"failures"}),
        "seconds": round(seconds, 2),
        "import_seconds": round(import_seconds, 2),
        "tickets_per_second": round(run.stats.processed / seconds, 1),
        "embedding_seconds": round(timed.seconds, 2),
        "embedding_share": round(timed.seconds / seconds, 3),
        "embedded_texts": timed.texts,
        "encode_calls": [len(texts) for texts in timed.calls],
        **replay,
        "embedding_cached": timed.cached_calls > 0,
        "steps": steps,
        "checkpoint_bytes": int(checkpoint["bytes"]) if checkpoint else None,
        "candidates": [row["source_ticket_ids"] for row in staged],
    }


def stackfaq_run(embedder: Embedder, cache: bool) -> dict[str, Any]:
    tickets = stackfaq_tickets("top_answer")
    thread_of = {ticket["id"]: ticket["category"] for ticket in tickets}
    with tempfile.TemporaryDirectory() as home:
        result = mine(Path(home), tickets, embedder, cache, min_body_chars=0)
    candidates = result.pop("candidates")
    index = {ticket_id: number for number, ticket_id in enumerate(thread_of)}
    threads = list(thread_of.values())
    groups = [[index[ticket_id] for ticket_id in sources] for sources in candidates]
    staged = sorted(i for group in groups for i in group)
    scored = score([[staged.index(i) for i in group] for group in groups], [threads[i] for i in staged])
    sizes = Counter(len(group) for group in groups)
    threads_staged = len({threads[i] for i in staged})
    return {
        **result,
        "candidates": len(groups),
        "purity": scored["purity"],
        "threads_split": scored["threads_split"],
        "threads_with_a_candidate": threads_staged,
        "largest_candidates": sorted(sizes.items(), reverse=True)[:3],
    }


def scale_run(embedder: Embedder, cache: bool, count: int, bare: bool = False) -> dict[str, Any]:
    tickets = banking77_tickets(count)
    intents: dict[str, str] = {ticket["id"]: ticket["category"] for ticket in tickets}
    with tempfile.TemporaryDirectory() as home:
        result = mine(Path(home), tickets, embedder, cache, bare, min_body_chars=0)
    candidates = result.pop("candidates")
    per_intent: defaultdict[str, int] = defaultdict(int)
    for sources in candidates:
        per_intent[Counter(intents[t] for t in sources).most_common(1)[0][0]] += 1
    return {**result, "candidates": len(candidates), "intents": len(set(intents.values()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-10k", action="store_true", help="Skip the 10,000-ticket run.")
    parser.add_argument("--cache-vectors", action="store_true", help="Reuse vectors cached under benchmarks/out.")
    parser.add_argument("--count", type=int, default=10_000, help="Tickets of the scale run.")
    parser.add_argument("--bare", action="store_true", help="Time the bare encoder on the scale run's texts.")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON only.")
    args = parser.parse_args()

    embedder = Embedder.from_settings(Settings(mistral_api_key=None))
    embedder.warm_up()
    results: dict[str, Any] = {"stackfaq": stackfaq_run(embedder, args.cache_vectors)}
    if not args.skip_10k:
        results["scale"] = scale_run(embedder, args.cache_vectors, args.count, args.bare)
    results["commit"] = code_commit()
    save_results("mining", results)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"commit {results.pop('commit')}")
    for name, row in results.items():
        stats = row["stats"]
        print(
            f"{name}: {stats['processed']} tickets -> {row['candidates']} candidates"
            f" ({stats['staged_tickets']} staged tickets, prefilter {stats['skipped_prefilter']},"
            f" unsuitable {stats['skipped_unsuitable']}, failed {stats['failed']})"
        )
        if "purity" in row:
            print(f"  purity {row['purity']:.3f}  threads split {row['threads_split']:.1%}")
        print(
            f"  {row['seconds']} s ({row['tickets_per_second']} tickets/s), embedding {row['embedding_seconds']} s"
            f" = {row['embedding_share']:.0%}{' (cached)' if row['embedding_cached'] else ''},"
            f" checkpoints {row['checkpoint_bytes'] / 1024:.0f} KiB"
        )
        if "bare_seconds" in row:
            print(
                f"  embedded {row['embedded_texts']} texts in calls of {row['encode_calls']}; the bare encoder on them:"
                f" {row['bare_seconds']} s ({row['bare_tickets_per_second']} tickets/s), mining / bare"
                f" {row['mining_over_bare']:.1%}"
            )
        print(f"  steps: {row['steps']}")


if __name__ == "__main__":
    main()
