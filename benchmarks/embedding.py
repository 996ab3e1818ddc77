"""Encoder throughput, PyTorch against ONNX Runtime fp32, in one process, interleaved; then mining with each.

    python -m benchmarks.embedding [--rounds 3] [--mining 10000] [--texts 512]

Both backends load the same shipped all-MiniLM-L6-v2 weights (ONNX exported at first use into a
temporary DOXA_HOME). Each round encodes three text sets with both backends, alternating which goes
first, so both see the same load on a shared machine: short queries (StackFAQ), mining texts
(BANKING77 tickets as the mining graph embeds them: body + closure notes) and ticket-length texts
(StackFAQ question + top answer, up to the model's 256 tokens). Then one query at a time
(`embed_query`, p50 / p95), and, with `--mining N`, one FAQ-mining run of N BANKING77 tickets end to
end per backend (benchmarks/mining.py's harness) with its ratio to the bare encoder on the same texts:
the texts the run embedded (ticket texts and candidate questions), in the calls it made, encoded again
right after it. Figures print as Markdown with the commit and the load average; copy them to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.corpus import DATA
from benchmarks.mining import banking77_tickets, scale_run
from benchmarks.provenance import code_commit
from benchmarks.retrieval_quality import machine
from core.embeddings import Embedder
from core.settings import Settings
from faq_mining.clustering import clustering_text


def load() -> str:
    """The 1/5/15-minute load averages: other work on the machine inflates every figure."""
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def text_sets(count: int) -> dict[str, list[str]]:
    """The three workloads, `count` texts each."""
    queries = [json.loads(line)["query"] for line in (DATA / "stackfaq" / "queries.jsonl").open(encoding="utf-8")]
    faqs = [json.loads(line) for line in (DATA / "stackfaq" / "faqs.jsonl").open(encoding="utf-8")]
    tickets = banking77_tickets(count)
    return {
        "short queries (StackFAQ)": queries[:count],
        "mining texts (BANKING77 body + notes)": [clustering_text("", t["body"], t["closurenotes"]) for t in tickets],
        "ticket-length (StackFAQ question + answer)": [
            f"{f['question']}\n\n{f['answer']}" for f in (faqs * (count // len(faqs) + 1))[:count]
        ],
    }


def rate(embedder: Embedder, texts: list[str]) -> float:
    """Texts per second for one encode call."""
    started = time.perf_counter()
    embedder.encode(texts)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--texts", type=int, default=512, help="Texts per workload and round.")
    parser.add_argument("--mining", type=int, default=0, help="Tickets of one mining run per backend (0: none).")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="doxa_embedding_bench_"))
    backends = {
        name: Embedder.from_settings(Settings(home=home, embedding_backend=name, mistral_api_key=None))
        for name in ("torch", "onnx")
    }
    for name, embedder in backends.items():
        started = time.perf_counter()
        embedder.warm_up()
        print(f"{name}: loaded (export included for onnx) in {time.perf_counter() - started:.1f} s")
    sets = text_sets(args.texts)
    print(f"# {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {machine()}, commit {code_commit()}, load {load()}")
    rates: dict[tuple[str, str], list[float]] = {}
    for round_number in range(args.rounds):
        order = list(backends) if round_number % 2 == 0 else list(reversed(backends))
        for label, texts in sets.items():
            for name in order:
                rates.setdefault((label, name), []).append(rate(backends[name], texts))
        print(f"round {round_number + 1} done, load {load()}", flush=True)
    latencies: dict[str, list[float]] = {name: [] for name in backends}
    for i, query in enumerate(sets["short queries (StackFAQ)"][:200]):
        for name in list(backends) if i % 2 == 0 else list(reversed(backends)):
            started = time.perf_counter()
            backends[name].embed_query(query)
            latencies[name].append((time.perf_counter() - started) * 1000)
    print(f"\n{args.texts} texts per workload, {args.rounds} rounds, batch 64; load after: {load()}\n")
    print("| sentences/s, median of rounds (min-max) | PyTorch | ONNX fp32 | ONNX / PyTorch |\n|---|---|---|---|")
    for label in sets:
        torch_rates, onnx_rates = rates[(label, "torch")], rates[(label, "onnx")]
        cells = [f"{np.median(r):.0f} ({min(r):.0f}-{max(r):.0f})" for r in (torch_rates, onnx_rates)]
        ratio = np.median(np.array(onnx_rates) / np.array(torch_rates))
        print(f"| {label} | {cells[0]} | {cells[1]} | {ratio:.2f}x |")
    cells = [f"{np.percentile(latencies[n], 50):.1f} / {np.percentile(latencies[n], 95):.1f}" for n in backends]
    print(f"| one query, embed_query p50 / p95 ms | {cells[0]} | {cells[1]} | - |")
    if args.mining:
        print(
            f"\n| mining {args.mining:,} BANKING77 tickets | tickets/s | embedding share | texts embedded (calls)"
            " | bare encoder on the same texts, tickets/s | mining / bare | load before / after |"
            "\n|---|---|---|---|---|---|---|"
        )
        for name in backends:
            before = load()
            row = scale_run(backends[name], False, args.mining, bare=True)
            print(
                f"| {name} | {row['tickets_per_second']} | {row['embedding_share']:.0%} | {row['embedded_texts']:,}"
                f" ({len(row['encode_calls'])}) | {row['bare_tickets_per_second']} | {row['mining_over_bare']:.0%}"
                f" | {before} / {load()} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
