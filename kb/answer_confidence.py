"""Answer confidence: the probability that the top answer to a query is correct, from cheap retrieval signals.

A best cosine alone cannot tell "answered" from "looks similar but is not there": a same-domain question
the knowledge base does not answer scores as high as a paraphrase of one it does. What separates them is
the shape of the evidence around the top answer, so the model reads, per query:

- `best_cosine`: the best cosine of the top answer unit (an FAQ over its phrasings, or a document over its
  chunks);
- `margin`: that minus the best cosine of the next *different* unit (not another chunk or phrasing of the
  same one): a question really answered tends to have one clear winner;
- `phrasing_spread`: best cosine minus the mean of the unit's best three rows (0 for a one-row unit): an FAQ
  asked many ways agrees with itself on a real paraphrase;
- `top_share`: the share of the ten best rows that belong to the top unit;
- `neighbour_share`: the top unit's share of a softmax over the candidate rows' cosines (temperature
  `NEIGHBOUR_TEMPERATURE`): a nearest-neighbour classifier's confidence, which sees every close runner-up,
  not only the first;
- `lexical_overlap` / `lexical_margin`: the share of the query's index terms (stemmed, stop words dropped, as
  BM25 sees them) found in the top unit's text, and how much more than in the best other unit: the keyword
  view agreeing with the dense one;
- `identifier_miss`: 1 when the query names an identifier (error code, version) the top unit lacks;
- `query_terms`: log(1 + number of index terms): short, vague queries match everything a little.

Every feature is O(top-k): it reads only the candidates the retriever already has. `AnswerModel` maps them
to a probability (a standardised logistic regression, fitted per knowledge base by `kb.calibration`) and
holds the operating threshold; the conservative fallback is a plain cosine threshold.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np

from kb.keyword_index import identifiers, tokenize

FEATURE_NAMES: tuple[str, ...] = (
    "best_cosine",
    "margin",
    "phrasing_spread",
    "top_share",
    "neighbour_share",
    "lexical_overlap",
    "lexical_margin",
    "identifier_miss",
    "query_terms",
)
CANDIDATE_ROWS = 20  # best rows by cosine the features read, in retrieval and in calibration alike
TOP_ROWS = 10  # rows `top_share` looks at
SPREAD_ROWS = 3  # rows of the top unit `phrasing_spread` averages
LEXICAL_UNITS = 5  # units `lexical_margin` compares the top unit with
NEIGHBOUR_TEMPERATURE = 0.05  # cosine units: a runner-up 0.05 below the best weighs 1/e of it

ModelKind = Literal["logistic", "fallback"]


@dataclass(frozen=True)
class UnitEvidence:
    """One answer unit (an FAQ, a document) as the candidates show it: its rows' cosines and index terms.

    The terms are given (calibration has them) or read from `texts` when first asked for: the features
    look at the top unit and a few runners-up only, so most candidates' texts are never tokenised.
    """

    unit_id: str
    cosines: tuple[float, ...]  # of its candidate rows, best first
    given_terms: frozenset[str] = frozenset()
    texts: tuple[str, ...] = ()  # its rows' texts, tokenised lazily into `terms`

    @property
    def best(self) -> float:
        """The unit's best cosine (max over its rows)."""
        return self.cosines[0] if self.cosines else -1.0

    @cached_property
    def terms(self) -> frozenset[str]:
        """Index terms of the text of its candidate rows."""
        return self.given_terms.union(*(tokenize(text) for text in self.texts))


@dataclass(frozen=True)
class QueryTerms:
    """A query as the lexical features read it."""

    terms: frozenset[str]
    identifiers: frozenset[str]

    @classmethod
    def of(cls, query: str) -> QueryTerms:
        """Index terms and identifiers of a query."""
        return cls(frozenset(tokenize(query)), frozenset(identifiers(query)))


def unit_evidence(rows: Iterable[tuple[str, float, str | frozenset[str]]]) -> list[UnitEvidence]:
    """Group candidate rows `(unit_id, cosine, text or terms)` into units, best unit first."""
    cosines: dict[str, list[float]] = {}
    terms: dict[str, set[str]] = {}
    texts: dict[str, list[str]] = {}
    for unit_id, cosine, text in rows:
        cosines.setdefault(unit_id, []).append(float(cosine))
        if isinstance(text, frozenset):
            terms.setdefault(unit_id, set()).update(text)
        else:
            texts.setdefault(unit_id, []).append(text)
    units = [
        UnitEvidence(
            unit_id,
            tuple(sorted(values, reverse=True)),
            frozenset(terms.get(unit_id, ())),
            tuple(texts.get(unit_id, ())),
        )
        for unit_id, values in cosines.items()
    ]
    return sorted(units, key=lambda unit: -unit.best)


def answer_features(query: QueryTerms, units: Sequence[UnitEvidence], top_unit: str | None = None) -> dict[str, float]:
    """The features of the answer `top_unit` (default: the best unit) among the candidate units."""
    if not units:
        return dict.fromkeys(FEATURE_NAMES, 0.0) | {"best_cosine": -1.0, "query_terms": _log_terms(query)}
    top = next((unit for unit in units if unit.unit_id == top_unit), units[0]) if top_unit else units[0]
    others = [unit for unit in units if unit.unit_id != top.unit_id]
    runner_up = max((unit.best for unit in others), default=0.0)
    rows = sorted(((c, unit.unit_id) for unit in units for c in unit.cosines), reverse=True)
    top_rows = rows[:TOP_ROWS]
    overlap = _overlap(query, top)
    other_overlap = max((_overlap(query, unit) for unit in others[:LEXICAL_UNITS]), default=0.0)
    return {
        "best_cosine": top.best,
        "margin": top.best - runner_up,
        "phrasing_spread": top.best - float(np.mean(top.cosines[:SPREAD_ROWS])),
        "top_share": sum(unit_id == top.unit_id for _, unit_id in top_rows) / max(len(top_rows), 1),
        "neighbour_share": _neighbour_share(rows, top.unit_id),
        "lexical_overlap": overlap,
        "lexical_margin": overlap - other_overlap,
        "identifier_miss": float(bool(query.identifiers - top.terms)),
        "query_terms": _log_terms(query),
    }


def _neighbour_share(rows: Sequence[tuple[float, str]], unit_id: str) -> float:
    """The unit's share of exp((cosine - best) / T) over the candidate rows (best first)."""
    best = rows[0][0]
    weights = [(math.exp((cosine - best) / NEIGHBOUR_TEMPERATURE), row_unit) for cosine, row_unit in rows]
    return sum(w for w, row_unit in weights if row_unit == unit_id) / sum(w for w, _ in weights)


def _overlap(query: QueryTerms, unit: UnitEvidence) -> float:
    return len(query.terms & unit.terms) / len(query.terms) if query.terms else 0.0


def _log_terms(query: QueryTerms) -> float:
    return math.log1p(len(query.terms))


def feature_vector(features: Mapping[str, float]) -> np.ndarray:
    """The features in `FEATURE_NAMES` order."""
    return np.array([float(features[name]) for name in FEATURE_NAMES], dtype=np.float64)


@dataclass(frozen=True)
class AnswerModel:
    """Probability that the top answer is correct, and the threshold at which it is safe to answer.

    `logistic`: sigmoid(intercept + coef · (x - mean) / scale) over `FEATURE_NAMES`.
    `fallback`: the best cosine itself stands in for the probability, with a conservative threshold; used
    until a knowledge base is big enough to calibrate on.
    """

    kind: ModelKind
    threshold: float
    mean: tuple[float, ...] = ()
    scale: tuple[float, ...] = ()
    coef: tuple[float, ...] = ()
    intercept: float = 0.0
    fitted_on: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fallback(cls, threshold: float, reason: str) -> AnswerModel:
        """The conservative cosine threshold, saying why no model was fitted."""
        return cls(kind="fallback", threshold=threshold, fitted_on={"reason": reason})

    def probability(self, features: Mapping[str, float]) -> float:
        """P(top answer correct) for one query's features, in [0, 1]."""
        if self.kind == "fallback":
            return min(1.0, max(0.0, float(features["best_cosine"])))
        return float(self.probabilities(feature_vector(features)[None, :])[0])

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        """P(correct) for rows of features in `FEATURE_NAMES` order."""
        if self.kind == "fallback":
            return np.clip(matrix[:, 0], 0.0, 1.0)
        z = self.intercept + ((matrix - np.array(self.mean)) / np.array(self.scale)) @ np.array(self.coef)
        return 1.0 / (1.0 + np.exp(-z))

    def confident(self, features: Mapping[str, float]) -> bool:
        """Whether the answer is safe to send automatically."""
        return round(self.probability(features), 6) >= self.threshold

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (stored in Postgres, printed by `doxa kb calibrate --json`)."""
        return {
            "kind": self.kind,
            "threshold": self.threshold,
            "features": list(FEATURE_NAMES),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "fitted_on": self.fitted_on,
        }

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> AnswerModel:
        """The model `as_dict` wrote; refuses one written for another feature set."""
        kind = stored["kind"]
        if kind not in ("logistic", "fallback"):
            raise ValueError(f"unknown answer model kind {kind!r}")
        if kind == "logistic" and tuple(stored.get("features", ())) != FEATURE_NAMES:
            raise ValueError("the stored answer model was fitted on another feature set")
        return cls(
            kind=kind,
            threshold=float(stored["threshold"]),
            mean=tuple(float(v) for v in stored.get("mean", ())),
            scale=tuple(float(v) for v in stored.get("scale", ())),
            coef=tuple(float(v) for v in stored.get("coef", ())),
            intercept=float(stored.get("intercept", 0.0)),
            fitted_on=dict(stored.get("fitted_on", {})),
        )
