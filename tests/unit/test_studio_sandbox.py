"""Studio's dry-run stores: what a Studio run would have written is kept in memory, never passed on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from core.errors import ConflictError, NotFoundError
from faq_mining.faq_store import CandidateDraft, JoiningTickets, SimilarFaq, StageResult
from faq_mining.sandbox import DryRunCandidates, DryRunWatermarks
from faq_mining.ticket_source import Cursor
from graph.sandbox import DryRunOutbox, DryRunRecords
from state.records import EscalationRecord, KbGap, OutboxMessage


class _ProductionCandidates:
    """Stands for the production store: it refuses every write, so a test fails if the sandbox passes one on."""

    def staged_ticket_ids(self, ticket_ids: Sequence[str]) -> set[str]:
        return {"T-claimed"} & set(ticket_ids)

    def similar(self, vectors: Any, top_k: int = 3) -> list[list[SimilarFaq]]:
        return [[] for _ in vectors]

    def live_faq(self, faq_id: int) -> None:
        return None

    def stage(self, draft: CandidateDraft) -> StageResult:
        raise AssertionError("the sandbox staged a candidate in production")

    def join(self, staging_id: int, joining: JoiningTickets) -> StageResult:
        raise AssertionError("the sandbox added tickets to a production candidate")


class _ProductionWatermarks:
    def load(self, source: str) -> Cursor | None:
        return None

    def advance(self, source: str, cursor: Cursor, tickets: int) -> None:
        raise AssertionError("the sandbox moved the production watermark")


def _draft(*ticket_ids: str) -> CandidateDraft:
    return CandidateDraft(
        action="NEW",
        question="How do I reset my password?",
        answer="Use the reset link.",
        tags=["password"],
        confidence=0.9,
        merge_with_id=None,
        similarity=None,
        source_ticket_ids=list(ticket_ids),
        question_embedding=np.zeros(384, dtype=np.float32),
        pii_kinds=[],
        run_id="r",
        metadata={},
    )


def test_sandbox_candidates_get_negative_ids_and_claim_their_tickets_once() -> None:
    candidates = DryRunCandidates(_ProductionCandidates())
    first = candidates.stage(_draft("T-1", "T-2", "T-claimed"))
    assert first.staging_id is not None and first.staging_id < 0
    assert first.claimed_ticket_ids == ["T-1", "T-2"]
    assert first.already_staged_ticket_ids == ["T-claimed"], "production's claims count"
    assert candidates.stage(_draft("T-2")).staging_id is None, "a ticket the sandbox claimed is a duplicate"
    assert candidates.staged_ticket_ids(["T-1", "T-9"]) == {"T-1"}


def test_a_sandbox_decision_is_recorded_once_and_promotes_nothing() -> None:
    candidates = DryRunCandidates(_ProductionCandidates())
    staged = candidates.stage(_draft("T-1")).staging_id
    assert staged is not None
    outcome = candidates.decide(staged, "approve", "alice")
    assert (outcome.status, outcome.action, outcome.faq_id) == ("APPROVED", "NEW", None)
    with pytest.raises(ConflictError):
        candidates.decide(staged, "reject", "bob")
    with pytest.raises(NotFoundError):
        candidates.decide(-999, "approve", "alice")


def test_the_watermark_is_read_but_never_moved() -> None:
    watermarks = DryRunWatermarks(_ProductionWatermarks())
    assert watermarks.load("ticketing") is None
    watermarks.advance("ticketing", Cursor(arrived_at=datetime.now(UTC), ticket_id="T-1"), 10)


def test_dry_run_outbox_and_records_keep_what_would_have_been_written() -> None:
    outbox = DryRunOutbox()
    message = OutboxMessage("k-1", "T-1", "a@example.com", "Re: help", "body", "solution")
    assert outbox.enqueue(message) is True
    assert outbox.enqueue(message) is False, "idempotent per key, as the real outbox"
    records = DryRunRecords()
    record = EscalationRecord("E-1", "T-1", "billing", "angry", None, None, [], {})
    assert records.open_escalation(record) == "E-1"
    assert records.open_escalation(EscalationRecord("E-2", "T-1", "billing", "again", None, None, [], {})) == "E-1"
    records.record_gap(
        KbGap(ticket_id="T-1", attempt=1, category=None, reformulation="q", max_similarity=None, outcome="x")
    )
    assert len(records.gaps) == 1


def test_studio_context_schemas_list_only_what_a_run_can_set() -> None:
    from faq_mining.studio import faq_mining
    from graph.studio import ticket

    for graph in (ticket, faq_mining):
        schema = graph.get_context_jsonschema()
        assert schema is not None and set(schema["properties"]) == {"llm_max_attempts", "llm_backoff_s"}
