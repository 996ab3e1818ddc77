"""Every outcome of the FAQ-mining graph, on in-memory stores (tests/fakes.py) and the `checkpointer` fixture.

A run goes fetch -> ... -> advance_watermark, then either ends (nothing staged) or fans out one review
branch per staged candidate, each waiting in an interrupt until a reviewer decides. Each test runs the
compiled graph and checks the counters, what was staged and what the reviews did. The unit tier runs them
in memory; tests/integration/test_mining_graph_edges_on_postgres.py runs the review ones (marked `checkpoints`)
again on Postgres.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from core.graph_runtime.checkpoints import checkpoint_serializer
from faq_mining.graph import build_mining_graph
from faq_mining.nodes.context import MiningContext
from faq_mining.state import CHECKPOINT_TYPES, InlineTicket, MiningRequest, MiningStats, ReviewDecision
from faq_mining.ticket_source import ResolvedTicket
from tests.fakes import (
    HashingEmbedder,
    MemoryCandidateStore,
    MemoryReviewer,
    MemoryTicketSource,
    MemoryWatermarks,
    RecordingChatModel,
)

pytestmark = pytest.mark.parametrize("checkpointer", ["memory"], indirect=True)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
VPN_NOTES = "Update the VPN client to version 5.2 and disable the power saving mode of the network adapter."
VPN = [
    "The VPN client disconnects every ten minutes on my Windows 11 laptop.",
    "The VPN client disconnects every ten minutes on our Windows 11 laptops.",
]
INVOICE_NOTES = "Invoices are under Billing > History in the admin console; each row has a Download PDF button."
INVOICE = ["Where can I download the PDF invoice of last month's subscription?"]


def tickets(bodies: list[str], notes: str, prefix: str) -> list[InlineTicket]:
    return [InlineTicket(id=f"{prefix}-{n}", body=body, closurenotes=notes) for n, body in enumerate(bodies)]


def analysis(action: str, **fields: Any) -> str:
    """A FaqAnalysis reply of the fake chat model."""
    return json.dumps({"action": action, "question": "", "answer": "", "tags": [], "reason": "r"} | fields)


@pytest.fixture
def checkpoint_serde() -> JsonPlusSerializer:
    """The mining graph's own allow-list, so a state type missing from it fails here."""
    return checkpoint_serializer(CHECKPOINT_TYPES)


class Miner:
    """The mining graph compiled on a checkpointer, with in-memory stores: what MiningService does, minus Postgres."""

    def __init__(self, checkpointer: BaseCheckpointSaver[Any], **context: Any) -> None:
        self.store = MemoryCandidateStore()
        self.source = MemoryTicketSource()
        self.watermarks = MemoryWatermarks()
        self.embedder = HashingEmbedder()
        self.context = MiningContext(
            source=self.source,
            watermarks=self.watermarks,
            store=self.store,
            review=MemoryReviewer(self.store),
            embedder=self.embedder,
            llm_backoff_s=0.0,
            clock=lambda: NOW,
            **context,
        )
        self.graph: CompiledStateGraph[Any, Any, Any, Any] = build_mining_graph().compile(checkpointer=checkpointer)

    def mine(self, run_id: str, inline: list[InlineTicket] | None = None) -> dict[str, Any]:
        """One run; inline tickets ride in the context, as MiningService passes them."""
        request = MiningRequest(lookback_days=30)
        context = replace(self.context, inline_tickets=inline)
        return self.graph.invoke(
            {"request": request, "run_id": run_id}, self.config(run_id), context=context, durability="sync"
        )

    def waiting(self, run_id: str) -> dict[int, str]:
        """The run's review interrupts, by staging id."""
        interrupts = self.graph.get_state(self.config(run_id)).interrupts
        return {item.value["staging_id"]: item.id for item in interrupts}

    def decide(self, run_id: str, staging_id: int, decision: str) -> dict[str, Any]:
        """Resume one candidate's review interrupt with a reviewer's decision."""
        value = ReviewDecision(decision=decision, reviewer="rev@example.com").model_dump(mode="json")  # type: ignore[arg-type]
        resume = {self.waiting(run_id)[staging_id]: value}
        return self.graph.invoke(Command(resume=resume), self.config(run_id), context=self.context, durability="sync")

    @staticmethod
    def config(run_id: str) -> Any:
        return {"configurable": {"thread_id": run_id}}


def test_a_run_that_fetches_nothing_ends_without_reviews(checkpointer: BaseCheckpointSaver[Any]) -> None:
    miner = Miner(checkpointer)
    final = miner.mine("run-empty")
    assert final["stats"] == MiningStats()
    assert final["staged"] == [] and final["watermark_advanced"] is False
    assert miner.waiting("run-empty") == {} and not miner.graph.get_state(miner.config("run-empty")).next


def test_a_run_whose_tickets_are_all_filtered_stages_nothing(checkpointer: BaseCheckpointSaver[Any]) -> None:
    miner = Miner(checkpointer)
    final = miner.mine("run-short", tickets(VPN, "Fixed.", "S"))
    assert final["stats"].processed == final["stats"].skipped_prefilter == 2
    assert final["staged"] == [] and miner.store.staged == {}


@pytest.mark.checkpoints
def test_new_candidate_waits_for_review_then_approval_promotes_it(checkpointer: BaseCheckpointSaver[Any]) -> None:
    miner = Miner(checkpointer)
    final = miner.mine("run-new", tickets(VPN, VPN_NOTES, "V"))
    assert (final["stats"].staged_new, final["stats"].staged_tickets) == (1, 2), "two paraphrases, one candidate"
    (staging_id,) = miner.waiting("run-new")
    assert miner.store.faqs == {}, "nothing is live before a person decides"

    approved = miner.decide("run-new", staging_id, "approve")
    (record,) = approved["reviews"]
    assert (record.status, record.action, record.error) == ("APPROVED", "NEW", None)
    assert record.faq_id in miner.store.faqs and "VPN" in miner.store.faqs[record.faq_id].question
    assert miner.waiting("run-new") == {} and not miner.graph.get_state(miner.config("run-new")).next


def test_rejection_ends_the_review_without_a_faq(checkpointer: BaseCheckpointSaver[Any]) -> None:
    miner = Miner(checkpointer)
    miner.mine("run-reject", tickets(VPN, VPN_NOTES, "V"))
    (staging_id,) = miner.waiting("run-reject")
    (record,) = miner.decide("run-reject", staging_id, "reject")["reviews"]
    assert record.status == "REJECTED" and record.faq_id is None
    assert miner.store.faqs == {}


@pytest.mark.checkpoints
def test_each_candidate_waits_in_its_own_branch(checkpointer: BaseCheckpointSaver[Any]) -> None:
    miner = Miner(checkpointer)
    final = miner.mine("run-two", tickets(VPN, VPN_NOTES, "V") + tickets(INVOICE, INVOICE_NOTES, "I"))
    assert final["stats"].staged_new == 2
    first, second = sorted(miner.waiting("run-two"))
    miner.decide("run-two", first, "approve")
    assert list(miner.waiting("run-two")) == [second], "approving one candidate leaves the other waiting"
    reviews = miner.decide("run-two", second, "reject")["reviews"]
    assert [(r.staging_id, r.status) for r in reviews] == [(first, "APPROVED"), (second, "REJECTED")]


@pytest.mark.checkpoints
def test_a_decision_taken_elsewhere_ends_the_branch_with_the_conflict(checkpointer: BaseCheckpointSaver[Any]) -> None:
    miner = Miner(checkpointer)
    miner.mine("run-raced", tickets(VPN, VPN_NOTES, "V"))
    (staging_id,) = miner.waiting("run-raced")
    miner.context.review.decide(staging_id, "reject", "other@example.com")
    (record,) = miner.decide("run-raced", staging_id, "approve")["reviews"]
    assert record.error_kind == "conflict" and record.status is None
    assert miner.waiting("run-raced") == {}, "the run does not stay stuck on a decision it cannot apply"


def test_tickets_already_staged_by_an_earlier_run_are_skipped(checkpointer: BaseCheckpointSaver[Any]) -> None:
    miner = Miner(checkpointer)
    miner.mine("run-a", tickets(VPN, VPN_NOTES, "V"))
    again = miner.mine("run-b", tickets(VPN, VPN_NOTES, "V"))
    assert again["stats"].skipped_duplicate == 2 and again["staged"] == []
    assert len(miner.store.staged) == 1


def test_a_group_identical_to_a_live_faq_is_skipped(checkpointer: BaseCheckpointSaver[Any]) -> None:
    miner = Miner(checkpointer)
    # The candidate question is taken from the most central ticket: the same words make the same vector.
    miner.store.add_faq(VPN[0], VPN_NOTES, miner.embedder.embed_query(VPN[0]))
    final = miner.mine("run-known", tickets(VPN[:1], VPN_NOTES, "V"))
    assert final["stats"].skipped_identical == 1 and final["staged"] == []


def test_an_analysis_that_says_skip_stages_nothing(checkpointer: BaseCheckpointSaver[Any]) -> None:
    model = RecordingChatModel(reply=lambda _: analysis("SKIP"), received=[])
    miner = Miner(checkpointer, chat_model=model)
    final = miner.mine("run-skip", tickets(VPN, VPN_NOTES, "V"))
    assert final["stats"].skipped_unsuitable == 2 and final["staged"] == []
    assert model.received, "the analysis was asked"


@pytest.mark.checkpoints
def test_a_merge_into_a_faq_the_analysis_was_shown_updates_it_on_approval(
    checkpointer: BaseCheckpointSaver[Any],
) -> None:
    shown = "Why does the VPN client disconnect every ten minutes on Windows 11?"
    merge = analysis(
        "MERGE", question=shown, answer=VPN_NOTES, tags=["vpn"], confidence=0.9, merge_target_id=1, reason="same"
    )
    miner = Miner(checkpointer, chat_model=RecordingChatModel(reply=lambda _: merge, received=[]))
    faq_id = miner.store.add_faq(shown, "Restart the client.", miner.embedder.embed_query(shown))
    final = miner.mine("run-merge", tickets(VPN, VPN_NOTES, "V"))
    assert final["stats"].staged_merge == 1 and final["staged"][0].merge_with_id == faq_id

    (staging_id,) = miner.waiting("run-merge")
    (record,) = miner.decide("run-merge", staging_id, "approve")["reviews"]
    assert (record.action, record.faq_id, record.faq_version) == ("MERGE", faq_id, 2)
    assert miner.store.faqs[faq_id].answer == VPN_NOTES and len(miner.store.faqs) == 1


def test_a_source_run_advances_the_watermark_and_the_next_starts_after_it(
    checkpointer: BaseCheckpointSaver[Any],
) -> None:
    miner = Miner(checkpointer)
    closed = NOW - timedelta(days=1)
    miner.source.tickets = [
        ResolvedTicket(
            id=f"C-{n}", body=body, closurenotes=VPN_NOTES, status="Closed", closed_at=closed, arrived_at=closed
        )
        for n, body in enumerate(VPN)
    ]
    first = miner.mine("run-source-1")
    assert first["watermark_advanced"] is True and first["stats"].processed == 2
    assert miner.watermarks.load(miner.source.name) == miner.source.tickets[-1].cursor

    second = miner.mine("run-source-2")
    assert second["stats"].processed == 0 and second["watermark_advanced"] is False
