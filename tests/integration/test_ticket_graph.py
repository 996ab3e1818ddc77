"""Every edge of the ticket flowchart on the real Postgres checkpointer, offline and with fake chat models.

The knowledge base and the category classifier are replaced by small deterministic doubles behind their
protocols, so each test sets the retrieval signal it needs; the real retriever is exercised elsewhere.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from core.errors import ConflictError, NotFoundError
from core.services import Services
from graph.outbox import Outbox
from graph.ticket_service import TicketService
from graph.ticket_store import TicketStore
from nodes.context import TicketContext
from nodes.policy import TicketPolicy
from state.ticket import CustomerFeedback, TicketInput
from tests.fakes import CannedRetriever, KeywordClassifier
from tests.fakes import replies as fake_model
from tests.unit.test_ticket_graph_edges import PASSWORD_TICKET

CATEGORIES = ["technique", "facturation", "authentification", "feature_request", "autre"]


def make_service(services: Services, retriever: CannedRetriever, chat_model: Any = None) -> TicketService:
    store = TicketStore(services.db)
    context = TicketContext(
        chat_model=chat_model,
        embedder=services.embedder,
        retriever=retriever,
        classifier=KeywordClassifier(),
        categories=CATEGORIES,
        outbox=Outbox(services.db),
        tickets=store,
        policy=TicketPolicy(kb_confidence_threshold=0.70, escalation_teams={"authentification": "identity"}),
        llm_backoff_s=0,
    )
    return TicketService(context, TicketService.postgres_checkpointer(store), store)


def outbox_templates(services: Services, ticket_id: str) -> list[str]:
    return [m["template"] for m in reversed(Outbox(services.db).list(ticket_id=ticket_id))]


def test_invalid_ticket_is_rejected_with_reasons(services: Services) -> None:
    service = make_service(services, CannedRetriever())
    outcome = service.run(TicketInput(id="T-1", subject="help", body="??", customer_email="a@b.co"))
    assert outcome.status == "rejected"
    assert outcome.path == ["validate", "reject"]
    assert outcome.email and outcome.email["template"] == "rejection"
    assert "too short" in outcome.email["body"]
    assert outbox_templates(services, "T-1") == ["rejection"]


def test_confident_answer_then_satisfied_closes(services: Services) -> None:
    retriever = CannedRetriever(similarity=0.9)
    service = make_service(services, retriever)
    outcome = service.run(PASSWORD_TICKET)
    assert outcome.status == "answered" and outcome.waiting_for_feedback
    assert outcome.kb_confident is True
    assert outcome.email and outcome.email["template"] == "auto_confident"
    assert "- Account > Reset" in outcome.email["body"], "the reply cites its source by title"
    assert "help/account.md" not in outcome.email["body"], "never by its path on the server"
    assert outcome.path[:6] == ["validate", "score", "analyze", "classify", "plan", "find_solution"]
    assert retriever.calls[0]["category"] == "authentification"

    closed = service.feedback("T-100", CustomerFeedback(satisfied=True))
    assert closed.status == "closed" and not closed.waiting_for_feedback
    assert closed.path[-3:] == ["handle_feedback", "close", "improve"]
    assert service.list("closed")[0]["id"] == "T-100"


def test_not_satisfied_twice_escalates_with_kb_limit_on_the_last_attempt(services: Services) -> None:
    retriever = CannedRetriever(similarity=0.65)
    service = make_service(services, retriever)
    first = service.run(PASSWORD_TICKET)
    assert first.status == "awaiting_feedback" and first.email and first.email["template"] == "solution"

    second = service.feedback("T-100", CustomerFeedback(satisfied=False, comment="No link arrives, even in spam."))
    assert second.status == "awaiting_feedback" and second.attempt == 2
    assert "No link arrives" in retriever.calls[-1]["query"], "the retry searches with the clarification"
    assert [c["attempt_number"] for c in retriever.calls] == [1, 2]
    assert second.values["solution"].kb_limit_reached is True
    assert second.email and "spam folder" in second.email["body"], "the retry answers with another passage"

    third = service.feedback("T-100", CustomerFeedback(satisfied=False, comment="Still nothing."))
    assert third.status == "escalated" and third.escalation_id
    assert third.email and third.email["template"] == "escalation_notice"
    record = TicketStore(services.db).escalation(third.escalation_id)
    assert record and record["team"] == "identity" and record["context"]["attempt"] == 2
    assert outbox_templates(services, "T-100") == ["solution", "solution", "team_notification", "escalation_notice"]


def test_card_number_in_ticket_forces_escalation(services: Services) -> None:
    service = make_service(services, CannedRetriever(similarity=0.95))
    ticket = PASSWORD_TICKET.model_copy(
        update={"body": PASSWORD_TICKET.body + " My card is 4111 1111 1111 1111 if you need it."}
    )
    outcome = service.run(ticket)
    assert outcome.status == "escalated"
    assert "card_number" in outcome.values["evaluation"].reason
    assert outcome.values["evaluation"].sensitive is True


def test_low_kb_confidence_escalates(services: Services) -> None:
    outcome = make_service(services, CannedRetriever(similarity=0.3)).run(PASSWORD_TICKET)
    assert outcome.status == "escalated"
    assert "no answer" in outcome.values["evaluation"].reason


def test_feature_request_goes_to_the_product_queue_without_kb_search(services: Services) -> None:
    retriever = CannedRetriever()
    ticket = TicketInput(id="T-7", subject="Dark mode", body="Please add a dark mode to the dashboard, my eyes hurt.")
    outcome = make_service(services, retriever).run(ticket)
    assert outcome.status == "escalated" and outcome.values["plan"].resolution_path == "feature_queue"
    assert retriever.calls == []


def test_feedback_on_a_thread_that_is_not_waiting_is_a_conflict(services: Services) -> None:
    service = make_service(services, CannedRetriever())
    service.run(TicketInput(id="T-2", subject="help", body="??"))
    with pytest.raises(ConflictError):
        service.feedback("T-2", CustomerFeedback(satisfied=True))
    with pytest.raises(NotFoundError):
        service.feedback("T-unknown", CustomerFeedback(satisfied=True))
    with pytest.raises(ConflictError):
        service.run(TicketInput(id="T-2", subject="again", body="A second ticket with the same id must be refused."))


def test_two_accepts_of_one_new_id_at_once_start_one_thread(services: Services) -> None:
    service = make_service(services, CannedRetriever())
    ticket = TicketInput(id="T-race", subject="Login", body="I cannot log in to my account since this morning.")
    barrier = threading.Barrier(4)

    def accept() -> str:
        barrier.wait()
        try:
            return service.accept(ticket)
        except ConflictError:
            return "conflict"

    with ThreadPoolExecutor(4) as pool:
        results = sorted(pool.map(lambda _: accept(), range(4)))

    assert results.count("T-race") == 1 and results.count("conflict") == 3


def test_restart_between_run_and_feedback_resumes_the_thread(services: Services) -> None:
    make_service(services, CannedRetriever(similarity=0.9)).run(PASSWORD_TICKET)
    # A new process: new saver, new pools, same Postgres.
    restarted = Services.open(services.settings)
    restarted.embedder = services.embedder
    try:
        outcome = make_service(restarted, CannedRetriever(similarity=0.9)).feedback(
            "T-100", CustomerFeedback(satisfied=True)
        )
    finally:
        restarted.close()
    assert outcome.status == "closed"


def test_llm_answers_are_used_when_valid(services: Services) -> None:
    replies = [
        '{"valid": true, "reasons": [], "confidence": 0.95}',
        '{"score": 80, "reasoning": "a user cannot log in"}',
        '{"summary": "s", "reformulation": "How do I reset a forgotten password when no reset link arrives?",'
        ' "keywords": ["password", "reset", "link", "login", "email"]}',
        '{"primary_category": "authentification", "confidence_category": 0.9, "severity": "high",'
        ' "confidence_severity": 0.8, "treatment_type": "priority", "confidence_treatment": 0.8,'
        ' "required_skills": ["iam"], "confidence_skills": 0.7}',
        '{"resolution_path": "kb_retrieval", "next_steps": ["search the KB", "answer"],'
        ' "estimated_resolution_time": "within 2 hours"}',
        '{"answers_the_question": true, "confidence": 0.95, "escalate": false}',
        '{"answer": "Use the reset link from Settings > Security."}',
    ]
    outcome = make_service(services, CannedRetriever(0.9), fake_model(*replies)).run(PASSWORD_TICKET)
    assert outcome.fallbacks == []
    assert outcome.values["priority"].score == 80 and outcome.priority == "high"
    assert outcome.values["plan"].estimated_resolution_time == "within 2 hours"
    assert outcome.email and "Settings > Security" in outcome.email["body"]


def test_malformed_and_failing_llm_replies_fall_back_offline(services: Services) -> None:
    # Every reply is unusable: each LLM node is retried by the RetryPolicy, then falls back to its offline path,
    # and the thread still completes.
    model = fake_model(*(["not json"] * 3 + ['{"valid": "perhaps"}'] * 3 + [""] * 40))
    outcome = make_service(services, CannedRetriever(0.9), model).run(PASSWORD_TICKET)
    assert outcome.status == "answered"
    assert outcome.fallbacks == ["validate", "score", "analyze", "classify", "plan", "evaluate", "compose_response"]
    errors = outcome.values["llm_errors"]
    assert "no JSON object" in errors[0] and "does not match Priority" in errors[1] and "empty reply" in errors[2]


def test_llm_category_outside_the_taxonomy_is_replaced(services: Services) -> None:
    hacking = (
        '{"primary_category": "hacking", "confidence_category": 0.99, "severity": "low", "confidence_severity": 1,'
        ' "treatment_type": "standard", "confidence_treatment": 1, "required_skills": [], "confidence_skills": 1}'
    )
    replies = [
        '{"valid": true, "reasons": [], "confidence": 0.9}',
        '{"score": 40, "reasoning": "r"}',
        '{"summary": "s", "reformulation": "Cannot reset my password, no reset link arrives by e-mail",'
        ' "keywords": ["password", "reset", "link", "email", "login"]}',
        *[hacking] * 3,
        '{"resolution_path": "kb_retrieval", "next_steps": ["search"], "estimated_resolution_time": "soon"}',
        '{"answers_the_question": true, "confidence": 0.9, "escalate": false}',
        '{"answer": "ok"}',
    ]
    outcome = make_service(services, CannedRetriever(0.9), fake_model(*replies)).run(PASSWORD_TICKET)
    assert outcome.category == "authentification"
    assert outcome.fallbacks == ["classify"]
    assert "'hacking' is unknown" in outcome.values["llm_errors"][0]
