"""FaqReview on the real database and model: atomic approval, merge and revert, edits, soft delete, PII."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from core.database import Database
from core.embeddings import Embedder
from core.errors import ConflictError, InvalidInputError, NotFoundError
from faq_mining.faq_store import FaqStore
from faq_mining.review import FaqReview
from faq_mining.review_models import CandidateEdits
from tests.faq_candidates import PASSWORD_A, PASSWORD_Q, stage_candidate


@pytest.fixture
def store(db: Database, embedder: Embedder) -> FaqStore:
    return FaqStore(db, embedder.model_name, embedder.dimension)


@pytest.fixture
def review(db: Database, embedder: Embedder, store: FaqStore) -> FaqReview:
    return FaqReview(db, embedder, store)


def stage(store: FaqStore, embedder: Embedder, tickets: list[str], question: str = PASSWORD_Q, **changes: Any) -> int:
    return stage_candidate(store, embedder, tickets, question, **changes)


def faq_embedding(db: Database, faq_id: int) -> np.ndarray:
    with db.connection() as conn:
        row = conn.execute("SELECT question_embedding::text AS v FROM faq WHERE id = %s", (faq_id,)).fetchone()
    assert row is not None
    return np.array([float(x) for x in row["v"].strip("[]").split(",")], dtype=np.float32)


def audit_actions(db: Database, staging_id: int) -> list[str]:
    with db.connection() as conn:
        rows = conn.execute("SELECT action FROM faq_audit WHERE staging_id = %s ORDER BY id", (staging_id,)).fetchall()
    return [row["action"] for row in rows]


def test_approving_new_promotes_with_audit_metadata(
    review: FaqReview, store: FaqStore, embedder: Embedder, db: Database
) -> None:
    staging_id = stage(store, embedder, ["T-1", "T-2"])

    outcome = review.decide(staging_id, "approve", reviewer="alice", note="good")

    assert outcome.status == "APPROVED" and outcome.faq_id is not None and outcome.faq_version == 1
    faq = store.live_faq(outcome.faq_id)
    assert faq is not None
    assert (faq.question, faq.tags, faq.promoted_by) == (PASSWORD_Q, ["account", "password"], "alice")
    assert faq.source_staging_id == staging_id and faq.source_ticket_ids == ["T-1", "T-2"]
    assert faq.metadata["source_staging_id"] == staging_id and faq.metadata["promoted_by"] == "alice"
    np.testing.assert_allclose(faq_embedding(db, faq.id), embedder.embed_query(PASSWORD_Q), atol=1e-6)
    candidate = review.get(staging_id).candidate
    assert (candidate.status, candidate.reviewed_by, candidate.promoted_faq_id) == ("APPROVED", "alice", faq.id)
    assert candidate.review_note == "good" and candidate.reviewed_at is not None
    assert audit_actions(db, staging_id) == ["staged", "approved"]


def test_fifty_concurrent_approvals_promote_exactly_once(
    review: FaqReview, store: FaqStore, embedder: Embedder, db: Database
) -> None:
    staging_id = stage(store, embedder, ["T-1"])
    start = threading.Barrier(50)

    def approve(n: int) -> str:
        start.wait()
        try:
            review.decide(staging_id, "approve", reviewer=f"reviewer-{n}")
        except ConflictError:
            return "conflict"
        return "approved"

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(approve, range(50)))

    assert results.count("approved") == 1 and results.count("conflict") == 49
    with db.connection() as conn:
        faqs = conn.execute("SELECT count(*) AS n FROM faq").fetchone()
    assert faqs == {"n": 1}
    assert audit_actions(db, staging_id).count("approved") == 1


def test_a_decided_candidate_can_be_neither_reviewed_nor_edited_again(
    review: FaqReview, store: FaqStore, embedder: Embedder
) -> None:
    approved = stage(store, embedder, ["T-1"])
    rejected = stage(store, embedder, ["T-2"], question="Where can I download my invoices?")
    review.decide(approved, "approve", reviewer="alice")
    outcome = review.decide(rejected, "reject", reviewer="bob", note="too specific")

    assert outcome.status == "REJECTED" and outcome.faq_id is None
    for staging_id in (approved, rejected):
        with pytest.raises(ConflictError, match="only a PENDING candidate"):
            review.decide(staging_id, "approve", reviewer="carol")
        with pytest.raises(ConflictError):
            review.update(staging_id, editor="carol", answer="Something else entirely.")
    assert review.stats().live_faqs == 1


def test_edit_reembeds_the_question_and_checks_the_version(
    review: FaqReview, store: FaqStore, embedder: Embedder, db: Database
) -> None:
    staging_id = stage(store, embedder, ["T-1"])
    new_question = "How can I change a forgotten password?"

    edited = review.update(
        staging_id, editor="alice", question=new_question, tags=["Login ", "login"], expected_version=1
    )

    assert (edited.question, edited.tags, edited.version) == (new_question, ["Login"], 2)
    with pytest.raises(ConflictError, match="version 2, not 1"):
        review.update(staging_id, editor="bob", answer="Stale edit.", expected_version=1)
    with db.connection() as conn:
        row = conn.execute("SELECT question_embedding::text AS v FROM faq_staging WHERE id = %s", (staging_id,))
        stored = np.array([float(x) for x in row.fetchone()["v"].strip("[]").split(",")], dtype=np.float32)  # type: ignore[index]
    np.testing.assert_allclose(stored, embedder.embed_query(new_question), atol=1e-6)
    assert audit_actions(db, staging_id) == ["staged", "edited"]


def test_edit_then_approve_is_one_call(review: FaqReview, store: FaqStore, embedder: Embedder, db: Database) -> None:
    staging_id = stage(store, embedder, ["T-1"])
    edits = CandidateEdits(question="How do I recover my account password?", answer="Click 'Forgot password'.")

    outcome = review.decide(staging_id, "approve", reviewer="alice", expected_version=1, edits=edits)

    assert outcome.faq_id is not None
    faq = store.live_faq(outcome.faq_id)
    assert faq is not None and (faq.question, faq.answer) == (edits.question, edits.answer)
    np.testing.assert_allclose(faq_embedding(db, faq.id), embedder.embed_query(edits.question or ""), atol=1e-6)
    assert audit_actions(db, staging_id) == ["staged", "edited", "approved"]


def test_merge_then_revert_restores_text_embedding_and_sources(
    review: FaqReview, store: FaqStore, embedder: Embedder, db: Database
) -> None:
    original = review.decide(stage(store, embedder, ["T-1"]), "approve", reviewer="alice")
    assert original.faq_id is not None
    before = faq_embedding(db, original.faq_id)
    merged_question = "How do I reset or recover my password?"
    merge = stage(
        store,
        embedder,
        ["T-2", "T-3"],
        question=merged_question,
        action="MERGE",
        merge_with_id=original.faq_id,
        similarity=0.91,
        answer="Use 'Forgot password'; if no e-mail arrives, check the spam folder.",
        tags=["account", "password", "email"],
    )
    preview = review.existing(merge)
    assert preview.target_is_live and "-How do I reset my password?" in preview.question_diff
    assert "+email" in preview.tags_diff

    outcome = review.decide(merge, "approve", reviewer="bob")

    merged = store.live_faq(original.faq_id)
    assert merged is not None and outcome.faq_id == original.faq_id and outcome.faq_version == 2
    assert (merged.question, merged.version, merged.source_ticket_ids) == (merged_question, 2, ["T-1", "T-2", "T-3"])
    np.testing.assert_allclose(faq_embedding(db, merged.id), embedder.embed_query(merged_question), atol=1e-6)

    reverted = review.revert(merge, reviewer="carol")

    restored = store.live_faq(original.faq_id)
    assert reverted.status == "REVERTED" and restored is not None
    assert (restored.question, restored.answer, restored.tags) == (PASSWORD_Q, PASSWORD_A, ["account", "password"])
    assert restored.source_ticket_ids == ["T-1"] and restored.version == 3
    np.testing.assert_allclose(faq_embedding(db, restored.id), before, atol=1e-5)
    assert audit_actions(db, merge) == ["staged", "approved", "merged", "reverted"]
    with pytest.raises(ConflictError):
        review.revert(merge, reviewer="carol")


def test_reverting_new_and_deleting_remove_the_faq_from_similarity(
    review: FaqReview, store: FaqStore, embedder: Embedder
) -> None:
    first = review.decide(stage(store, embedder, ["T-1"]), "approve", reviewer="alice")
    other_question = "Where can I download my invoices?"
    second = review.decide(stage(store, embedder, ["T-2"], question=other_question), "approve", reviewer="alice")
    assert first.faq_id is not None and second.faq_id is not None
    query = embedder.encode([PASSWORD_Q, other_question])
    assert [hits[0].id for hits in store.similar(query, top_k=1)] == [first.faq_id, second.faq_id]

    review.revert(first.staging_id, reviewer="bob")
    deleted = review.delete_faq(second.faq_id, actor="bob")

    assert deleted.is_deleted and store.live_faq(second.faq_id) is None
    assert all(hit.id not in (first.faq_id, second.faq_id) for hits in store.similar(query) for hit in hits)
    with pytest.raises(ConflictError, match="already deleted"):
        review.delete_faq(second.faq_id, actor="bob")
    with pytest.raises(NotFoundError):
        review.delete_faq(999_999, actor="bob")
    assert review.stats().deleted_faqs == 2


def test_a_merge_into_a_deleted_faq_is_refused(review: FaqReview, store: FaqStore, embedder: Embedder) -> None:
    target = review.decide(stage(store, embedder, ["T-1"]), "approve", reviewer="alice").faq_id
    assert target is not None
    merge = stage(store, embedder, ["T-2"], action="MERGE", merge_with_id=target, similarity=0.9)
    review.delete_faq(target, actor="bob")

    with pytest.raises(ConflictError, match="was deleted"):
        review.decide(merge, "approve", reviewer="alice")
    assert review.get(merge).candidate.status == "PENDING"


def test_pii_in_the_text_is_refused_naming_kinds_not_values(
    review: FaqReview, store: FaqStore, embedder: Embedder
) -> None:
    staging_id = stage(store, embedder, ["T-1"], answer="Write to jane.doe@acme-mail.fr for a reset.")

    with pytest.raises(InvalidInputError, match=r"\(email\)") as refused:
        review.decide(staging_id, "approve", reviewer="alice")
    assert "jane.doe" not in str(refused.value)
    with pytest.raises(InvalidInputError, match="card_number"):
        review.update(staging_id, editor="alice", answer="Pay with 4111 1111 1111 1111.")
    assert review.stats().live_faqs == 0

    fixed = CandidateEdits(answer="Write to the support address shown in the app.")
    assert review.decide(staging_id, "approve", reviewer="alice", edits=fixed).status == "APPROVED"


def test_list_pages_with_totals_and_stats_count_by_status_and_action(
    review: FaqReview, store: FaqStore, embedder: Embedder
) -> None:
    ids = [stage(store, embedder, [f"T-{i}"], question=f"Question number {i}?") for i in range(5)]
    review.decide(ids[0], "reject", reviewer="alice")

    page = review.list(status="pending", limit=2, offset=1)
    everything = review.list(limit=1000)
    stats = review.stats()

    assert page.total == 4 and [c.id for c in page.items] == [ids[3], ids[2]]
    assert everything.total == 5 and len(everything.items) == 5
    assert stats.by_status == {"PENDING": 4, "APPROVED": 0, "REJECTED": 1, "REVERTED": 0}
    assert stats.by_action == {"NEW": 5, "MERGE": 0} and stats.pending_by_action["NEW"] == 4
    assert [entry.action for entry in review.get(ids[0]).audit] == ["staged", "rejected"]
    for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"status": "DONE"}):
        with pytest.raises(InvalidInputError):
            review.list(**bad)
    with pytest.raises(NotFoundError):
        review.get(999_999)
    with pytest.raises(InvalidInputError, match="no merge target"):
        review.existing(ids[1])
    with pytest.raises(InvalidInputError, match="reviewer identity"):
        review.decide(ids[1], "approve", reviewer=" ")
