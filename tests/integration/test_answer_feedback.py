"""The answer-feedback store: labels per answer, idempotent verdicts, counts per FAQ and article."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.database import Database
from core.errors import InvalidInputError
from core.services import Services
from graph.ticket_store import TicketStore
from kb.answer_feedback import AnswerFeedbackStore
from ops.improvement import improvement_report
from state.records import EscalationRecord, SentAnswer
from state.ticket import CustomerFeedback
from tests.fakes import CannedRetriever
from tests.integration.test_ticket_graph import PASSWORD_TICKET, make_service

# An answer built on a passage of the proxy article, and one built on FAQ #7.
PROXY_ANSWER = SentAnswer(
    ticket_id="T-1",
    attempt=1,
    query="q",
    source_kind="chunk",
    source_id="c1",
    title="Proxy refusing",
    document_id="doc-proxy",
)
FAQ_ANSWER = SentAnswer(ticket_id="T-2", attempt=1, query="q", source_kind="faq", source_id="7", title="FAQ #7")


def test_a_verdict_becomes_a_label_once(db: Database) -> None:
    store = AnswerFeedbackStore(db)
    answer = replace(PROXY_ANSWER, query="proxy refuses", kb_confident=True)
    assert store.record_answer(answer) and not store.labels()  # an answer without a verdict is no label yet
    assert store.record(answer, satisfied=False, outcome="retry")
    # a resumed node records again: the first verdict stays
    assert not store.record(answer, satisfied=True, outcome="closed")
    [label] = store.labels()
    assert (label.query, label.source_kind, label.source_id, label.satisfied) == ("proxy refuses", "chunk", "c1", False)
    assert store.labels(since=datetime.now(UTC) + timedelta(minutes=1)) == []


def test_counts_per_faq_and_per_article(db: Database) -> None:
    store = AnswerFeedbackStore(db)
    for attempt, (chunk, satisfied, outcome) in enumerate(
        [("c1", False, "retry"), ("c2", False, "escalated")], start=1
    ):
        answer = replace(PROXY_ANSWER, attempt=attempt, source_id=chunk)
        store.record_answer(answer)
        store.record(answer, satisfied=satisfied, outcome=outcome)  # type: ignore[arg-type]
    store.record(replace(FAQ_ANSWER, kb_confident=True), satisfied=True, outcome="closed")
    store.record_answer(replace(FAQ_ANSWER, ticket_id="T-3"))
    stats = {(s.source_kind, s.source_id): s for s in store.source_stats()}
    article, faq = stats[("chunk", "doc-proxy")], stats[("faq", "7")]
    assert (article.answers, article.with_feedback, article.not_satisfied, article.escalated_after) == (2, 2, 2, 1)
    assert article.satisfaction == 0.0 and article.deflection == 0.5
    assert (faq.answers, faq.confident_answers, faq.with_feedback, faq.satisfied) == (2, 1, 1, 1)
    assert faq.satisfaction == 1.0


def test_a_retry_that_ends_with_a_person_counts_as_escalated_after_its_answer(db: Database) -> None:
    store = AnswerFeedbackStore(db)
    retried = replace(PROXY_ANSWER, ticket_id="T-9")
    store.record(retried, satisfied=False, outcome="retry")
    answered_again = replace(PROXY_ANSWER, ticket_id="T-10")
    store.record(answered_again, satisfied=False, outcome="retry")
    store.record_answer(replace(answered_again, attempt=2, source_id="c2"))

    def escalated_after() -> int:
        (article,) = store.source_stats()
        return article.escalated_after

    assert escalated_after() == 0  # both tickets are still being worked on
    tickets = TicketStore(db)
    for ticket_id in ("T-9", "T-10"):
        tickets.open_escalation(
            EscalationRecord(f"ESC-{ticket_id}", ticket_id, "support", "retry found nothing", None, None, [], {})
        )

    # T-9's retry found nothing new and went to a person; T-10's retry sent another answer first.
    assert escalated_after() == 1


def test_an_unusable_row_is_refused(db: Database) -> None:
    store = AnswerFeedbackStore(db)
    with pytest.raises(InvalidInputError):
        store.record(replace(PROXY_ANSWER, source_kind="article"), satisfied=True, outcome="closed")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        store.record_answer(replace(FAQ_ANSWER, ticket_id="T-1", query="  "))


def test_the_ticket_graph_records_each_verdict_as_a_label(services: Services) -> None:
    """A 'satisfied' click whose comment says it still fails is a negative label and a retry, not a close."""
    store = AnswerFeedbackStore(services.db)
    service = make_service(services, CannedRetriever(similarity=0.9))
    service.context = replace(service.context, answers=store)
    service.run(PASSWORD_TICKET)
    retried = service.feedback("T-100", CustomerFeedback(satisfied=True, comment="no it still does not work"))
    assert retried.status in {"answered", "awaiting_feedback"} and retried.attempt == 2
    closed = service.feedback("T-100", CustomerFeedback(satisfied=True, comment="Thanks, that fixed it"))
    assert closed.status == "closed"

    labels = store.labels()
    assert [(label.source_kind, label.source_id, label.satisfied) for label in labels] == [
        ("chunk", "c1", False),
        ("chunk", "c2", True),
    ]
    assert all(label.query for label in labels)
    [article] = store.source_stats()
    assert (article.source_id, article.answers, article.satisfied, article.not_satisfied) == ("d1", 2, 1, 1)


def test_the_improvement_report_shows_answers_per_faq_and_article(db: Database) -> None:
    store = AnswerFeedbackStore(db)
    store.record(PROXY_ANSWER, satisfied=False, outcome="escalated")
    store.record(FAQ_ANSWER, satisfied=True, outcome="closed")
    report = improvement_report(db, None)
    rows = {(row.kind, row.source_id): row for row in report.answers_by_source}
    assert rows[("article", "doc-proxy")].escalated_after == 1 and rows[("article", "doc-proxy")].deflection == 0.0
    assert rows[("faq", "7")].satisfaction == 1.0
    markdown = report.to_markdown()
    assert "## Automatic answers by FAQ and article" in markdown
    assert "| article: Proxy refusing | 1 | 0 | 1 | 0 (0%) | 1 | 0% |" in markdown


def test_the_stored_query_holds_no_personal_data(db: Database) -> None:
    store = AnswerFeedbackStore(db)
    query = "refund to card 4111.1111.1111.1111 for jane.doe at orange dot fr"
    store.record_answer(replace(PROXY_ANSWER, ticket_id="T-PII", query=query, title="Refunds", document_id=None))
    with db.connection() as conn:
        row = conn.execute("SELECT query FROM answer_feedback WHERE ticket_id = 'T-PII'").fetchone()
    assert row is not None and row["query"] == "refund to card [CARD] for [EMAIL]"
