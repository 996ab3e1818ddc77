"""Every edge of the ticket graph, on in-memory stores (tests/fakes.py) and the `checkpointer` fixture.

Each test runs the compiled graph, interrupts and resumes included, and checks the path it took and what
it left in the outbox and the records. The unit tier runs them on LangGraph's in-memory saver, in seconds;
tests/integration/test_ticket_graph_edges_on_postgres.py runs the ones whose checkpoints matter (marked
`checkpoints`) again on Postgres.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from core.graph_runtime.checkpoints import checkpoint_serializer
from graph.ticket_graph import build_ticket_graph
from graph.ticket_service import CHECKPOINT_TYPES, TicketOutcome, outcome_from_state
from nodes.context import TicketContext
from nodes.policy import TicketPolicy
from state.ticket import CustomerFeedback, TicketInput
from tests.fakes import CannedRetriever, HashingEmbedder, KeywordClassifier, MemoryOutbox, MemoryTicketRecords, passage

pytestmark = pytest.mark.parametrize("checkpointer", ["memory"], indirect=True)

CATEGORIES = ["technique", "facturation", "authentification", "feature_request", "autre"]

PASSWORD_TICKET = TicketInput(
    id="T-100",
    subject="Cannot reset my password",
    body="I forgot my password and the reset page does not send me any link. How can I log in again?",
    customer_email="ana@example.com",
    customer_name="Ana",
)
KB_PATH = ["validate", "score", "analyze", "classify", "plan", "find_solution", "evaluate"]
ANSWER = ["compose_response", "send_email"]  # then the thread waits in await_feedback


@pytest.fixture
def checkpoint_serde() -> JsonPlusSerializer:
    """The ticket graph's own allow-list, so a state type missing from it fails here."""
    return checkpoint_serializer(CHECKPOINT_TYPES)


class Desk:
    """The ticket graph compiled on a checkpointer, with in-memory stores: what TicketService does, minus Postgres."""

    def __init__(self, checkpointer: BaseCheckpointSaver[Any], *, similarity: float = 0.9, **policy: Any) -> None:
        self.outbox = MemoryOutbox()
        self.records = MemoryTicketRecords()
        self.retriever = CannedRetriever(similarity=similarity)
        self.context = TicketContext(
            embedder=HashingEmbedder(),
            retriever=self.retriever,
            classifier=KeywordClassifier(),
            categories=CATEGORIES,
            outbox=self.outbox,
            tickets=self.records,
            policy=TicketPolicy(
                kb_confidence_threshold=0.70, escalation_teams={"authentification": "identity"}, **policy
            ),
            llm_backoff_s=0,
        )
        self.graph: CompiledStateGraph[Any, Any, Any, Any] = build_ticket_graph(llm_backoff_s=0).compile(
            checkpointer=checkpointer
        )

    def run(self, ticket: TicketInput) -> TicketOutcome:
        """Start a thread and run it until it ends or waits for feedback."""
        assert ticket.id is not None
        return self._invoke(ticket.id, {"ticket": ticket})

    def feedback(self, thread_id: str, satisfied: bool, comment: str | None = None) -> TicketOutcome:
        """Resume a waiting thread with the customer's feedback."""
        assert self.waits_in(thread_id) == ("await_feedback",), "the thread waits for feedback"
        resume = CustomerFeedback(satisfied=satisfied, comment=comment).model_dump()
        return self._invoke(thread_id, Command(resume=resume))

    def waits_in(self, thread_id: str) -> tuple[str, ...]:
        """The nodes the thread's next step would run (the interrupted one when it waits)."""
        return tuple(self.graph.get_state(self._config(thread_id)).next)

    def _invoke(self, thread_id: str, value: Any) -> TicketOutcome:
        final = self.graph.invoke(value, self._config(thread_id), context=self.context, durability="sync")
        values = {key: item for key, item in final.items() if key != "__interrupt__"}
        return outcome_from_state(thread_id, values, waiting=bool(final.get("__interrupt__")))

    @staticmethod
    def _config(thread_id: str) -> Any:
        return {"configurable": {"thread_id": thread_id}}


def test_validate_to_reject_for_an_invalid_ticket(checkpointer: BaseCheckpointSaver[Any]) -> None:
    desk = Desk(checkpointer)
    outcome = desk.run(TicketInput(id="T-1", subject="help", body="??", customer_email="a@b.co"))
    assert outcome.status == "rejected" and not outcome.waiting_for_feedback
    assert outcome.path == ["validate", "reject"]
    assert desk.outbox.templates("T-1") == ["rejection"]
    assert desk.retriever.calls == []


def test_kb_path_to_an_answer_that_waits_for_feedback(checkpointer: BaseCheckpointSaver[Any]) -> None:
    desk = Desk(checkpointer, similarity=0.9)
    outcome = desk.run(PASSWORD_TICKET)
    assert outcome.waiting_for_feedback and outcome.kb_confident is True
    assert outcome.path == KB_PATH + ANSWER
    assert desk.waits_in("T-100") == ("await_feedback",)
    assert desk.retriever.calls[0]["category"] == "authentification"
    assert desk.outbox.templates("T-100") == ["auto_confident"]


class TwoArticleRetriever(CannedRetriever):
    """The password passage first, then a passage of another article the reply does not use."""

    def retrieve(self, query: str, keywords: Sequence[str], category: str | None, **options: Any) -> dict[str, Any]:
        retrieved = super().retrieve(query, keywords, category, **options)
        other = passage("c9", "TLS handshakes fail when the clock is wrong.", self.similarity - 0.1)
        other["metadata"].update(source="help/tls.md", section="TLS", title="TLS")
        return {**retrieved, "results": [retrieved["results"][0], other]}


def test_an_offline_reply_cites_only_the_passage_it_sends(checkpointer: BaseCheckpointSaver[Any]) -> None:
    desk = Desk(checkpointer, similarity=0.9)
    desk.context = replace(desk.context, retriever=TwoArticleRetriever(similarity=0.9))
    desk.run(PASSWORD_TICKET)
    (body,) = [m.body for m in desk.outbox.messages.values() if m.ticket_id == "T-100"]
    assert "Reset password" in body and "- Account > Reset" in body
    assert "TLS" not in body


@pytest.mark.checkpoints
def test_feedback_satisfied_closes(checkpointer: BaseCheckpointSaver[Any]) -> None:
    desk = Desk(checkpointer, similarity=0.9)
    desk.run(PASSWORD_TICKET)
    closed = desk.feedback("T-100", satisfied=True)
    assert closed.status == "closed" and not closed.waiting_for_feedback
    assert closed.path[-3:] == ["handle_feedback", "close", "improve"]
    assert desk.records.escalations == {}


@pytest.mark.checkpoints
def test_feedback_not_satisfied_retries_from_the_analysis_with_the_clarification(
    checkpointer: BaseCheckpointSaver[Any],
) -> None:
    desk = Desk(checkpointer, similarity=0.65)
    desk.run(PASSWORD_TICKET)
    retried = desk.feedback("T-100", satisfied=False, comment="No link arrives, even in spam.")
    assert retried.waiting_for_feedback and retried.attempt == 2
    second_attempt = retried.path[retried.path.index("handle_feedback") + 1 :]
    assert second_attempt == ["analyze", "classify", "plan", "find_solution", "evaluate", *ANSWER]
    assert desk.waits_in("T-100") == ("await_feedback",)
    assert "No link arrives" in desk.retriever.calls[-1]["query"]
    assert [call["attempt_number"] for call in desk.retriever.calls] == [1, 2]


@pytest.mark.checkpoints
def test_feedback_not_satisfied_at_the_attempt_limit_escalates(checkpointer: BaseCheckpointSaver[Any]) -> None:
    desk = Desk(checkpointer, similarity=0.65)
    desk.run(PASSWORD_TICKET)
    desk.feedback("T-100", satisfied=False, comment="No link arrives, even in spam.")
    escalated = desk.feedback("T-100", satisfied=False, comment="Still nothing.")
    assert escalated.status == "escalated" and not escalated.waiting_for_feedback
    assert escalated.path[-3:] == ["handle_feedback", "escalate", "improve"]
    assert escalated.values["feedback_decision"].action == "escalate"
    record = desk.records.escalations["T-100"]
    assert record.team == "identity" and record.context["attempt"] == 2
    assert desk.outbox.templates("T-100")[-2:] == ["team_notification", "escalation_notice"]


@pytest.mark.checkpoints
def test_a_strongly_negative_feedback_escalates_before_the_limit(checkpointer: BaseCheckpointSaver[Any]) -> None:
    desk = Desk(checkpointer, similarity=0.65)
    desk.run(PASSWORD_TICKET)
    escalated = desk.feedback("T-100", satisfied=False, comment="This is terrible, useless and awful. I am furious!")
    assert escalated.values["feedback_decision"].message == "the customer is strongly dissatisfied"
    assert escalated.status == "escalated" and escalated.attempt == 1


def test_evaluate_escalates_when_the_kb_has_no_confident_answer(checkpointer: BaseCheckpointSaver[Any]) -> None:
    desk = Desk(checkpointer, similarity=0.3)
    outcome = desk.run(PASSWORD_TICKET)
    assert outcome.status == "escalated"
    assert outcome.path == [*KB_PATH, "escalate", "improve"]
    assert desk.records.gaps, "the unanswered question is recorded as a knowledge gap"


def test_evaluate_escalates_a_ticket_carrying_a_card_number(checkpointer: BaseCheckpointSaver[Any]) -> None:
    desk = Desk(checkpointer, similarity=0.95)
    ticket = PASSWORD_TICKET.model_copy(update={"body": PASSWORD_TICKET.body + " My card is 4111 1111 1111 1111."})
    outcome = desk.run(ticket)
    assert outcome.status == "escalated" and outcome.values["evaluation"].sensitive is True
    assert outcome.path == [*KB_PATH, "escalate", "improve"]


def test_plan_sends_a_feature_request_to_the_product_queue(checkpointer: BaseCheckpointSaver[Any]) -> None:
    desk = Desk(checkpointer)
    ticket = TicketInput(id="T-7", subject="Dark mode", body="Please add a dark mode to the dashboard, my eyes hurt.")
    outcome = desk.run(ticket)
    assert outcome.values["plan"].resolution_path == "feature_queue"
    assert outcome.path == ["validate", "score", "analyze", "classify", "plan", "escalate", "improve"]
    assert desk.retriever.calls == []


def test_plan_escalates_when_the_analysis_is_not_trusted(checkpointer: BaseCheckpointSaver[Any]) -> None:
    desk = Desk(checkpointer, plan_escalate_below=1.0)
    outcome = desk.run(PASSWORD_TICKET)
    assert outcome.values["plan"].resolution_path == "escalation"
    assert outcome.path == ["validate", "score", "analyze", "classify", "plan", "escalate", "improve"]
    assert desk.retriever.calls == [] and "T-100" in desk.records.escalations


@pytest.mark.checkpoints
def test_a_thread_resumes_from_its_checkpoint_in_a_new_graph(checkpointer: BaseCheckpointSaver[Any]) -> None:
    """A restarted process compiles the graph again: the waiting thread continues from the saver alone."""
    Desk(checkpointer, similarity=0.9).run(PASSWORD_TICKET)
    restarted = Desk(checkpointer, similarity=0.9)
    closed = restarted.feedback("T-100", satisfied=True)
    assert closed.status == "closed"
    assert closed.path == [*KB_PATH, *ANSWER, "await_feedback", "handle_feedback", "close", "improve"]
