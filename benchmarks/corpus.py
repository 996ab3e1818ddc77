"""A synthetic but realistic KB corpus for latency benchmarks, built from the shared public data.

Chunks are 3-6 consecutive-looking sentences drawn from real help-centre and FAQ text (Tor support
articles, StackFAQ answers, Banking77 messages), titled like help articles, in 8 categories. Their
vectors are computed once with the configured model and cached under benchmarks/out/.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
OUT = Path(__file__).resolve().parent / "out"
CATEGORIES = ("browser", "relays", "censorship", "onion", "accounts", "email", "billing", "mobile")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def save_results(name: str, results: dict[str, Any]) -> Path:
    """Write a benchmark's figures to benchmarks/out/<name>.json: the latest run's, to copy into BENCHMARKS.md."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


@dataclass(frozen=True)
class SyntheticChunk:
    """One benchmark chunk."""

    chunk_id: str
    document_id: str
    title: str
    section_path: str
    text: str
    category: str

    @property
    def embedded_text(self) -> str:
        """What ingestion would embed (kb.chunking.Chunk.embedded_text)."""
        return f"{self.section_path}\n\n{self.text}"


def _sources() -> tuple[list[str], list[str]]:
    titles, sentences = [], []
    for line in (DATA / "tor_support_kb" / "kb.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        titles.append(row["title"])
        sentences += [s.strip() for s in _SENTENCE.split(row["body_markdown"]) if len(s.strip()) > 20]
    for line in (DATA / "stackfaq" / "faq_answers.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        titles.append(row["question"])
        sentences += [s.strip() for s in _SENTENCE.split(row["answer"]) if len(s.strip()) > 20]
    for line in (DATA / "banking77" / "tickets.jsonl").open(encoding="utf-8"):
        sentences.append(json.loads(line)["body"])
    return titles, sentences


def synthesise_chunks(count: int, seed: int = 7) -> list[SyntheticChunk]:
    """`count` chunks, 10 per document, deterministic for a seed."""
    titles, sentences = _sources()
    rng = random.Random(seed)
    chunks = []
    for i in range(count):
        doc = i // 10
        title = titles[doc % len(titles)]
        start = rng.randrange(len(sentences))
        text = " ".join(sentences[(start + k * rng.randint(1, 50)) % len(sentences)] for k in range(rng.randint(3, 6)))
        chunks.append(
            SyntheticChunk(
                chunk_id=str(_uuid(f"bench-{seed}-{i}")),
                document_id=f"bench_{doc:06d}",
                title=title,
                section_path=f"{title} > Part {i % 10 + 1}",
                text=text[:700],
                category=CATEGORIES[doc % len(CATEGORIES)],
            )
        )
    return chunks


def _uuid(name: str) -> str:
    digest = hashlib.md5(name.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def chunk_vectors(chunks: list[SyntheticChunk], embedder: object, seed: int = 7, embedded: int = 1_000) -> np.ndarray:
    """Vectors for the chunks, cached in benchmarks/out/.

    The first `embedded` chunks are really embedded (a few minutes on 2 busy cores); the others reuse
    one of those vectors plus small noise, renormalised. Search latency depends on the number and
    spread of vectors, not on whether each matches its text, and this keeps set-up to minutes.
    """
    OUT.mkdir(parents=True, exist_ok=True)
    real = _embedded_vectors(chunks[:embedded], embedder, seed)
    if len(chunks) <= len(real):
        return real[: len(chunks)]
    rng = np.random.default_rng(seed)
    base = real[rng.integers(0, len(real), len(chunks) - len(real))]
    noisy = base + rng.normal(0, 0.02, base.shape).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    return np.concatenate([real, noisy]).astype(np.float32)


def _embedded_vectors(chunks: list[SyntheticChunk], embedder: object, seed: int) -> np.ndarray:
    path = OUT / f"vectors_{len(chunks)}_{seed}.npy"
    if path.exists():
        return np.load(path)
    started = time.perf_counter()
    texts = [c.embedded_text for c in chunks]
    parts = []
    for start in range(0, len(texts), 250):
        parts.append(embedder.encode(texts[start : start + 250]))  # type: ignore[attr-defined]
        done = min(start + 250, len(texts))
        rate = done / (time.perf_counter() - started)
        print(f"embedded {done}/{len(texts)} ({rate:.0f}/s)", file=sys.stderr, flush=True)
    vectors = np.concatenate(parts).astype(np.float32)
    np.save(path, vectors)
    return vectors


if __name__ == "__main__":
    from core.embeddings import Embedder
    from core.settings import Settings

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    chunks = synthesise_chunks(n)
    print(chunks[0], file=sys.stderr)
    chunk_vectors(chunks, Embedder.from_settings(Settings(mistral_api_key=None)))
