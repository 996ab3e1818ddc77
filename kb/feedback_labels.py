"""Customer feedback as extra calibration labels: a verdict on a real answer weighs more than a self-made probe.

`kb.answer_feedback.AnswerFeedbackStore.labels()` gives one label per verdict (query, the FAQ or chunk the
answer was built on, satisfied or not). Here each becomes an `ExtraLabel` on the calibration's units: a
chunk label counts for its document (chunk ids change on re-ingest; labels whose chunk is gone are dropped).
`kb.faq_calibration.fit_rows` uses them only once there are `DOXA_ANSWER_FEEDBACK_MIN_LABELS` of them,
each weighted `DOXA_ANSWER_FEEDBACK_WEIGHT`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.database import Database
from core.embeddings import Embedder
from kb.answer_confidence import QueryTerms
from kb.calibration import ExtraLabel


class FeedbackLabel(Protocol):
    """What calibration reads of one verdict (kb.answer_feedback.AnswerLabel has these fields)."""

    @property
    def query(self) -> str: ...  # noqa: D102

    @property
    def source_kind(self) -> str: ...  # noqa: D102

    @property
    def source_id(self) -> str: ...  # noqa: D102

    @property
    def satisfied(self) -> bool: ...  # noqa: D102


class LabelSource(Protocol):
    """Where verdicts come from (kb.answer_feedback.AnswerFeedbackStore in the service)."""

    @property
    def db(self) -> Database: ...  # noqa: D102

    def labels(self) -> Sequence[FeedbackLabel]:
        """Every verdict given so far."""
        ...


def extra_labels(source: LabelSource, embedder: Embedder) -> list[ExtraLabel]:
    """The verdicts as calibration labels on `faq:<id>` / `doc:<document id>` units, queries embedded (cached)."""
    labels = list(source.labels())
    chunk_ids = [label.source_id for label in labels if label.source_kind == "chunk"]
    documents = _chunk_documents(source.db, chunk_ids)
    units: list[tuple[FeedbackLabel, str]] = []
    for label in labels:
        if label.source_kind == "faq":
            units.append((label, f"faq:{label.source_id}"))
        elif label.source_id in documents:
            units.append((label, f"doc:{documents[label.source_id]}"))
    if not units:
        return []
    vectors = embedder.embed_documents([label.query for label, _ in units])
    return [
        ExtraLabel(vector, QueryTerms.of(label.query), unit, bool(label.satisfied))
        for (label, unit), vector in zip(units, vectors, strict=True)
    ]


def _chunk_documents(db: Database, chunk_ids: Sequence[str]) -> dict[str, str]:
    valid = [chunk_id for chunk_id in chunk_ids if _is_uuid(chunk_id)]
    if not valid:
        return {}
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT id::text AS id, document_id FROM kb_chunk WHERE id = ANY(%s::uuid[])", (valid,)
        ).fetchall()
        conn.rollback()
    return {row["id"]: row["document_id"] for row in rows}


def _is_uuid(text: str) -> bool:
    import uuid

    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
