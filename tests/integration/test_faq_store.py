"""FaqStore on the real PostgreSQL + pgvector: pinning, staging with ticket claims, similarity."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from core.database import Database
from core.errors import EmbeddingModelMismatch, InvalidInputError
from faq_mining.faq_store import CandidateDraft, FaqStore
from kb.vector_store.pgvector import vector_literal

DIM = 8
MODEL = "test-model"


def unit(index: int, tilt: float = 0.0) -> np.ndarray:
    """A normalised vector along axis `index`, tilted towards the next axis."""
    vector = np.zeros(DIM, dtype=np.float32)
    vector[index] = 1.0
    vector[(index + 1) % DIM] = tilt
    return vector / np.linalg.norm(vector)


def draft(tickets: list[str], vector: np.ndarray | None = None, **changes: Any) -> CandidateDraft:
    fields: dict[str, object] = {
        "action": "NEW",
        "question": "How do I reset my password?",
        "answer": "Use the 'Forgot password' link on the sign-in page.",
        "tags": ["account", " password ", "account"],
        "confidence": 0.8,
        "merge_with_id": None,
        "similarity": None,
        "source_ticket_ids": tickets,
        "question_embedding": unit(0) if vector is None else vector,
        "pii_kinds": ["email"],
        "run_id": "run-1",
        "metadata": {"reason": "test"},
    }
    fields.update(changes)
    return CandidateDraft(**fields)  # type: ignore[arg-type]


def insert_faq(db: Database, vector: np.ndarray, question: str = "Q?", *, deleted: bool = False) -> int:
    with db.transaction() as conn:
        row = conn.execute(
            "INSERT INTO faq (question, answer, tags, question_embedding, embedding_model, promoted_by, is_deleted)"
            " VALUES (%s, 'A.', '{t}', %s::vector, %s, 'test', %s) RETURNING id",
            (question, vector_literal(vector), MODEL, deleted),
        ).fetchone()
    assert row is not None
    return int(row["id"])


@pytest.fixture
def store(db: Database) -> FaqStore:
    return FaqStore(db, MODEL, DIM)


def test_first_use_pins_vector_columns_registers_the_model_and_indexes_live_faqs(store: FaqStore, db: Database) -> None:
    with db.connection() as conn:
        types = conn.execute(
            "SELECT attrelid::regclass::text AS tbl, format_type(atttypid, atttypmod) AS type FROM pg_attribute"
            " WHERE attname = 'question_embedding' AND attrelid IN ('faq'::regclass, 'faq_staging'::regclass)"
        ).fetchall()
        registry = conn.execute("SELECT backend, model, dimension FROM vector_collection WHERE name = 'faq'").fetchone()
        index = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'faq_question_hnsw'").fetchone()
    assert {row["type"] for row in types} == {"vector(8)"}
    assert registry == {"backend": "pgvector", "model": MODEL, "dimension": DIM}
    assert index is not None and "hnsw" in index["indexdef"] and "is_deleted" in index["indexdef"]
    FaqStore(db, MODEL, DIM)  # reopening with the same model is fine


@pytest.mark.parametrize(("model", "dimension"), [("other-model", DIM), (MODEL, 16)])
def test_another_model_or_dimension_is_refused(store: FaqStore, db: Database, model: str, dimension: int) -> None:
    with pytest.raises(EmbeddingModelMismatch, match="FAQ tables"):
        FaqStore(db, model, dimension)


def test_a_vector_of_another_dimension_is_refused(store: FaqStore) -> None:
    with pytest.raises(EmbeddingModelMismatch):
        store.stage(draft(["T-1"], vector=np.ones(4, dtype=np.float32) / 2))
    with pytest.raises(EmbeddingModelMismatch):
        store.similar(np.ones((1, 4), dtype=np.float32))


def test_stage_writes_the_candidate_its_ticket_claims_and_an_audit_row(store: FaqStore, db: Database) -> None:
    result = store.stage(draft(["T-2", "T-1", "T-2"]))

    assert result.staging_id is not None
    assert result.claimed_ticket_ids == ["T-2", "T-1"]
    assert result.already_staged_ticket_ids == []
    assert store.staged_ticket_ids(["T-1", "T-2", "T-3"]) == {"T-1", "T-2"}
    with db.connection() as conn:
        staged = conn.execute("SELECT * FROM faq_staging WHERE id = %s", (result.staging_id,)).fetchone()
        audit = conn.execute(
            "SELECT action, actor FROM faq_audit WHERE staging_id = %s", (result.staging_id,)
        ).fetchall()
    assert staged is not None
    assert staged["status"] == "PENDING" and staged["source_count"] == 2
    assert staged["tags"] == ["account", "password"]
    assert staged["pii_kinds"] == ["email"] and staged["metadata"] == {"reason": "test"}
    assert audit == [{"action": "staged", "actor": "faq-mining"}]


def test_tickets_already_claimed_are_dropped_and_a_fully_claimed_candidate_is_not_staged(
    store: FaqStore, db: Database
) -> None:
    first = store.stage(draft(["T-1", "T-2"]))
    overlapping = store.stage(draft(["T-2", "T-3"], vector=unit(1)))
    repeated = store.stage(draft(["T-1", "T-3"], vector=unit(2)))

    assert overlapping.staging_id is not None
    assert overlapping.claimed_ticket_ids == ["T-3"]
    assert overlapping.already_staged_ticket_ids == ["T-2"]
    assert repeated.staging_id is None
    assert repeated.already_staged_ticket_ids == ["T-1", "T-3"]
    with db.connection() as conn:
        rows = conn.execute("SELECT id, source_ticket_ids FROM faq_staging ORDER BY id").fetchall()
    assert [(r["id"], r["source_ticket_ids"]) for r in rows] == [
        (first.staging_id, ["T-1", "T-2"]),
        (overlapping.staging_id, ["T-3"]),
    ]


def test_concurrent_runs_stage_each_ticket_at_most_once(store: FaqStore, db: Database) -> None:
    tickets = [f"T-{i}" for i in range(20)]
    start = threading.Barrier(8)

    def stage_shuffled(seed: int) -> list[str]:
        order = list(np.random.default_rng(seed).permutation(tickets))
        start.wait()
        return store.stage(draft(order, vector=unit(seed % DIM))).claimed_ticket_ids

    with ThreadPoolExecutor(max_workers=8) as pool:
        claimed = list(pool.map(stage_shuffled, range(8)))

    assert sorted(t for batch in claimed for t in batch) == sorted(tickets)
    with db.connection() as conn:
        staged = conn.execute("SELECT unnest(source_ticket_ids) AS t FROM faq_staging").fetchall()
        claims = conn.execute("SELECT count(*) AS n FROM faq_staged_ticket").fetchone()
    assert sorted(r["t"] for r in staged) == sorted(tickets)
    assert claims == {"n": 20}


def test_stage_inside_a_callers_transaction_rolls_back_only_its_savepoint(store: FaqStore, db: Database) -> None:
    store.stage(draft(["T-1"]))
    with db.transaction() as conn:
        result = store.stage(draft(["T-1"]), conn=conn)
        conn.execute("INSERT INTO faq_staged_ticket (ticket_id, staging_id) SELECT 'T-9', min(id) FROM faq_staging")
    assert result.staging_id is None
    assert store.staged_ticket_ids(["T-9"]) == {"T-9"}


def test_merge_needs_a_live_target(store: FaqStore, db: Database) -> None:
    deleted = insert_faq(db, unit(0), deleted=True)
    for target in (deleted, 999_999):
        with pytest.raises(InvalidInputError, match="MERGE target"):
            store.stage(draft(["T-1"], action="MERGE", merge_with_id=target))
    assert store.staged_ticket_ids(["T-1"]) == set()
    live = insert_faq(db, unit(0))
    assert store.stage(draft(["T-1"], action="MERGE", merge_with_id=live, similarity=0.9)).staging_id is not None


@pytest.mark.parametrize(
    "changes",
    [{"question": "  "}, {"confidence": 1.5}, {"action": "MERGE"}, {"source_ticket_ids": []}, {"action": "SKIP"}],
)
def test_invalid_drafts_are_refused(store: FaqStore, changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError):
        store.stage(draft(["T-1"], **changes))


def test_similar_ranks_live_faqs_and_pending_candidates_per_query_row(store: FaqStore, db: Database) -> None:
    live = insert_faq(db, unit(0), "live")
    insert_faq(db, unit(0, tilt=0.05), "deleted", deleted=True)
    pending = store.stage(draft(["T-1"], vector=unit(0, tilt=0.3), question="pending")).staging_id
    rejected = store.stage(draft(["T-2"], vector=unit(0, tilt=0.1), question="rejected")).staging_id
    with db.transaction() as conn:
        conn.execute("UPDATE faq_staging SET status = 'REJECTED' WHERE id = %s", (rejected,))
    far = insert_faq(db, unit(4), "far")

    by_row = store.similar(np.stack([unit(0), unit(4), unit(6)]), top_k=2)

    assert [(hit.origin, hit.id) for hit in by_row[0]] == [("production", live), ("pending", pending)]
    assert by_row[0][0].similarity == pytest.approx(1.0, abs=1e-5)
    assert by_row[0][1].similarity == pytest.approx(float(unit(0) @ unit(0, tilt=0.3)), abs=1e-5)
    assert by_row[0][1].question == "pending" and by_row[0][1].tags == ["account", "password"]
    assert by_row[1][0].id == far and by_row[1][0].similarity == pytest.approx(1.0, abs=1e-5)
    assert len(by_row[2]) == 2 and all(hit.similarity < 0.5 for hit in by_row[2])
    assert store.similar(np.zeros((0, DIM), dtype=np.float32)) == []


def test_live_faq_hides_deleted_and_missing_rows(store: FaqStore, db: Database) -> None:
    live = insert_faq(db, unit(0), "live")
    deleted = insert_faq(db, unit(1), "gone", deleted=True)

    row = store.live_faq(live)
    assert row is not None and row.question == "live" and row.version == 1 and row.tags == ["t"]
    assert store.live_faq(deleted) is None
    assert store.live_faq(424242) is None
