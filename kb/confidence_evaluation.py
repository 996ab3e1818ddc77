"""`doxa eval confidence`: how well `kb_confident` separates answered from unanswerable queries.

By default the answer model is calibrated on the FAQs given, exactly as the service calibrates on its
knowledge base (`kb.faq_calibration`): the queries' labels are only used to score the result, never to fit
or choose anything. Correct = in scope with a gold FAQ on top; precision counts an out-of-scope query marked
confident as wrong; full accuracy = (in-scope confident and correct + out-of-scope not confident) / all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from core.services import Services
from kb.answer_confidence import AnswerModel
from kb.calibration import Calibration
from kb.evaluation import FaqItem, LabelledQuery, faq_retriever, resolve_gold
from kb.faq_calibration import calibrate_faqs

Signal = Literal["probability", "cosine"]
_EMBED_BATCH = 256


@dataclass(frozen=True)
class ConfidenceOutcome:
    """What `kb_confident` achieves at one threshold on a labelled in/out-of-scope query set."""

    threshold: float
    precision: float  # of confident queries, the share in scope with a gold FAQ on top
    coverage: float  # of in-scope queries, the share confident with a gold FAQ on top
    out_of_scope_rejected: float  # of out-of-scope queries, the share not confident
    full_accuracy: float  # (in scope, confident and correct + out of scope, not confident) / all
    precision_top5: float  # as precision, counting a gold FAQ anywhere in the top 5 as correct
    coverage_top5: float


@dataclass(frozen=True)
class ConfidenceReport:
    """The operating point the calibration chose, the curve at the requested thresholds, and the model."""

    signal: Signal
    operating_point: ConfidenceOutcome
    curve: list[ConfidenceOutcome]
    calibration: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The one JSON object `doxa eval confidence --json` prints."""
        return {
            "signal": self.signal,
            "operating_point": asdict(self.operating_point),
            "curve": [asdict(point) for point in self.curve],
            "calibration": self.calibration,
        }


@dataclass(frozen=True)
class ScoredQueries:
    """Per query: the signal, whether the top FAQ is gold, whether a gold FAQ is in the top 5."""

    scores: np.ndarray
    top1: np.ndarray
    top5: np.ndarray
    in_scope: np.ndarray


def outcome(scored: ScoredQueries, threshold: float) -> ConfidenceOutcome:
    """The figures at one threshold."""
    confident = np.round(scored.scores, 6) >= threshold
    in_scope, out = scored.in_scope, ~scored.in_scope
    right_1 = confident & scored.top1 & in_scope
    right_5 = confident & scored.top5 & in_scope
    n_confident = max(int(confident.sum()), 1)
    n_in = max(int(in_scope.sum()), 1)
    return ConfidenceOutcome(
        threshold=round(float(threshold), 4),
        precision=round(float(right_1.sum() / n_confident), 4) if confident.any() else 1.0,
        coverage=round(float(right_1.sum() / n_in), 4),
        out_of_scope_rejected=round(float((~confident[out]).mean()), 4) if out.any() else 1.0,
        full_accuracy=round(float((right_1.sum() + (~confident & out).sum()) / max(len(confident), 1)), 4),
        precision_top5=round(float(right_5.sum() / n_confident), 4) if confident.any() else 1.0,
        coverage_top5=round(float(right_5.sum() / n_in), 4),
    )


def evaluate_confidence(
    services: Services,
    faqs: Sequence[FaqItem],
    queries: Sequence[LabelledQuery],
    thresholds: Sequence[float],
    *,
    signal: Signal = "probability",
) -> ConfidenceReport:
    """Calibrate on the FAQs (unless `signal` is the plain cosine), run the queries, score the decisions."""
    settings = services.settings
    queries = resolve_gold(queries, faqs)
    if signal == "probability":
        calibration = calibrate_faqs(services.embedder, faqs, settings)
    else:
        fallback = AnswerModel.fallback(settings.kb_confidence_threshold, "plain cosine threshold requested")
        calibration = Calibration(fallback)
    model = calibration.model
    vectors = services.embedder.embed_documents([q.query for q in queries])
    scores, top1, top5 = [], [], []
    with faq_retriever(services, faqs, "hybrid") as retriever:
        retriever.answer_model = _Fixed(model)
        for labelled, vector in zip(queries, vectors, strict=True):
            context = retriever.retrieve(labelled.query, top_k=20, score_threshold=-1.0, query_vector=vector)
            ids = list(dict.fromkeys(r["metadata"]["doc_id"] for r in context["results"]))[:5]
            scores.append(context["metadata"]["answer_probability"])
            top1.append(bool(ids) and ids[0] in labelled.gold_ids)
            top5.append(any(faq_id in labelled.gold_ids for faq_id in ids))
    scored = ScoredQueries(np.array(scores), np.array(top1), np.array(top5), np.array([q.in_scope for q in queries]))
    return ConfidenceReport(
        signal=signal,
        operating_point=outcome(scored, model.threshold),
        curve=[outcome(scored, threshold) for threshold in thresholds],
        calibration=calibration.as_dict(),
    )


@dataclass(frozen=True)
class _Fixed:
    """An answer-model source that always returns one model."""

    model: AnswerModel

    def current(self) -> AnswerModel:
        return self.model
