"""Tickets through the whole ticket graph: throughput, latency per ticket, the checkpointer's share.

    python -m benchmarks.graph [--tickets 200] [--workers 1,4,8] [--rounds 2] [--compare-upstream] [--profile]
                               [--memo-embeddings]

A temporary DOXA_HOME (embedded Postgres), the help-centre articles ingested once, the real runtime context
(`graph.factory.ticket_context`: offline LLM backend, hybrid retriever, fitted classifier) and N varied tickets
(Endava IT tickets, Banking77 questions, help-centre-like questions; examples/tickets/*.json when the shared data
is absent). Each ticket is one `TicketService.run`, then, when the thread waits for feedback, one
`feedback(satisfied=True)` that closes it: the "per ticket" time is both. Every configuration runs with the
Postgres checkpointer and with LangGraph's InMemorySaver (the ticket store and outbox stay in Postgres for both),
sequentially and on thread pools, the two savers taking turns for --rounds passes (a busy machine then slows both
alike); ten warm-up tickets per saver are run first and not counted, and the p95 of each round is printed beside
the pooled one (min / median / max), with the commit. The checkpointer's share is (postgres - memory) / postgres of
the mean time per ticket, and of the p95. Embedding time is every `Embedder.encode` call made while a ticket runs
(analyze embeds two texts, classify one, the retriever one per search), also summed by caller. With --profile, a
sequential pass times each node from `graph.stream(stream_mode="updates")`, the savers taking turns.
--memo-embeddings measures a proposed fix: texts the ticket already embedded are not encoded again.
Figures print as Markdown; copy them to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres import PostgresSaver

from benchmarks.corpus import DATA
from benchmarks.provenance import code_commit
from benchmarks.retrieval_quality import machine
from core.database import embedded_server
from core.embeddings import Embedder, Vectors
from core.graph_runtime.checkpoints import checkpoint_serializer
from core.services import Services
from core.settings import Settings
from graph.factory import ticket_context
from graph.ticket_service import CHECKPOINT_TYPES, TicketService
from graph.ticket_store import TicketStore
from kb.ingest import KnowledgeBaseIngestor
from state.ticket import CustomerFeedback, TicketInput

REPO = Path(__file__).resolve().parents[1]
ARTICLES = REPO / "examples" / "helpcentre" / "articles"
EXAMPLE_TICKETS = REPO / "examples" / "tickets"

# Questions in the help centre's words, so part of the load takes the confident-answer path.
HELP_CENTRE_QUESTIONS = [
    (
        "Tor is blocked in my country",
        "Tor Browser cannot connect here. Which bridge or pluggable transport should I use?",
    ),
    ("How do I verify the download?", "I downloaded Tor Browser and want to check its signature. How do I do that?"),
    ("Tor Browser on Android", "Is there an official Tor Browser for Android phones, and where do I get it?"),
    ("Proxy settings", "My network needs a proxy. Where do I configure a proxy in Tor Browser?"),
    ("Running a relay", "I would like to run a Tor relay on my server. What bandwidth do I need?"),
    ("Slow browsing", "Tor Browser is very slow today. Is there anything I can do to speed it up?"),
    ("New identity", "How do I get a new identity or a new circuit for a site in Tor Browser?"),
    ("Captchas everywhere", "Many websites show me captchas when I use Tor. Why does this happen?"),
]


def load_tickets(count: int, seed: int = 7) -> list[tuple[str, str]]:
    """(subject, body) pairs: a mix of IT tickets, banking questions and help-centre questions."""
    rng = random.Random(seed)
    pools: list[list[tuple[str, str]]] = []
    endava = DATA / "endava_it_tickets" / "tickets.jsonl"
    banking = DATA / "banking77" / "tickets.jsonl"
    for path in (endava, banking):
        if path.is_file():
            rows = [json.loads(line) for line in path.open(encoding="utf-8")]
            sample = rng.sample(rows, min(len(rows), count))
            pools.append([(r.get("subject") or r["body"][:60], r["body"]) for r in sample])
    if not pools:
        examples = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLE_TICKETS.glob("*.json"))]
        pools.append([(e["subject"], e["body"]) for e in examples])
    pools.append(HELP_CENTRE_QUESTIONS)
    # Two parts shared data, one part help-centre questions (repeated: the graph caches nothing per text).
    tickets: list[tuple[str, str]] = []
    while len(tickets) < count:
        for pool in pools:
            tickets.append(pool[len(tickets) % len(pool)])
    return tickets[:count]


@dataclass
class EncodeCalls:
    """What one caller asked of the embedding model."""

    calls: int = 0
    texts: int = 0
    seconds: float = 0.0


class EncodeClock:
    """Wraps `Embedder.encode`: seconds per thread (reset per ticket) and per calling function (all threads)."""

    def __init__(self, embedder: Embedder, *, memo: bool = False) -> None:
        self._encode: Callable[[Sequence[str]], Vectors] = embedder.encode
        self.memo = memo
        self._local = threading.local()
        self._lock = threading.Lock()
        self.by_caller: dict[str, EncodeCalls] = defaultdict(EncodeCalls)
        embedder.encode = self.encode  # type: ignore[method-assign]

    def encode(self, texts: Sequence[str]) -> Vectors:
        """The wrapped call, timed."""
        started = time.perf_counter()
        try:
            return self._remembered(texts) if self.memo else self._encode(texts)
        finally:
            elapsed = time.perf_counter() - started
            self._local.seconds = self.seconds() + elapsed
            caller = _caller_outside(("core/embeddings.py",))
            with self._lock:
                counts = self.by_caller[caller]
                counts.calls += 1
                counts.texts += len(texts)
                counts.seconds += elapsed

    def _remembered(self, texts: Sequence[str]) -> Vectors:
        """What-if for a product fix: a text this ticket already embedded is not encoded again."""
        memo: dict[str, Vectors] = self._local.__dict__.setdefault("memo", {})
        missing = list(dict.fromkeys(t for t in texts if t not in memo))
        if missing:
            memo.update(zip(missing, self._encode(missing), strict=True))
        return np.stack([memo[t] for t in texts])

    def seconds(self) -> float:
        """Encoding seconds of this thread since its last reset."""
        return float(getattr(self._local, "seconds", 0.0))

    def reset(self) -> None:
        """Start this thread's counter (and its what-if memo) again: a new ticket begins."""
        self._local.seconds = 0.0
        self._local.memo = {}


def _caller_outside(skipped: tuple[str, ...]) -> str:
    """`module.function` of the nearest caller outside this file and the skipped files."""
    frame = sys._getframe(2)
    while frame is not None and (frame.f_code.co_filename == __file__ or frame.f_code.co_filename.endswith(skipped)):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "?"
    return f"{Path(frame.f_code.co_filename).stem}.{frame.f_code.co_name}"


@dataclass
class Measurement:
    """Per-ticket times of one configuration."""

    saver: str
    workers: int
    wall_s: float = 0.0
    ticket_s: list[float] = field(default_factory=list)
    run_s: list[float] = field(default_factory=list)
    encode_s: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def merge(self, other: Measurement) -> Measurement:
        """Both runs' tickets as one measurement (wall times add up)."""
        merged = Measurement(self.saver, self.workers, self.wall_s + other.wall_s)
        for name in ("ticket_s", "run_s", "encode_s"):
            getattr(merged, name).extend([*getattr(self, name), *getattr(other, name)])
        for key, count in [*self.statuses.items(), *other.statuses.items()]:
            merged.statuses[key] += count
        return merged

    def p(self, values: list[float], q: float) -> float:
        """The q-quantile in milliseconds."""
        ordered = sorted(values)
        return 1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def spread(rounds: Sequence[Measurement]) -> str:
    """Min / median / max of the per-round p95, so one noisy round cannot pass for the figure."""
    p95s = sorted(m.p(m.ticket_s, 0.95) for m in rounds)
    return f"{p95s[0]:.0f} / {statistics.median(p95s):.0f} / {p95s[-1]:.0f}"


def share_row(label: str, saver: Measurement, memory: Measurement) -> str:
    """The checkpointer's share of the mean and of the p95 time per ticket, as a Markdown row."""
    mean, mem = statistics.fmean(saver.ticket_s), statistics.fmean(memory.ticket_s)
    p95, mem95 = saver.p(saver.ticket_s, 0.95), memory.p(memory.ticket_s, 0.95)
    return (
        f"| {label} | {100 * (mean - mem) / mean:.0f}% ({1000 * mean:.0f} vs {1000 * mem:.0f} ms) "
        f"| {100 * (p95 - mem95) / p95:.0f}% ({p95:.0f} vs {mem95:.0f} ms) |"
    )


def make_saver(kind: str, tickets: TicketStore) -> BaseCheckpointSaver[Any]:
    """The Postgres saver the product uses, LangGraph's own PostgresSaver, or an in-memory one; same serializer."""
    if kind == "postgres":
        return TicketService.postgres_checkpointer(tickets)
    if kind == "upstream":
        saver = PostgresSaver(tickets.db.autocommit_pool(), serde=checkpoint_serializer(CHECKPOINT_TYPES))
        saver.setup()
        return saver
    return InMemorySaver(serde=checkpoint_serializer(CHECKPOINT_TYPES))


def run_one(service: TicketService, clock: EncodeClock, ticket: TicketInput) -> tuple[float, float, float, str]:
    """One ticket to its end (closing it with positive feedback when it waits); seconds and final status."""
    clock.reset()
    started = time.perf_counter()
    outcome = service.run(ticket)
    ran = time.perf_counter() - started
    if outcome.waiting_for_feedback:
        outcome = service.feedback(outcome.thread_id, CustomerFeedback(satisfied=True))
    return time.perf_counter() - started, ran, clock.seconds(), outcome.status


def measure(
    service: TicketService, clock: EncodeClock, tickets: list[tuple[str, str]], saver: str, workers: int, tag: str
) -> Measurement:
    """Run every ticket on `workers` threads (with nothing remembered from an earlier run of the same texts)."""
    forget = getattr(service.context.embedder, "forget", None)
    if forget is not None:
        forget()
    result = Measurement(saver, workers)
    inputs = [
        TicketInput(id=f"{tag}-{i}", subject=s[:500], body=b, customer_email="bench@example.com")
        for i, (s, b) in enumerate(tickets)
    ]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for total, ran, encoded, status in pool.map(lambda t: run_one(service, clock, t), inputs):
            result.ticket_s.append(total)
            result.run_s.append(ran)
            result.encode_s.append(encoded)
            result.statuses[status] += 1
    result.wall_s = time.perf_counter() - started
    return result


def profile_nodes(
    services: dict[str, TicketService], clock: EncodeClock, tickets: list[tuple[str, str]], tag: str
) -> dict[str, dict[str, list[float]]]:
    """Seconds per node and saver: the time between consecutive stream updates, checkpoint writes included.

    The savers take turns ticket by ticket, so a change in the machine's load falls on both.
    """
    per_node: dict[str, dict[str, list[float]]] = {saver: defaultdict(list) for saver in services}
    for i, (subject, body) in enumerate(tickets):
        for saver, service in services.items():
            ticket = TicketInput(id=f"{tag}-{saver}-{i}", subject=subject[:500], body=body)
            config: Any = {"configurable": {"thread_id": ticket.id}}
            clock.reset()
            last = time.perf_counter()
            for update in service.graph.stream(
                {"ticket": ticket}, config, context=service.context, stream_mode="updates", durability="sync"
            ):
                now = time.perf_counter()
                for node in update:
                    per_node[saver][node].append(now - last)
                last = now
    return per_node


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--workers", default="1,4,8", help="Comma-separated thread-pool sizes (1 = sequential).")
    parser.add_argument("--profile", action="store_true", help="Also time each node on a sequential pass.")
    parser.add_argument(
        "--compare-upstream",
        action="store_true",
        help="Also run LangGraph's PostgresSaver as it ships (synchronous commits), to compare with Doxa's.",
    )
    parser.add_argument("--rounds", type=int, default=2, help="Passes per configuration, the savers taking turns.")
    parser.add_argument(
        "--memo-embeddings",
        action="store_true",
        help="What-if: a text the ticket already embedded is not encoded again (a per-ticket memo).",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    workers = [int(w) for w in args.workers.split(",")]
    tickets = load_tickets(args.tickets)

    with tempfile.TemporaryDirectory(prefix="doxa-bench-graph-") as home:
        settings = Settings(home=Path(home), mistral_api_key=None)
        with Services.open(settings) as services:
            report = KnowledgeBaseIngestor.from_services(services).run([ARTICLES])
            print(
                f"# {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {machine()}, commit {code_commit()}",
                file=sys.stderr,
            )
            print(f"ingested {report.chunks_added} chunks in {report.seconds:.1f} s", file=sys.stderr)
            context = ticket_context(services)
            store = TicketStore(services.db)
            clock = EncodeClock(services.embedder, memo=args.memo_embeddings)
            print(
                f"\n{len(tickets)} tickets, db_pool_max {settings.db_pool_max}, "
                f"load average before: {os.getloadavg()[0]:.1f}\n"
            )
            print(
                "| checkpointer | workers | tickets/s | p50 ms | p95 ms | p95 per round min / median / max "
                "| p95 ms run only | encode ms/ticket | rest ms/ticket | load | outcomes |"
                "\n|---|---|---|---|---|---|---|---|---|---|---|"
            )
            results: dict[tuple[str, int], Measurement] = {}
            rounds: dict[tuple[str, int], list[Measurement]] = defaultdict(list)
            results_savers = ("postgres", "upstream", "memory") if args.compare_upstream else ("postgres", "memory")
            services_by_saver = {
                saver: TicketService(context, make_saver(saver, store), store) for saver in results_savers
            }
            for saver, service in services_by_saver.items():
                measure(service, clock, tickets[:10], saver, 1, f"warm-{saver}")  # model, pools, caches
            # The savers take turns, round after round, so a change in the machine's load falls on both.
            for round_ in range(args.rounds):
                for w in workers:
                    for saver, service in services_by_saver.items():
                        m = measure(service, clock, tickets, saver, w, f"{saver}-{w}-r{round_}")
                        results[(saver, w)] = results[(saver, w)].merge(m) if (saver, w) in results else m
                        rounds[(saver, w)].append(m)
            for saver in results_savers:
                for w in workers:
                    m = results[(saver, w)]
                    mean_ms = 1000 * statistics.fmean(m.ticket_s)
                    encode_ms = 1000 * statistics.fmean(m.encode_s)
                    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(m.statuses.items()))
                    print(
                        f"| {saver} | {w} | {len(m.ticket_s) / m.wall_s:.1f} | {m.p(m.ticket_s, 0.5):.0f} "
                        f"| {m.p(m.ticket_s, 0.95):.0f} | {spread(rounds[(saver, w)])} "
                        f"| {m.p(m.run_s, 0.95):.0f} | {encode_ms:.0f} "
                        f"| {mean_ms - encode_ms:.0f} | {os.getloadavg()[0]:.1f} | {outcomes} |",
                        flush=True,
                    )
            print(
                "\n| workers | checkpointer share of mean ms/ticket (postgres - memory) / postgres "
                "| same, of p95 |\n|---|---|---|"
            )
            for w in workers:
                for saver in ("upstream", "postgres"):
                    if (saver, w) in results:
                        print(share_row(f"{w} ({saver})", results[(saver, w)], results[("memory", w)]))
            if args.profile:
                sample = tickets[: min(100, len(tickets))]
                savers = {k: TicketService(context, make_saver(k, store), store) for k in results_savers}
                timings = profile_nodes(savers, clock, sample, "profile")
                print("\n| node | postgres mean ms | memory mean ms | calls |\n|---|---|---|---|")
                for node, seconds in sorted(timings["postgres"].items(), key=lambda kv: -sum(kv[1])):
                    memory = timings["memory"].get(node, [0.0])
                    print(
                        f"| {node} | {1000 * statistics.fmean(seconds):.1f} "
                        f"| {1000 * statistics.fmean(memory):.1f} | {len(seconds)} |"
                    )
            print("\n| encode caller (all runs) | calls | texts | mean ms per call |\n|---|---|---|---|")
            for caller, c in sorted(clock.by_caller.items(), key=lambda kv: -kv[1].seconds):
                print(f"| {caller} | {c.calls} | {c.texts} | {1000 * c.seconds / c.calls:.1f} |")
            print(f"\nload average after: {os.getloadavg()[0]:.1f}")
        # Stop the embedded server now: its data directory is deleted with the temporary home.
        embedded_server(settings).cleanup()


if __name__ == "__main__":
    main()
