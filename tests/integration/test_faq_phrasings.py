"""FAQ phrasings: how source tickets asked, questions a reviewer or a merge replaced, each found as the FAQ."""

from __future__ import annotations

from typing import Any

import pytest

from core.database import Database
from core.embeddings import Embedder
from faq_mining.faq_store import MAX_PHRASINGS, CandidateDraft, FaqStore, JoiningTickets, staged_phrasings
from faq_mining.review import FaqReview
from kb.calibration_store import CalibrationStore
from kb.faq_retriever import FaqRetriever

QUESTION = "How do I reset my password?"
ANSWER = "Open Settings > Security, choose 'Reset password' and follow the link we e-mail you."
# How customers asked, in words the question does not use.
LOCKED_OUT = "I am locked out of my account after too many login attempts"
CANT_SIGN_IN = "The sign-in page keeps rejecting my credentials"


def draft(
    question: str, tickets: list[str], phrasings: list[str], embedder: Embedder, **changes: Any
) -> CandidateDraft:
    fields: dict[str, Any] = {
        "action": "NEW",
        "question": question,
        "answer": ANSWER,
        "tags": ["account"],
        "confidence": 0.9,
        "merge_with_id": None,
        "similarity": None,
        "source_ticket_ids": tickets,
        "question_embedding": embedder.embed_documents([question])[0],
        "pii_kinds": [],
        "run_id": None,
        "metadata": {},
        "phrasings": phrasings,
    }
    return CandidateDraft(**(fields | changes))


@pytest.fixture
def review(db: Database, embedder: Embedder) -> FaqReview:
    return FaqReview(db, embedder, FaqStore(db, embedder.model_name, embedder.dimension))


def stage(review: FaqReview, candidate: CandidateDraft) -> int:
    staging_id = review.store.stage(candidate).staging_id
    assert staging_id is not None
    return staging_id


def phrasings_of(db: Database, faq_id: int) -> dict[str, str]:
    with db.connection() as conn:
        rows = conn.execute("SELECT phrasing, origin FROM faq_phrasing WHERE faq_id = %s", (faq_id,)).fetchall()
        conn.rollback()
    return {row["phrasing"]: row["origin"] for row in rows}


def test_staged_phrasings_are_tidy_unique_and_never_hold_redacted_data() -> None:
    kept = staged_phrasings(
        [f"  {QUESTION} ", LOCKED_OUT, LOCKED_OUT.upper(), "Mail me at [EMAIL] please", "", CANT_SIGN_IN],
        question=QUESTION,
    )

    assert kept == [{"text": LOCKED_OUT, "origin": "ticket"}, {"text": CANT_SIGN_IN, "origin": "ticket"}]
    many = staged_phrasings([f"question number {n}" for n in range(50)], question=QUESTION, known=["a", "b"])
    assert len(many) == MAX_PHRASINGS - 2


def test_an_approved_faq_is_found_by_how_its_tickets_asked(review: FaqReview, embedder: Embedder, db: Database) -> None:
    staging_id = stage(review, draft(QUESTION, ["T-1", "T-2"], [QUESTION, LOCKED_OUT], embedder))
    assert [p["text"] for p in review.get(staging_id).candidate.phrasings] == [LOCKED_OUT]
    retriever = FaqRetriever(db, embedder)
    assert retriever.search(LOCKED_OUT) == []

    faq_id = review.decide(staging_id, "approve", reviewer="alice").faq_id

    (hit,) = retriever.search(LOCKED_OUT, top_k=3)
    assert hit.id == faq_id and hit.answer == ANSWER
    assert [match.phrasing for match in hit.phrasing_matches] == [LOCKED_OUT]
    assert hit.similarity == hit.phrasing_matches[0].similarity > hit.question_similarity
    assert phrasings_of(db, hit.id) == {LOCKED_OUT: "ticket"}


def test_a_later_runs_tickets_joining_a_pending_candidate_add_their_wording(
    review: FaqReview, embedder: Embedder, db: Database
) -> None:
    staging_id = stage(review, draft(QUESTION, ["T-1"], [LOCKED_OUT], embedder))

    review.store.join(staging_id, JoiningTickets(["T-2"], phrasings=[CANT_SIGN_IN, LOCKED_OUT]))
    faq_id = review.decide(staging_id, "approve", reviewer="alice").faq_id
    assert faq_id is not None

    assert phrasings_of(db, faq_id) == {LOCKED_OUT: "ticket", CANT_SIGN_IN: "ticket"}


def test_a_question_the_reviewer_replaced_stays_a_phrasing(review: FaqReview, embedder: Embedder, db: Database) -> None:
    staging_id = stage(review, draft(LOCKED_OUT, ["T-1"], [], embedder))

    review.update(staging_id, editor="alice", question=QUESTION)
    faq_id = review.decide(staging_id, "approve", reviewer="alice").faq_id
    assert faq_id is not None

    assert phrasings_of(db, faq_id) == {LOCKED_OUT: "edit"}
    assert FaqRetriever(db, embedder).search(LOCKED_OUT)[0].id == faq_id


def test_a_merge_adds_phrasings_and_its_revert_takes_exactly_those_back(
    review: FaqReview, embedder: Embedder, db: Database
) -> None:
    faq_id = review.decide(stage(review, draft(LOCKED_OUT, ["T-1"], [], embedder)), "approve", "alice").faq_id
    assert faq_id is not None
    merge = stage(
        review, draft(QUESTION, ["T-2"], [CANT_SIGN_IN], embedder, action="MERGE", merge_with_id=faq_id, similarity=0.8)
    )

    review.decide(merge, "approve", reviewer="alice")
    assert phrasings_of(db, faq_id) == {LOCKED_OUT: "edit", CANT_SIGN_IN: "ticket"}
    assert FaqRetriever(db, embedder).search(LOCKED_OUT)[0].id == faq_id

    review.revert(merge, reviewer="alice")
    assert phrasings_of(db, faq_id) == {}
    (hit,) = FaqRetriever(db, embedder).search(LOCKED_OUT)
    assert hit.question == LOCKED_OUT and hit.phrasing_matches == ()


def test_a_deleted_faq_is_not_found_by_its_phrasings(review: FaqReview, embedder: Embedder, db: Database) -> None:
    faq_id = review.decide(stage(review, draft(QUESTION, ["T-1"], [LOCKED_OUT], embedder)), "approve", "alice").faq_id
    assert faq_id is not None

    review.delete_faq(faq_id, actor="bob")

    assert FaqRetriever(db, embedder).search(LOCKED_OUT) == []


def test_calibration_probes_every_phrasing_of_an_faq(review: FaqReview, embedder: Embedder, db: Database) -> None:
    faq_id = review.decide(
        stage(review, draft(QUESTION, ["T-1", "T-2"], [LOCKED_OUT, CANT_SIGN_IN], embedder)), "approve", "alice"
    ).faq_id

    rows = CalibrationStore(db, embedder.model_name).faq_rows(embedder)

    assert [(row.unit_id, row.probe_text, row.remainder) for row in rows] == [
        (f"faq:{faq_id}", QUESTION, ANSWER),
        (f"faq:{faq_id}", LOCKED_OUT, ""),
        (f"faq:{faq_id}", CANT_SIGN_IN, ""),
    ]


def test_mining_recognises_tickets_asked_the_way_an_faqs_sources_were(
    review: FaqReview, embedder: Embedder, db: Database
) -> None:
    faq_id = review.decide(stage(review, draft(QUESTION, ["T-1"], [LOCKED_OUT], embedder)), "approve", "alice").faq_id

    [[nearest, *_]] = review.store.similar(embedder.embed_documents([LOCKED_OUT]), top_k=3)

    assert (nearest.id, nearest.origin, nearest.question) == (faq_id, "production", QUESTION)
    assert nearest.similarity > 0.99  # the phrasing itself, not the question (which shares few words with it)
