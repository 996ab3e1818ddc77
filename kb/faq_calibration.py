"""Calibration probes built from FAQs and sections, and the fit the service and `doxa eval confidence` share.

An FAQ's phrasings (question, variants, source-ticket wordings) are its probes. With several, each is
asked with only its own row held out; with one, it is asked against the FAQ's answer embedded alone (its
other text kept, the question's vector gone). A document section's title is asked against its chunk's text
embedded alone. Every probe is also asked with its whole unit left out: a same-domain negative.
Question-only FAQs (one phrasing, no answer) that ask the same thing are one answer: they probe each
other, and a left-out question takes every question-only row that asks the same with it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from core.embeddings import Embedder
from core.settings import Settings
from kb.answer_confidence import QueryTerms
from kb.calibration import (
    Calibration,
    CalibrationIndex,
    ExtraLabel,
    FitLimits,
    Probe,
    QuestionOnlyUnits,
    calibration_set,
    fit,
)
from kb.evaluation import FaqItem, faq_passages
from kb.keyword_index import tokenize
from kb.near_duplicates import group_near_duplicates
from kb.retrieval import embedded_text


@dataclass(frozen=True)
class IndexRow:
    """One indexed vector of a unit, and how to probe it.

    `probe_text` is the phrasing the row holds (None: the row holds no askable phrasing); `remainder` is
    what the row says without it ("" when nothing remains: the row is removed when its phrasing is asked).
    """

    unit_id: str
    text: str
    vector: np.ndarray
    probe_text: str | None = None
    remainder: str = ""


def build_probes(
    rows: Sequence[IndexRow], embedder: Embedder, same_question_similarity: float = 1.0
) -> tuple[CalibrationIndex, list[Probe]]:
    """The calibration index over the rows and one probe per askable row (two embeddings per probed row at most).

    Question-only units whose questions are `same_question_similarity` alike share one answer
    (`question_only_units`).
    """
    vectors = np.stack([row.vector for row in rows]).astype(np.float32)
    index = CalibrationIndex(
        vectors=vectors,
        units=tuple(row.unit_id for row in rows),
        terms=tuple(frozenset(tokenize(row.text)) for row in rows),
        question_only=question_only_units(rows, vectors, same_question_similarity),
    )
    askable = [i for i, row in enumerate(rows) if row.probe_text]
    probe_texts = [str(rows[i].probe_text) for i in askable]
    remainders = [i for i in askable if rows[i].remainder.strip()]
    embedded = embedder.embed_documents([*probe_texts, *(rows[i].remainder for i in remainders)])
    probe_vectors = dict(zip(askable, embedded[: len(askable)], strict=True))
    remainder_vectors = dict(zip(remainders, embedded[len(askable) :], strict=True))
    probes = [
        Probe(
            unit_id=rows[i].unit_id,
            row=i,
            vector=probe_vectors[i],
            query=QueryTerms.of(str(rows[i].probe_text)),
            replacement=remainder_vectors.get(i),
            replacement_terms=frozenset(tokenize(rows[i].remainder)),
        )
        for i in askable
    ]
    return index, probes


def question_only_units(rows: Sequence[IndexRow], vectors: np.ndarray, similarity: float) -> QuestionOnlyUnits:
    """The units that hold one phrasing and nothing else, grouped into answers by complete linkage.

    Units that hold an answer or several phrasings stay apart: two FAQs with their own answers are two
    answers however alike their questions (`QuestionOnlyUnits`).
    """
    per_unit = Counter(row.unit_id for row in rows)
    bare = [i for i, row in enumerate(rows) if per_unit[row.unit_id] == 1 and row.probe_text and not row.remainder]
    if len(bare) < 2 or similarity >= 1.0:
        return QuestionOnlyUnits()
    answers: dict[str, str] = {}
    for group in group_near_duplicates(vectors[bare], threshold=1.0 - similarity):
        if len(group) > 1:
            answer = rows[bare[group[0]]].unit_id
            answers.update((rows[bare[member]].unit_id, answer) for member in group)
    return QuestionOnlyUnits(frozenset(rows[i].unit_id for i in bare), answers, similarity)


def faq_rows(embedder: Embedder, faqs: Sequence[FaqItem]) -> list[IndexRow]:
    """The rows `kb.evaluation.faq_retriever` indexes for these FAQs (question + answer, then each variant)."""
    passages = faq_passages(faqs)
    vectors = embedder.embed_documents([embedded_text(p) for p in passages])
    questions = {faq.id: faq for faq in faqs}
    rows = []
    for passage, vector in zip(passages, vectors, strict=True):
        main = passage.section_path == questions[passage.document_id].question and passage.text == (
            questions[passage.document_id].answer
        )
        rows.append(
            IndexRow(
                unit_id=passage.document_id,
                text=f"{passage.section_path} {passage.text}",
                vector=vector,
                probe_text=passage.section_path,
                remainder=passage.text if main else "",
            )
        )
    return rows


def fit_rows(
    rows: Sequence[IndexRow],
    embedder: Embedder,
    settings: Settings,
    fitted_on: dict[str, Any],
    extra: Sequence[ExtraLabel] = (),
) -> Calibration:
    """Probe the rows and fit the answer model with the configured target and fallback."""
    if not rows:
        return fit_empty(settings, fitted_on)
    rows, extra = by_content(rows, extra)
    # The knowledge base's own rule for "asks the same thing": the similarity at which mining merges a question.
    index, probes = build_probes(rows, embedder, settings.mining_merge_similarity)
    usable_extra = extra if len(extra) >= settings.answer_feedback_min_labels else ()
    data = calibration_set(index, probes, usable_extra, extra_weight=settings.answer_feedback_weight)
    described = {
        **fitted_on,
        "units": len(set(index.units)),
        "rows": len(rows),
        "question_only_units": len(index.question_only.units),
        "question_only_units_sharing_an_answer": len(index.question_only.answers),
        "feedback_labels_seen": len(extra),
    }
    return fit(data, FitLimits.of(settings), described)


def by_content(rows: Sequence[IndexRow], extra: Sequence[ExtraLabel] = ()) -> tuple[list[IndexRow], list[ExtraLabel]]:
    """The rows renamed and ordered by what their units hold, so where the KB came from changes no fit.

    A document's id is a hash of its file's path and an FAQ's is its row number: the same help centre
    ingested from another folder would otherwise be split into other folds and get another threshold.
    Units that hold exactly the same rows keep their original order among themselves.
    """
    texts: dict[str, list[str]] = {}
    for row in rows:
        texts.setdefault(row.unit_id, []).append(f"{row.text}\x1f{row.probe_text or ''}")
    digests = {unit: hashlib.sha256("\x1e".join(parts).encode()).hexdigest()[:16] for unit, parts in texts.items()}
    seen: Counter[str] = Counter()
    names: dict[str, str] = {}
    for unit in texts:  # first-seen order decides only between units of identical content
        seen[digests[unit]] += 1
        names[unit] = f"u{digests[unit]}#{seen[digests[unit]]}"
    order = sorted(range(len(rows)), key=lambda i: (names[rows[i].unit_id], i))
    renamed = [replace(rows[i], unit_id=names[rows[i].unit_id]) for i in order]
    return renamed, [replace(label, unit_id=names.get(label.unit_id, label.unit_id)) for label in extra]


def fit_empty(settings: Settings, fitted_on: dict[str, Any]) -> Calibration:
    """The fallback for a knowledge base with nothing in it."""
    from kb.answer_confidence import AnswerModel

    reason = "the knowledge base is empty"
    return Calibration(
        AnswerModel(
            kind="fallback",
            threshold=settings.answer_fallback_threshold,
            fitted_on={**fitted_on, "reason": reason, "positives": 0, "negatives": 0},
        )
    )


def calibrate_faqs(embedder: Embedder, faqs: Sequence[FaqItem], settings: Settings) -> Calibration:
    """Self-calibration on a set of FAQs (what `doxa eval confidence` does before scoring any query)."""
    return fit_rows(faq_rows(embedder, faqs), embedder, settings, {"source": "faqs", "faqs": len(faqs)})
