"""Retrieval quality on StackFAQ (three modes; all queries, the tuning half, the held-out half),
kb_confident precision/coverage on confidence_dev, and a sanity run on the Tor help centre.

    python -m benchmarks.retrieval_quality [--home benchmarks/out/quality_home]

The fusion weights (kb.fusion.FusionWeights) were tuned on the "tune" half of StackFAQ's queries:
a seeded permutation (numpy default_rng(7)) of queries.jsonl, first half. Figures for the other half
are the honest ones.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from core.services import Services
from core.settings import Settings
from kb.evaluation import (
    MODES,
    FaqItem,
    LabelledQuery,
    evaluate_confidence,
    evaluate_retrieval,
    faq_retriever,
    load_faqs,
    load_queries,
    report,
    run_queries,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
OUT = Path(__file__).resolve().parent / "out"


def split(queries: list[LabelledQuery], seed: int = 7) -> tuple[list[LabelledQuery], list[LabelledQuery]]:
    """The tuning half and the held-out half of a query list."""
    order = np.random.default_rng(seed).permutation(len(queries))
    half = len(queries) // 2
    return [queries[i] for i in order[:half]], [queries[i] for i in order[half:]]


def tor_faqs() -> tuple[list[FaqItem], list[LabelledQuery]]:
    """Tor help-centre articles as FAQs (body only, as the data README advises) and their titles as queries."""
    faqs, queries = [], []
    for line in (DATA / "tor_support_kb" / "kb.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        faqs.append(FaqItem(row["id"], row["topic"], row["body_markdown"]))
    for line in (DATA / "tor_support_kb" / "questions.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        queries.append(LabelledQuery(row["question"], tuple(row["gold_doc_ids"])))
    return faqs, queries


def machine() -> str:
    """CPU model and core count."""
    model = platform.processor() or "unknown CPU"
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        pass
    import os

    return f"{model}, {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, default=OUT / "quality_home")
    parser.add_argument("--skip-tor", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    settings = Settings(home=args.home, mistral_api_key=None)
    faqs = load_faqs(DATA / "stackfaq" / "faqs.jsonl")
    queries = load_queries(DATA / "stackfaq" / "queries.jsonl")
    tune, held_out = split(queries)
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}, backend {settings.vector_backend}")
    print("\n| set | mode | MRR@10 | R@1 | R@5 | p50 ms | p95 ms |\n|---|---|---|---|---|---|---|")
    with Services.open(settings) as services:
        runs = {}
        for mode in MODES:
            with faq_retriever(services, faqs, mode) as retriever:
                rankings, latencies = run_queries(retriever, queries, mode)
            runs[mode] = {id(q): (ranking, ms) for q, ranking, ms in zip(queries, rankings, latencies, strict=True)}
        for name, subset in (("all 1,249", queries), ("tune half", tune), ("held-out half", held_out)):
            for mode in MODES:
                pairs = [runs[mode][id(q)] for q in subset]
                r = report(mode, [p[0] for p in pairs], [p[1] for p in pairs], subset)
                print(
                    f"| {name} | {mode} | {r.mrr_at_10:.4f} | {r.recall_at_1:.4f} | {r.recall_at_5:.4f}"
                    f" | {r.latency_p50_ms:.1f} | {r.latency_p95_ms:.1f} |",
                    flush=True,
                )
        confidence_queries = load_queries(DATA / "confidence_dev" / "queries.jsonl")
        thresholds = [0.40, 0.45, 0.48, 0.50, 0.52, 0.55, 0.60, 0.70]
        print(
            "\n| threshold | precision | coverage | out-of-scope not confident | precision (gold in top 5) |"
            " coverage (gold in top 5) |\n|---|---|---|---|---|---|"
        )
        for p in evaluate_confidence(services, faqs, confidence_queries, thresholds):
            print(
                f"| {p.threshold:.2f} | {p.precision:.3f} | {p.coverage:.3f} | {p.out_of_scope_rejected:.3f}"
                f" | {p.precision_top5:.3f} | {p.coverage_top5:.3f} |",
                flush=True,
            )
        if not args.skip_tor:
            tor, tor_queries = tor_faqs()
            print("\n| Tor help centre, titles -> bodies | MRR@10 | R@1 | R@5 | p50 ms | p95 ms |")
            print("|---|---|---|---|---|---|")
            for mode in ("bm25", "dense", "hybrid"):
                r = evaluate_retrieval(services, tor, tor_queries, mode)
                print(
                    f"| {mode} | {r.mrr_at_10:.4f} | {r.recall_at_1:.4f} | {r.recall_at_5:.4f}"
                    f" | {r.latency_p50_ms:.1f} | {r.latency_p95_ms:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
