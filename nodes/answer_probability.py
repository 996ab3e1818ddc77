"""The answer probability of the answer the solution finder settled on, when it is not the retriever's top passage.

The retriever scores its own top passage (`answer_probability` in its metadata, from the best candidate rows).
When the answer becomes a production FAQ, or the customer already saw the top passage, the same model (its
parameters travel in the metadata) scores the new top answer over the passages and FAQs in hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kb.answer_confidence import AnswerModel, QueryTerms, answer_features, unit_evidence
from nodes.context import FaqMatch


def retrieval_model(metadata: Mapping[str, Any], fallback_threshold: float) -> AnswerModel:
    """The answer model the retriever used (its parameters are in the metadata), else the cosine fallback."""
    spec = metadata.get("answer_model_spec")
    if isinstance(spec, Mapping):
        return AnswerModel.from_dict(spec)
    return AnswerModel.fallback(fallback_threshold, "the retriever reported no answer model")


def answer_probability(
    model: AnswerModel,
    query: str,
    results: Sequence[Mapping[str, Any]],
    faqs: Sequence[FaqMatch],
    top_unit: str,
) -> float:
    """P(correct) of `top_unit` ("doc:<id>" or "faq:<id>") among these passages and FAQs."""
    rows: list[tuple[str, float, str | frozenset[str]]] = []
    for result in results:
        meta = result.get("metadata", {})
        unit = f"faq:{meta['faq_id']}" if meta.get("kind") == "faq" else f"doc:{meta.get('doc_id', '')}"
        rows.append((unit, float(result["similarity_score"]), f"{meta.get('section', '')} {result['chunk_text']}"))
    for faq in faqs:  # the rows calibration probes: question + answer, then each other phrasing
        rows.append((f"faq:{faq.id}", faq.question_similarity, f"{faq.question} {faq.answer}"))
        rows.extend((f"faq:{faq.id}", match.similarity, match.phrasing) for match in faq.phrasing_matches)
    units = unit_evidence(rows)
    if model.kind == "fallback":  # the seed's meaning: the answer's best cosine
        best = next((unit.best for unit in units if unit.unit_id == top_unit), 0.0)
        return round(min(1.0, max(0.0, best)), 6)
    return round(model.probability(answer_features(QueryTerms.of(query), units, top_unit)), 6)
