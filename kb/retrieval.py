"""Hybrid knowledge-base retrieval: dense cosine plus BM25, fused, with thresholds on the cosine.

Two scores are reported per passage and they mean different things:

- `similarity_score`: the cosine similarity between the query and the passage as embedded (section
  path + text), from all-MiniLM-L6-v2 by default; in [-1, 1], in practice 0-1. `score_threshold`
  drops passages below it, and `kb_confident` compares the best one to `kb_confidence_threshold`.
- `fused_score`: cosine plus bounded keyword bonuses (`kb.fusion`); it orders passages and is not a
  similarity, so no threshold applies to it.

Both are rounded to 6 decimals before thresholds apply, so a threshold equal to a shown score keeps it.

`kb_confident` ("safe to answer automatically") comes from the answer-confidence model
(`kb.answer_confidence`): `answer_probability` is the probability that the top answer is correct, from
the best cosine, the margin to the next different document and the other O(top-k) signals of the
candidates in hand; the retriever's `answer_model` source supplies the model fitted on this knowledge base
(`kb.calibration_store`). Without one, a fallback model makes `kb_confident` the plain "best cosine >=
`kb_confidence_threshold`".
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

# pydantic (GET /kb/search's response schema) reads TypedDicts only from typing_extensions on Python 3.11.
from typing_extensions import TypedDict

from core.embeddings import Embedder, Vectors
from core.services import Services
from kb.answer_confidence import CANDIDATE_ROWS, AnswerModel, QueryTerms, answer_features, unit_evidence
from kb.fusion import CandidateSignals, FusedCandidate, FusionWeights, fuse
from kb.keyword_index import CachedKeywordIndex, KeywordMatch
from kb.passages import Passage, PassageSource, PostgresPassages
from kb.vector_store.base import SearchFilter, VectorStore
from kb.vector_store.factory import open_vector_store

log = logging.getLogger(__name__)

SCORE_DECIMALS = 6


class PassageMetadata(TypedDict):
    """Where a passage comes from, and its rank in the answer."""

    doc_id: str
    section: str
    source: str  # the public address, else the title: never a server path (customers and API clients see it)
    url: str | None
    rank: int
    title: str
    page: int | None
    chunk_id: str
    section_id: str | None
    category: str | None


class RetrievalSignals(TypedDict):
    """The raw signals behind a passage's rank."""

    cosine: float
    title_bm25: float
    body_bm25: float
    identifier_coverage: float
    keyword_coverage: float
    keyword_bonus: float
    dense_rank: int | None
    keyword_rank: int | None


class RetrievedPassage(TypedDict):
    """One result of `retrieve_kb_context`."""

    chunk_text: str
    similarity_score: float
    fused_score: float
    metadata: PassageMetadata
    signals: RetrievalSignals
    ranking_explanation: str


class AnswerModelSource(Protocol):
    """Where the retriever gets the answer-confidence model fitted on its knowledge base."""

    def current(self) -> AnswerModel | None:
        """The last fitted model (None: not fitted yet); never blocks on a refit."""
        ...


class RetrievalMetadata(TypedDict):
    """Summary of one retrieval: similarity statistics of the results and the two decisions."""

    answer_probability: float
    answer_threshold: float
    answer_model: str
    answer_model_spec: dict[str, Any]
    answer_features: dict[str, float]
    mean_similarity: float
    max_similarity: float
    min_similarity: float
    chunk_count: int
    kb_confident: bool
    kb_limit_reached: bool
    confidence_score: float
    kb_confidence_threshold: float
    score_threshold: float
    attempt_number: int
    keyword_index_revision: int | None


class KbContext(TypedDict):
    """What `retrieve_kb_context` returns."""

    results: list[RetrievedPassage]
    metadata: RetrievalMetadata


class HybridRetriever:
    """Retrieves KB passages for a query: dense top-N and BM25 top-N, fused, filtered, explained.

    Dependencies come in through the constructor so the ticket graph can inject them through its
    runtime context (or `from_services` wires the configured ones).

    Example:
        >>> retriever = HybridRetriever.from_services(services)
        >>> context = retriever.retrieve("Tor Browser won't connect", keywords=["proxy"], category=None)
        >>> context["metadata"]["kb_confident"]
    """

    def __init__(
        self,
        embedder: Embedder,
        vector_store: VectorStore,
        keyword_index: CachedKeywordIndex,
        passages: PassageSource,
        *,
        weights: FusionWeights | None = None,
        dense_candidates: int = 50,
        keyword_candidates: int = 50,
        answer_model: AnswerModelSource | None = None,
    ) -> None:
        if dense_candidates <= 0 or keyword_candidates < 0:
            raise ValueError("dense_candidates must be > 0 and keyword_candidates >= 0")
        self.embedder = embedder
        self.vector_store = vector_store
        self.keyword_index = keyword_index
        self.passages = passages
        self.weights = weights or FusionWeights()
        self.dense_candidates = dense_candidates
        self.keyword_candidates = keyword_candidates
        self.answer_model = answer_model

    @classmethod
    def from_services(
        cls,
        services: Services,
        collection: str | None = None,
        *,
        weights: FusionWeights | None = None,
        revision_check_s: float = 1.0,
        embedder: Embedder | None = None,
        answer_model: AnswerModelSource | None = None,
    ) -> HybridRetriever:
        """The retriever over the configured vector store and the kb_chunk table (and another embedder if given).

        Its answer model is the one fitted on this knowledge base (`kb.calibration_store`), unless given.
        """
        passages = PostgresPassages(services.db, services.settings.embedding_model)
        if answer_model is None:
            from kb.calibration_store import shared_refresher

            answer_model = shared_refresher(services)
        return cls(
            embedder or services.embedder,
            open_vector_store(services, collection),
            CachedKeywordIndex(passages, revision_check_s=revision_check_s),
            passages,
            weights=weights,
            answer_model=answer_model,
        )

    def retrieve(
        self,
        query: str,
        keywords: Sequence[str] | str | None = None,
        category: str | None = None,
        top_k: int = 5,
        score_threshold: float = 0.40,
        kb_confidence_threshold: float = 0.70,
        attempt_number: int = 1,
        max_retrieval_attempts: int = 3,
        *,
        query_vector: Vectors | None = None,
    ) -> KbContext:
        """The `top_k` passages whose cosine is >= `score_threshold`, best fused score first.

        `keywords` (a list, or one comma-separated string) are added to the keyword query, so
        passages matching them rank higher. `category` restricts both sides. `query_vector` skips
        the query embedding (benchmarks, repeated calls).
        """
        if top_k <= 0:
            raise ValueError(f"top_k must be positive, got {top_k}")
        extra_terms = _keyword_list(keywords)
        ranked, revision = self.rank(query, extra_terms, category, query_vector=query_vector)
        # A few spares, in case a vector outlived its kb_chunk row (an ingest in progress, a failed write).
        kept = [c for c in ranked if _shown(c.signals.cosine) >= score_threshold][: top_k + 5]
        # The confidence model reads the best rows by cosine too: fetched in the same round trip.
        evidence_rows = sorted(ranked, key=lambda c: -c.signals.cosine)[:CANDIDATE_ROWS]
        found = self.passages.passages(list(dict.fromkeys(c.chunk_id for c in [*kept, *evidence_rows])))
        kept = [c for c in kept if c.chunk_id in found][:top_k]
        results = [_result(candidate, found[candidate.chunk_id], rank) for rank, candidate in enumerate(kept, start=1)]
        similarities = [r["similarity_score"] for r in results]
        best = max(similarities, default=0.0)
        model = self._model(kb_confidence_threshold)
        features = answer_features(
            QueryTerms.of(query),
            unit_evidence(
                (found[c.chunk_id].document_id, c.signals.cosine, embedded_text(found[c.chunk_id]))
                for c in evidence_rows
                if c.chunk_id in found
            ),
            results[0]["metadata"]["doc_id"] if results else None,
        )
        # The fallback keeps the seed's meaning exactly: the best cosine among the returned passages.
        probability = 0.0 if not results else best if model.kind == "fallback" else model.probability(features)
        probability = round(min(1.0, max(0.0, probability)), SCORE_DECIMALS)
        metadata: RetrievalMetadata = {
            "answer_probability": probability,
            "answer_threshold": model.threshold,
            "answer_model": model.kind,
            "answer_model_spec": model.as_dict(),
            "answer_features": {name: round(value, SCORE_DECIMALS) for name, value in features.items()},
            "mean_similarity": round(float(np.mean(similarities)), SCORE_DECIMALS) if similarities else 0.0,
            "max_similarity": best,
            "min_similarity": min(similarities, default=0.0),
            "chunk_count": len(results),
            "kb_confident": bool(results) and probability >= model.threshold,
            "kb_limit_reached": attempt_number >= max_retrieval_attempts,
            "confidence_score": best,
            "kb_confidence_threshold": kb_confidence_threshold,
            "score_threshold": score_threshold,
            "attempt_number": attempt_number,
            "keyword_index_revision": revision,
        }
        return {"results": results, "metadata": metadata}

    retrieve_kb_context = retrieve

    def _model(self, kb_confidence_threshold: float) -> AnswerModel:
        """The fitted model, else the plain cosine threshold the caller asked for."""
        fitted = self.answer_model.current() if self.answer_model is not None else None
        return fitted or AnswerModel.fallback(kb_confidence_threshold, "no model fitted for this knowledge base")

    def rank(
        self,
        query: str,
        extra_terms: Sequence[str] = (),
        category: str | None = None,
        *,
        query_vector: Vectors | None = None,
    ) -> tuple[list[FusedCandidate], int | None]:
        """Every candidate from both sides, fused and ordered, and the keyword index's revision."""
        vector = self.embedder.embed_query(query) if query_vector is None else query_vector
        filters = SearchFilter(category=category) if category is not None else None
        dense_hits = self.vector_store.search(vector, self.dense_candidates, filters)
        if not self.weights.uses_keywords or self.keyword_candidates == 0:
            signals = [CandidateSignals(h.id, h.score, dense_rank=i) for i, h in enumerate(dense_hits, start=1)]
            return fuse(signals, self.weights), None

        index = self.keyword_index.current()
        keyword_hits = index.search(query, limit=self.keyword_candidates, category=category, extra_terms=extra_terms)
        keyword_rank = {m.chunk_id: i for i, m in enumerate(keyword_hits, start=1)}
        matches: dict[str, KeywordMatch] = {m.chunk_id: m for m in keyword_hits}
        cosines = {h.id: h.score for h in dense_hits}
        dense_only = [h.id for h in dense_hits if h.id not in matches]
        matches.update((m.chunk_id, m) for m in index.scores_for(query, dense_only, extra_terms))
        cosines.update(self._cosines(vector, [m.chunk_id for m in keyword_hits if m.chunk_id not in cosines]))
        dense_rank = {h.id: i for i, h in enumerate(dense_hits, start=1)}
        signals = [
            CandidateSignals(
                chunk_id,
                cosine,
                title_bm25=matches[chunk_id].title_score,
                body_bm25=matches[chunk_id].body_score,
                identifier_coverage=matches[chunk_id].identifier_coverage,
                keyword_coverage=matches[chunk_id].keyword_coverage,
                dense_rank=dense_rank.get(chunk_id),
                keyword_rank=keyword_rank.get(chunk_id),
            )
            for chunk_id, cosine in cosines.items()
        ]
        return fuse(signals, self.weights), index.revision

    def _cosines(self, query_vector: Vectors, chunk_ids: Sequence[str]) -> dict[str, float]:
        """Cosines of chunks only the keyword side found: stored vectors, else embedded now."""
        if not chunk_ids:
            return {}
        vectors = self.passages.stored_vectors(chunk_ids)
        missing = [chunk_id for chunk_id in chunk_ids if chunk_id not in vectors]
        if missing:
            found = self.passages.passages(missing)
            texts = [embedded_text(found[chunk_id]) for chunk_id in missing if chunk_id in found]
            log.debug("embedding %d keyword-only chunks without a stored vector", len(texts))
            fresh = self.embedder.encode(texts)
            vectors.update(zip([c for c in missing if c in found], fresh, strict=True))
        return {chunk_id: float(np.dot(query_vector, vector)) for chunk_id, vector in vectors.items()}


def retrieve_kb_context(
    retriever: HybridRetriever,
    query: str,
    keywords: Sequence[str] | str | None,
    category: str | None,
    top_k: int = 5,
    score_threshold: float = 0.40,
    kb_confidence_threshold: float = 0.70,
    attempt_number: int = 1,
    max_retrieval_attempts: int = 3,
) -> KbContext:
    """The seed's retrieval contract over an injected retriever (see `HybridRetriever.retrieve`)."""
    return retriever.retrieve(
        query,
        keywords,
        category,
        top_k,
        score_threshold,
        kb_confidence_threshold,
        attempt_number,
        max_retrieval_attempts,
    )


def embedded_text(passage: Passage) -> str:
    """The text ingestion embeds for a chunk (kb.chunking.Chunk.embedded_text)."""
    return f"{passage.section_path}\n\n{passage.text}"


def _shown(score: float) -> float:
    return round(float(score), SCORE_DECIMALS)


def _keyword_list(keywords: Sequence[str] | str | None) -> list[str]:
    if keywords is None:
        return []
    items = keywords.split(",") if isinstance(keywords, str) else list(keywords)
    return [item.strip() for item in items if item and item.strip()]


def _result(candidate: FusedCandidate, passage: Passage, rank: int) -> RetrievedPassage:
    s = candidate.signals
    explanation = (
        f"rank {rank}: fused {candidate.fused_score:.4f} = cosine {s.cosine:.4f}"
        f" + keyword bonus {candidate.keyword_bonus:.4f}"
        f" (title BM25 {s.title_bm25:.2f}, body BM25 {s.body_bm25:.2f},"
        f" identifiers matched {s.identifier_coverage:.0%}, keywords matched {s.keyword_coverage:.0%});"
        f" dense rank {s.dense_rank or '-'}, keyword rank {s.keyword_rank or '-'}"
    )
    return {
        "chunk_text": passage.text,
        "similarity_score": _shown(s.cosine),
        "fused_score": _shown(candidate.fused_score),
        "metadata": {
            "doc_id": passage.document_id,
            "section": passage.section_path,
            "source": passage.public_source,
            "url": passage.url,
            "rank": rank,
            "title": passage.title,
            "page": passage.page,
            "chunk_id": passage.chunk_id,
            "section_id": passage.section_id,
            "category": passage.category,
        },
        "signals": {
            "cosine": _shown(s.cosine),
            "title_bm25": _shown(s.title_bm25),
            "body_bm25": _shown(s.body_bm25),
            "identifier_coverage": _shown(s.identifier_coverage),
            "keyword_coverage": _shown(s.keyword_coverage),
            "keyword_bonus": _shown(candidate.keyword_bonus),
            "dense_rank": s.dense_rank,
            "keyword_rank": s.keyword_rank,
        },
        "ranking_explanation": explanation,
    }
