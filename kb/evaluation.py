"""Retrieval evaluation on labelled FAQ data: ranking quality, latency and confidence calibration.

Input files are JSON Lines: FAQs `{id, question, answer[, variants]}` and queries `{query, gold_faq_ids}`
(`in_scope` too for confidence). Each FAQ becomes one passage (section path = question, text =
answer), embedded as ingestion embeds chunks, plus one passage per variant phrasing (section path = the
variant, no text) pointing at the same FAQ, in a temporary collection of the configured vector store that
is dropped afterwards; the keyword index is built from the same passages in memory. A ranking lists each
FAQ once, at the rank of its best passage (max over its phrasings). Rows that give the same answer are one
FAQ asked many ways, as `doxa faq import` stores them, and a query's gold row counts as its FAQ.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from core.embeddings import Vectors
from core.errors import InvalidInputError
from core.jsonl import read_json_objects
from core.services import Services
from kb.fusion import FusionWeights
from kb.keyword_index import CachedKeywordIndex
from kb.passages import InMemoryPassages, Passage
from kb.retrieval import HybridRetriever, embedded_text
from kb.vector_store.base import VectorPoint
from kb.vector_store.factory import open_vector_store
from text.normalise import same_text_groups

Mode = Literal["bm25", "dense", "hybrid"]
MODES: tuple[Mode, ...] = ("bm25", "dense", "hybrid")
Progress = Callable[[int], None]
_EVAL_NAMESPACE = uuid.UUID("5b0a5e9c-4a43-4d0c-9a8e-2f8f6f0d7a11")
_EMBED_BATCH = 64


@dataclass(frozen=True)
class FaqItem:
    """One FAQ: the question is its title, the answer its text; variants are other ways it is asked.

    `aliases` are the ids of the file's rows folded into it (`fold_shared_answers`).
    """

    id: str
    question: str
    answer: str
    variants: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabelledQuery:
    """A query with the FAQ ids that answer it (none: out of scope)."""

    query: str
    gold_ids: tuple[str, ...]
    in_scope: bool = True


@dataclass(frozen=True)
class RetrievalReport:
    """Ranking quality and latency of one mode over a query set."""

    mode: str
    n_queries: int
    mrr_at_10: float
    recall_at_1: float
    recall_at_5: float
    latency_p50_ms: float
    latency_p95_ms: float

    def as_dict(self) -> dict[str, Any]:
        """The report as the JSON object `doxa eval retrieval --json` prints."""
        return asdict(self)


def _read_jsonl(path: Path, required: dict[str, type | tuple[type, ...]]) -> list[dict[str, Any]]:
    """Parse a JSON Lines file, checking each object has the required fields with the right types."""
    rows = []
    for number, row in read_json_objects(path):
        for name, kind in required.items():
            if not isinstance(row.get(name), kind):
                raise InvalidInputError(f"{path}:{number}: field {name!r} is missing or of the wrong type")
        rows.append(row)
    if not rows:
        raise InvalidInputError(f"{path}: no records")
    return rows


def load_faqs(path: Path) -> list[FaqItem]:
    """FAQs from a JSON Lines file of `{id, question, answer[, variants]}`; ids must be unique."""
    faqs = []
    for row in _read_jsonl(path, {"id": (str, int), "question": str, "answer": str}):
        variants = row.get("variants", [])
        if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
            raise InvalidInputError(f"{path}: FAQ {row['id']!r}: variants must be a list of strings")
        unique = tuple(dict.fromkeys(v.strip() for v in variants if v.strip() and v.strip() != row["question"]))
        faqs.append(FaqItem(str(row["id"]), row["question"], row["answer"], unique))
    seen: set[str] = set()
    for faq in faqs:
        if faq.id in seen:
            raise InvalidInputError(f"{path}: FAQ id {faq.id!r} appears twice")
        seen.add(faq.id)
    return fold_shared_answers(faqs)


def fold_shared_answers(faqs: Sequence[FaqItem]) -> list[FaqItem]:
    """Rows that give the same answer as one FAQ asked many ways, as `doxa faq import` stores them.

    An intent list exported one training phrase per row, each with the intent's response, is one FAQ per
    response: kept apart, every row's nearest rival is a twin with the same answer, so no answer looks
    safe. The first row keeps its id and question; the others' questions and variants become its
    variants and their ids its aliases (`resolve_gold`). Rows without an answer are left alone.
    """
    folded = []
    for group in same_text_groups([faq.answer for faq in faqs]):
        first, others = faqs[group[0]], [faqs[i] for i in group[1:]]
        if not others:
            folded.append(first)
            continue
        asked = [*first.variants, *(text for faq in others for text in (faq.question, *faq.variants))]
        variants = tuple(dict.fromkeys(text for text in asked if text != first.question))
        folded.append(FaqItem(first.id, first.question, first.answer, variants, tuple(faq.id for faq in others)))
    return folded


def resolve_gold(queries: Sequence[LabelledQuery], faqs: Sequence[FaqItem]) -> list[LabelledQuery]:
    """The queries with gold ids of rows folded into another FAQ replaced by that FAQ's id."""
    owner = {alias: faq.id for faq in faqs for alias in faq.aliases}
    if not owner:
        return list(queries)
    return [
        LabelledQuery(q.query, tuple(dict.fromkeys(owner.get(i, i) for i in q.gold_ids)), q.in_scope) for q in queries
    ]


def load_queries(path: Path) -> list[LabelledQuery]:
    """Queries from a JSON Lines file of `{query, gold_faq_ids[, in_scope]}`."""
    queries = []
    for row in _read_jsonl(path, {"query": str, "gold_faq_ids": list}):
        gold = tuple(str(faq_id) for faq_id in row["gold_faq_ids"])
        queries.append(LabelledQuery(row["query"], gold, bool(row.get("in_scope", bool(gold)))))
    return queries


def faq_passages(faqs: Sequence[FaqItem]) -> list[Passage]:
    """One passage per FAQ and one per variant, with stable uuid chunk ids derived from the FAQ id."""
    passages = []
    for faq in faqs:
        passages.append(
            Passage(
                chunk_id=str(uuid.uuid5(_EVAL_NAMESPACE, faq.id)),
                document_id=faq.id,
                title=faq.question,
                section_path=faq.question,
                text=faq.answer,
                source=f"faq:{faq.id}",
            )
        )
        passages.extend(
            Passage(
                chunk_id=str(uuid.uuid5(_EVAL_NAMESPACE, f"{faq.id}#variant{number}")),
                document_id=faq.id,
                title=faq.question,
                section_path=variant,
                text="",
                source=f"faq:{faq.id}",
            )
            for number, variant in enumerate(faq.variants, start=1)
        )
    return passages


@contextmanager
def faq_retriever(
    services: Services, faqs: Sequence[FaqItem], mode: Mode = "hybrid", progress: Progress | None = None
) -> Iterator[HybridRetriever]:
    """A retriever over the FAQs in a temporary vector-store collection, dropped on exit."""
    passages = faq_passages(faqs)
    store = open_vector_store(services, f"eval_{uuid.uuid4().hex[:12]}")
    try:
        vectors: dict[str, Vectors] = {}
        if progress is not None:
            progress = _per_faq(progress, passages)
        for start in range(0, len(passages), _EMBED_BATCH):
            batch = passages[start : start + _EMBED_BATCH]
            embedded = services.embedder.embed_documents([embedded_text(p) for p in batch])
            points = [
                VectorPoint(p.chunk_id, v, {"document_id": p.document_id, "source": p.source})
                for p, v in zip(batch, embedded, strict=True)
            ]
            store.upsert(points)
            vectors.update((point.id, point.vector) for point in points)
            if progress is not None:
                progress(len(batch))
        memory = InMemoryPassages(passages, vectors)
        weights = FusionWeights.dense_only() if mode == "dense" else FusionWeights()
        yield HybridRetriever(
            services.embedder, store, CachedKeywordIndex(memory, revision_check_s=3600), memory, weights=weights
        )
    finally:
        store.drop()


def _per_faq(progress: Progress, passages: Sequence[Passage]) -> Progress:
    """Progress counted in FAQs (what the CLI's bar expects) while passages are embedded in batches."""
    done: set[str] = set()
    position = 0

    def advance(count: int) -> None:
        nonlocal position
        batch = passages[position : position + count]
        position += count
        fresh = {p.document_id for p in batch} - done
        done.update(fresh)
        progress(len(fresh))

    return advance


def ranked_faq_ids(
    retriever: HybridRetriever, query: str, mode: Mode, depth: int = 10, *, query_vector: Vectors | None = None
) -> list[str]:
    """The FAQ ids a mode ranks first for a query, each once (bm25: the keyword index alone, no embedding)."""
    if mode == "bm25":
        matches = retriever.keyword_index.current().search(query, limit=depth * 4)
        found = retriever.passages.passages([m.chunk_id for m in matches])
        return list(dict.fromkeys(found[m.chunk_id].document_id for m in matches))[:depth]
    context = retriever.retrieve(query, top_k=depth * 4, score_threshold=-1.0, query_vector=query_vector)
    return list(dict.fromkeys(result["metadata"]["doc_id"] for result in context["results"]))[:depth]


def ranking_metrics(rankings: Sequence[Sequence[str]], queries: Sequence[LabelledQuery]) -> dict[str, float]:
    """MRR@10 and Recall@1/@5 (share of a query's gold FAQs in the top k, averaged over queries)."""
    reciprocal, recall_1, recall_5 = [], [], []
    for ranking, labelled in zip(rankings, queries, strict=True):
        gold = set(labelled.gold_ids)
        first = next((i for i, faq_id in enumerate(ranking[:10], start=1) if faq_id in gold), None)
        reciprocal.append(1.0 / first if first else 0.0)
        recall_1.append(len(gold & set(ranking[:1])) / len(gold))
        recall_5.append(len(gold & set(ranking[:5])) / len(gold))
    return {
        "mrr_at_10": round(float(np.mean(reciprocal)), 4),
        "recall_at_1": round(float(np.mean(recall_1)), 4),
        "recall_at_5": round(float(np.mean(recall_5)), 4),
    }


def run_queries(
    retriever: HybridRetriever, queries: Sequence[LabelledQuery], mode: Mode
) -> tuple[list[list[str]], list[float]]:
    """Each query's ranked FAQ ids and its latency in ms (the keyword index is built beforehand)."""
    retriever.keyword_index.current()
    if mode != "bm25":
        retriever.embedder.embed_query("warm-up")
    rankings, latencies = [], []
    for labelled in queries:
        started = time.perf_counter()
        rankings.append(ranked_faq_ids(retriever, labelled.query, mode))
        latencies.append((time.perf_counter() - started) * 1000)
    return rankings, latencies


def report(
    mode: Mode, rankings: Sequence[Sequence[str]], latencies: Sequence[float], queries: Sequence[LabelledQuery]
) -> RetrievalReport:
    """Metrics of a finished run."""
    return RetrievalReport(
        mode=mode,
        n_queries=len(queries),
        **ranking_metrics(rankings, queries),
        latency_p50_ms=round(float(np.percentile(latencies, 50)), 2),
        latency_p95_ms=round(float(np.percentile(latencies, 95)), 2),
    )


def evaluate_retrieval(
    services: Services,
    faqs: Sequence[FaqItem],
    queries: Sequence[LabelledQuery],
    mode: Mode = "hybrid",
    progress: Progress | None = None,
) -> RetrievalReport:
    """Index the FAQs, run every query that has gold FAQs, measure ranking quality and latency."""
    scored = [q for q in resolve_gold(queries, faqs) if q.gold_ids]
    if not scored:
        raise InvalidInputError("no query has gold_faq_ids to score against")
    with faq_retriever(services, faqs, mode, progress) as retriever:
        rankings, latencies = run_queries(retriever, scored, mode)
    return report(mode, rankings, latencies, scored)


@dataclass(frozen=True)
class ConfidencePoint:
    """What `kb_confident` achieves at one threshold on a labelled in/out-of-scope query set."""

    threshold: float
    precision: float  # of confident queries, the share whose top passage is a gold FAQ
    coverage: float  # of in-scope queries, the share confident with a gold FAQ on top
    out_of_scope_rejected: float  # of out-of-scope queries, the share not confident
    precision_top5: float  # as precision, counting a gold FAQ anywhere in the top 5 as correct
    coverage_top5: float


def evaluate_confidence(
    services: Services, faqs: Sequence[FaqItem], queries: Sequence[LabelledQuery], thresholds: Sequence[float]
) -> list[ConfidencePoint]:
    """Precision and coverage of `kb_confident` (best cosine >= threshold) at each threshold."""
    queries = resolve_gold(queries, faqs)
    best_cosine, top1_correct, top5_correct = [], [], []
    with faq_retriever(services, faqs, "hybrid") as retriever:
        for labelled in queries:
            results = retriever.retrieve(labelled.query, top_k=5, score_threshold=-1.0)["results"]
            ids = [r["metadata"]["doc_id"] for r in results]
            best_cosine.append(max((r["similarity_score"] for r in results), default=0.0))
            top1_correct.append(bool(ids) and ids[0] in labelled.gold_ids)
            top5_correct.append(any(faq_id in labelled.gold_ids for faq_id in ids))
    cosine = np.array(best_cosine)
    in_scope = np.array([q.in_scope for q in queries])
    points = []
    for threshold in thresholds:
        confident = cosine >= threshold
        n_confident = max(int(confident.sum()), 1)
        right_1 = confident & np.array(top1_correct) & in_scope
        right_5 = confident & np.array(top5_correct) & in_scope
        points.append(
            ConfidencePoint(
                threshold=threshold,
                precision=round(float(right_1.sum() / n_confident), 4),
                coverage=round(float(right_1.sum() / max(int(in_scope.sum()), 1)), 4),
                out_of_scope_rejected=round(float((~confident[~in_scope]).mean()), 4) if (~in_scope).any() else 1.0,
                precision_top5=round(float(right_5.sum() / n_confident), 4),
                coverage_top5=round(float(right_5.sum() / max(int(in_scope.sum()), 1)), 4),
            )
        )
    return points
