"""Offline ticket classifier on Banking77: fit on its train split, measure on its test split.

Run: `python -m benchmarks.classification [--data ../shared/data/banking77/tickets.jsonl]`.
Embeddings are cached in benchmarks/out/ (gitignored) keyed by model and content, so a second run
measures the classifier alone; embedding time is reported separately either way.
Prints a JSON summary and writes it to benchmarks/out/classification.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from benchmarks.corpus import OUT, save_results
from core.embeddings import Embedder
from core.settings import Settings
from text.classifier import TicketClassifier

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "banking77" / "tickets.jsonl"
LATENCY_SAMPLES = 500


def load_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as stream:
        return [json.loads(line) for line in stream if line.strip()]


def cached_embeddings(embedder: Embedder, texts: list[str]) -> tuple[np.ndarray, float]:
    """Vectors for texts, from benchmarks/out/ when this model already encoded exactly these texts."""
    digest = hashlib.sha256("\n".join([embedder.model_name, *texts]).encode()).hexdigest()[:16]
    cache = OUT / f"embeddings_{digest}.npy"
    if cache.exists():
        return np.load(cache), float("nan")
    started = time.perf_counter()
    vectors = embedder.encode(texts)
    seconds = time.perf_counter() - started
    OUT.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors)
    return vectors, seconds


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            error += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()

    rows = load_rows(args.data)
    train = [row for row in rows if row["split"] == "train"]
    test = [row for row in rows if row["split"] == "test"]
    embedder = Embedder.from_settings(Settings(mistral_api_key=None))
    embedder.warm_up()
    train_texts = [row["body"] for row in train]
    test_texts = [row["body"] for row in test]
    train_vectors, train_embed_s = cached_embeddings(embedder, train_texts)
    test_vectors, test_embed_s = cached_embeddings(embedder, test_texts)

    started = time.perf_counter()
    classifier = TicketClassifier.fit(train_texts, [row["category"] for row in train], embedder, vectors=train_vectors)
    fit_s = time.perf_counter() - started

    started = time.perf_counter()
    predictions = classifier.predict_batch(test_texts, test_vectors)
    batch_s = time.perf_counter() - started
    truth = [row["category"] for row in test]
    predicted = [p.label for p in predictions]
    confidence = np.array([p.confidence for p in predictions])
    correct = np.array([p == t for p, t in zip(predicted, truth, strict=True)])

    latencies = []
    for text, vector in list(zip(test_texts, test_vectors, strict=True))[:LATENCY_SAMPLES]:
        started = time.perf_counter()
        classifier.predict(text, vector)
        latencies.append((time.perf_counter() - started) * 1000)
    embed_latencies = []
    for text in test_texts[:100]:
        started = time.perf_counter()
        embedder.embed_query(text)
        embed_latencies.append((time.perf_counter() - started) * 1000)

    summary = {
        "data": str(args.data),
        "train_rows": len(train),
        "test_rows": len(test),
        "labels": len(classifier.labels),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro")), 4),
        "expected_calibration_error": round(expected_calibration_error(confidence, correct), 4),
        "mean_confidence": round(float(confidence.mean()), 4),
        "fit_s": round(fit_s, 2),
        "text_features": classifier.text_features.size,
        "batch_predict_ms_per_ticket": round(batch_s * 1000 / len(test), 3),
        "predict_ms_p50": round(float(np.percentile(latencies, 50)), 3),
        "predict_ms_p95": round(float(np.percentile(latencies, 95)), 3),
        "embed_query_ms_p50": round(float(np.percentile(embed_latencies, 50)), 2),
        "embed_train_s": None if np.isnan(train_embed_s) else round(train_embed_s, 1),
        "embed_test_s": None if np.isnan(test_embed_s) else round(test_embed_s, 1),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}",
        "python": sys.version.split()[0],
    }
    save_results("classification", summary)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
