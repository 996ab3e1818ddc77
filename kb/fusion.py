"""How the dense and keyword signals of a candidate chunk are combined into one ranking score.

The fused score is the cosine similarity plus bounded keyword bonuses:

    fused = cosine
          + title_weight      * s(bm25_title)
          + body_weight       * s(bm25_body)
          + identifier_weight * identifier_coverage
          + keyword_list_weight * keyword_coverage,       s(x) = x / (x + saturation)

`s` maps an unbounded BM25 score into [0, 1), so no keyword match can add more than its weight, and
the cosine stays the main signal. `identifier_coverage` is the share of the query's identifiers
(error codes, versions, snake_case names) found verbatim in the chunk: an exact code match outranks
a merely similar passage. `keyword_coverage` is the share of the caller's keyword list (the
ticket's extracted keywords) the chunk contains in full. The fused score only orders candidates; it
is not a similarity, and thresholds apply to the cosine (see `kb.retrieval`).

Equal-weight reciprocal-rank fusion (RRF) loses to dense retrieval on StackFAQ (MRR@10 0.834 vs 0.960)
because it gives BM25's many wrong top ranks as much say as the far better dense ranks; the weights
below were tuned on half of StackFAQ's queries and checked on the other half (BENCHMARKS.md).
`reciprocal_rank_fusion` is kept as the baseline it is compared with.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FusionWeights:
    """Weights of the keyword bonuses added to the cosine similarity (all zero: dense only)."""

    title_weight: float = 0.40  # BM25 on the section path ("Doc > Section"); tuned on StackFAQ
    body_weight: float = 0.05  # BM25 on the chunk text; tuned on StackFAQ
    identifier_weight: float = 0.20  # exact identifiers (codes, versions); set by design, not tuned
    keyword_list_weight: float = 0.10  # the caller's keywords found in full; set by design, not tuned
    saturation: float = 24.0  # BM25 score that earns half of a field's weight; tuned on StackFAQ

    def __post_init__(self) -> None:
        for name in ("title_weight", "body_weight", "identifier_weight", "keyword_list_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.saturation <= 0:
            raise ValueError("saturation must be > 0")

    @classmethod
    def dense_only(cls) -> FusionWeights:
        """No keyword bonus: rank by cosine similarity alone."""
        return cls(title_weight=0.0, body_weight=0.0, identifier_weight=0.0, keyword_list_weight=0.0)

    @property
    def uses_keywords(self) -> bool:
        """Whether any keyword signal counts."""
        return any(
            weight > 0
            for weight in (self.title_weight, self.body_weight, self.identifier_weight, self.keyword_list_weight)
        )


@dataclass(frozen=True)
class CandidateSignals:
    """Everything known about one candidate chunk before fusion."""

    chunk_id: str
    cosine: float
    title_bm25: float = 0.0
    body_bm25: float = 0.0
    identifier_coverage: float = 0.0
    keyword_coverage: float = 0.0
    dense_rank: int | None = None  # 1-based rank in the dense list, None when only BM25 found it
    keyword_rank: int | None = None  # 1-based rank in the keyword list, None when only dense found it


@dataclass(frozen=True)
class FusedCandidate:
    """A candidate with its fused score and the share of it that keywords contributed."""

    signals: CandidateSignals
    fused_score: float
    keyword_bonus: float

    @property
    def chunk_id(self) -> str:
        """The candidate's chunk id."""
        return self.signals.chunk_id


def saturate(score: float, saturation: float) -> float:
    """Map a BM25 score >= 0 into [0, 1): `score / (score + saturation)`."""
    if score <= 0:
        return 0.0
    return score / (score + saturation)


def keyword_bonus(signals: CandidateSignals, weights: FusionWeights) -> float:
    """What the keyword signals add to the cosine."""
    return (
        weights.title_weight * saturate(signals.title_bm25, weights.saturation)
        + weights.body_weight * saturate(signals.body_bm25, weights.saturation)
        + weights.identifier_weight * signals.identifier_coverage
        + weights.keyword_list_weight * signals.keyword_coverage
    )


def fuse(candidates: Iterable[CandidateSignals], weights: FusionWeights) -> list[FusedCandidate]:
    """Candidates ordered by fused score, best first (ties: higher cosine, then chunk id)."""
    fused = []
    for signals in candidates:
        bonus = keyword_bonus(signals, weights)
        fused.append(FusedCandidate(signals, signals.cosine + bonus, bonus))
    fused.sort(key=lambda c: (-c.fused_score, -c.signals.cosine, c.chunk_id))
    return fused


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], *, k: int = 60, weights: Sequence[float] | None = None
) -> list[tuple[str, float]]:
    """Classic RRF: `sum(weight / (k + rank))` over the lists an id appears in, best first."""
    if weights is not None and len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    totals: dict[str, float] = {}
    for position, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[position]
        for rank, item in enumerate(ranking, start=1):
            totals[item] = totals.get(item, 0.0) + weight / (k + rank)
    return sorted(totals.items(), key=lambda pair: (-pair[1], pair[0]))
