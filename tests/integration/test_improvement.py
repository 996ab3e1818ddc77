"""The improvement report, escalation resolution and the export of resolutions to the FAQ miner's source.

Real Postgres (a fresh database per test), the session's chdb engine (a fresh ClickHouse database per
test) and the real embedding model.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from core.clickhouse import ClickHouse
from core.database import Database
from core.embeddings import Embedder
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.services import Services
from faq_mining.ticket_source import TicketSource
from graph.ticket_store import TicketRow, TicketStore
from ops.escalation_export import export_escalation, export_resolved_to_ticket_source
from ops.improvement import improvement_report, parse_since
from state.records import EscalationRecord, KbGap
from tests.fakes import CannedRetriever
from tests.integration.test_ticket_graph import PASSWORD_TICKET, make_service

PASSWORD_GAPS = [
    "How do I reset my password when the reset e-mail never arrives?",
    "The password reset email does not arrive, how can I reset my password?",
    "I never receive the password reset e-mail; how do I reset my password?",
]
INVOICE_GAPS = [
    "How can I download an invoice for my last payment?",
    "Where can I download the invoice of my last payment?",
]
CHANGE_PASSWORD = "How do I change my password?"  # close to the reset topic (cosine ~0.7), yet another question


def seed_ticket(
    store: TicketStore,
    ticket_id: str,
    status: str,
    *,
    category: str | None = None,
    team: str | None = None,
    reason: str = "escalated",
    body: str = "The reset page does not send me any link.",
) -> str | None:
    store.save(TicketRow(ticket_id, f"Subject {ticket_id}", None, status, "medium", category, 1, False, None))
    if team is None:
        return None
    context = {"ticket": {"subject": f"Subject {ticket_id}", "body": body}, "attempt": 1}
    record = EscalationRecord(f"ESC-{ticket_id}", ticket_id, team, reason, "medium", category, [], context)
    return store.open_escalation(record)


def seed_gap(store: TicketStore, ticket_id: str, reformulation: str, category: str, similarity: float) -> None:
    store.record_gap(
        KbGap(
            ticket_id=ticket_id,
            attempt=1,
            category=category,
            reformulation=reformulation,
            max_similarity=similarity,
            outcome="escalated",
        )
    )


def backdate(db: Database, ticket_id: str, days: int) -> None:
    with db.transaction() as conn:
        for table, column in (("ticket", "id"), ("escalation", "ticket_id"), ("kb_gap", "ticket_id")):
            conn.execute(
                f"UPDATE {table} SET created_at = now() - make_interval(days => %s) WHERE {column} = %s",
                (days, ticket_id),
            )


@pytest.fixture
def ticket_source(clickhouse: ClickHouse) -> Iterator[TicketSource]:
    """The FAQ miner's source in a fresh ClickHouse database, dropped afterwards."""
    source = TicketSource(clickhouse, database=f"ticketing_{uuid.uuid4().hex[:12]}")
    yield source
    clickhouse.command(f"DROP DATABASE IF EXISTS {source.database}")


def test_report_counts_escalations_by_category_team_and_reason(db: Database) -> None:
    store = TicketStore(db)
    seed_ticket(
        store,
        "T-1",
        "escalated",
        category="authentification",
        team="identity",
        reason="confidence 0.41 is below 0.55; the knowledge base has no answer",
    )
    seed_ticket(
        store, "T-2", "escalated", category="authentification", team="identity", reason="confidence 0.30 is below 0.55"
    )
    seed_ticket(store, "T-3", "escalated", category="facturation", team="billing", reason="not solved after 2 attempts")
    seed_ticket(store, "T-4", "answered", category="technique")
    seed_ticket(store, "T-5", "closed", category="technique")

    report = improvement_report(db, None)

    assert (report.tickets, report.escalated_tickets, report.escalations) == (5, 3, 3)
    assert report.tickets_by_status == {"answered": 1, "closed": 1, "escalated": 3}
    assert report.escalation_rate == 0.6
    assert [(c.name, c.count, c.share) for c in report.escalations_by_category] == [
        ("authentification", 2, 0.6667),
        ("facturation", 1, 0.3333),
    ]
    assert [(c.name, c.count) for c in report.escalations_by_team] == [("identity", 2), ("billing", 1)]
    assert [(c.name, c.count) for c in report.top_reasons] == [
        ("confidence N is below N", 2),
        ("not solved after N attempts", 1),
        ("the knowledge base has no answer", 1),
    ]
    assert report.gaps == [] and report.recommendations == []


def test_report_on_an_empty_database_has_no_rate(db: Database) -> None:
    report = improvement_report(db, None)
    assert report.tickets == 0 and report.escalation_rate is None
    assert "Nothing to add" in report.to_markdown()


def test_gap_grouping_merges_paraphrases_and_keeps_distinct_topics_apart(db: Database, embedder: Embedder) -> None:
    store = TicketStore(db)
    for number, text in enumerate(PASSWORD_GAPS):
        seed_gap(store, f"P-{number}", text, "authentification", 0.40 + number / 100)
    for number, text in enumerate(INVOICE_GAPS):
        seed_gap(store, f"I-{number}", text, "facturation", 0.30)
    seed_gap(store, "C-0", CHANGE_PASSWORD, "authentification", 0.55)
    seed_gap(store, "E-0", "How do I export my data to a CSV file?", "technique", 0.20)

    report = improvement_report(db, None, embedder=embedder)

    assert report.gap_grouping == "embeddings" and len(report.gaps) == 7
    assert [(t.tickets, t.category) for t in report.gap_topics] == [
        (3, "authentification"),
        (2, "facturation"),
        (1, "authentification"),
        (1, "technique"),
    ]
    password = report.gap_topics[0]
    assert password.question in PASSWORD_GAPS and set(password.variants) | {password.question} == set(PASSWORD_GAPS)
    assert password.example_ticket_ids == ["P-0", "P-1", "P-2"] and password.best_similarity == 0.42
    assert report.gap_topics[2].question == CHANGE_PASSWORD
    first = report.recommendations[0]
    assert first.action == f"add a KB article answering: {password.question}"
    assert (first.category, first.tickets, first.best_similarity) == ("authentification", 3, 0.42)
    assert [r.tickets for r in improvement_report(db, None, top=2, embedder=embedder).recommendations] == [3, 2]


def test_without_an_embedder_only_identical_reformulations_merge(db: Database) -> None:
    store = TicketStore(db)
    seed_gap(store, "A", PASSWORD_GAPS[0], "authentification", 0.4)
    seed_gap(store, "B", "  " + PASSWORD_GAPS[0].upper(), "authentification", 0.5)
    seed_gap(store, "C", PASSWORD_GAPS[1], "authentification", 0.4)

    report = improvement_report(db, None)

    assert report.gap_grouping == "exact"
    assert [(t.tickets, t.best_similarity) for t in report.gap_topics] == [(2, 0.5), (1, 0.4)]


def test_the_agents_proposed_article_reaches_the_recommendation(db: Database) -> None:
    store = TicketStore(db)
    seed_gap(store, "A", PASSWORD_GAPS[0], "authentification", 0.4)
    store.record_gap(
        KbGap(
            ticket_id="B",
            attempt=1,
            category="authentification",
            reformulation=PASSWORD_GAPS[0],
            max_similarity=0.3,
            outcome="escalated",
            suggested_title="Reset e-mail not arriving",
            suggested_outline=["Check the spam folder", "Resend after 10 minutes"],
        )
    )

    report = improvement_report(db, None)
    markdown = report.to_markdown()

    (recommendation,) = report.recommendations
    assert recommendation.title == "Reset e-mail not arriving"
    assert recommendation.outline == ["Check the spam folder", "Resend after 10 minutes"]
    assert "   - proposed title: Reset e-mail not arriving" in markdown
    assert "   - Resend after 10 minutes" in markdown


def test_since_keeps_only_the_window(db: Database) -> None:
    store = TicketStore(db)
    seed_ticket(store, "OLD", "escalated", category="facturation", team="billing")
    seed_gap(store, "OLD", INVOICE_GAPS[0], "facturation", 0.3)
    seed_ticket(store, "NEW", "escalated", category="authentification", team="identity")
    seed_gap(store, "NEW", PASSWORD_GAPS[0], "authentification", 0.4)
    backdate(db, "OLD", days=30)

    recent = improvement_report(db, parse_since("7d"))
    everything = improvement_report(db, None)

    assert (recent.tickets, recent.escalations) == (1, 1)
    assert [c.name for c in recent.escalations_by_category] == ["authentification"]
    assert [g.ticket_id for g in recent.gaps] == ["NEW"]
    assert (everything.tickets, len(everything.gaps)) == (2, 2)


def test_markdown_has_every_section_and_json_round_trips(db: Database) -> None:
    store = TicketStore(db)
    seed_ticket(store, "T-1", "escalated", category="authentification", team="identity", reason="a | b")
    seed_gap(store, "T-1", PASSWORD_GAPS[0], "authentification", 0.4)

    report = improvement_report(db, parse_since("2026-01-01"))
    markdown = report.to_markdown()
    for section in (
        "# Doxa improvement report (since 2026-01-01 00:00 UTC)",
        "## Tickets",
        "## Escalations by category",
        "## Escalations by team",
        "## Escalation reasons",
        "## KB gaps",
        "## Recommendations",
    ):
        assert section in markdown
    assert f"1. add a KB article answering: {PASSWORD_GAPS[0]}" in markdown
    assert "| a \\| b | 1 | 100.0% |" in markdown

    shape = json.loads(report.to_json())
    assert set(shape) >= {
        "since",
        "tickets",
        "tickets_by_status",
        "escalation_rate",
        "escalations_by_category",
        "escalations_by_team",
        "top_reasons",
        "gaps",
        "gap_topics",
        "recommendations",
    }
    assert shape["escalations_by_category"] == [{"name": "authentification", "count": 1, "share": 1.0}]
    assert shape["gaps"][0]["reformulation"] == PASSWORD_GAPS[0]
    assert set(shape["recommendations"][0]) == {
        "action",
        "question",
        "category",
        "tickets",
        "example_ticket_ids",
        "best_similarity",
        "title",
        "outline",
    }


def test_parse_since_takes_relative_spans_and_iso_dates() -> None:
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert parse_since("7d", now=now) == now - timedelta(days=7)
    assert parse_since("12h", now=now) == now - timedelta(hours=12)
    assert parse_since("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(InvalidInputError):
        parse_since("last week")


def test_resolve_records_the_resolution_once(db: Database) -> None:
    store = TicketStore(db)
    escalation_id = seed_ticket(store, "T-1", "escalated", category="authentification", team="identity")
    assert escalation_id

    record = store.resolve_escalation(escalation_id, "Re-sent the link from the admin console.", "marie")

    assert record["status"] == "resolved" and record["resolved_at"] is not None
    assert record["resolution"] == "Re-sent the link from the admin console."
    assert record["resolved_by"] == "marie"
    with pytest.raises(ConflictError):
        store.resolve_escalation(escalation_id, "again", "paul")
    with pytest.raises(NotFoundError):
        store.resolve_escalation("ESC-unknown", "text", None)
    with pytest.raises(InvalidInputError):
        store.resolve_escalation(escalation_id, "   ", None)


def test_export_puts_resolved_escalations_in_the_ticket_source_once(db: Database, ticket_source: TicketSource) -> None:
    store = TicketStore(db)
    resolved = seed_ticket(
        store,
        "T-1",
        "escalated",
        category="facturation",
        team="billing",
        body="Charged twice, card 4111 1111 1111 1111.",
    )
    seed_ticket(store, "T-2", "escalated", category="facturation", team="billing")  # still open: not exported
    assert resolved
    store.resolve_escalation(resolved, "Refunded the duplicate charge.", "marie")

    for _ in range(2):
        report = export_resolved_to_ticket_source(db, ticket_source, None)
        assert (report.imported, report.rejected) == (1, 0)

    page = ticket_source.fetch_resolved(None, None, limit=10)
    assert len(page.tickets) == 1, "a re-export replaces the row instead of adding one"
    ticket = page.tickets[0]
    assert (ticket.id, ticket.subject, ticket.status, ticket.category) == (
        "T-1",
        "Subject T-1",
        "Resolved",
        "facturation",
    )
    assert ticket.closurenotes == "Refunded the duplicate charge."
    assert ticket.body == "Charged twice, card [CARD]."
    assert ticket.closed_at == store.escalation(resolved)["resolved_at"]  # type: ignore[index]
    assert export_resolved_to_ticket_source(db, ticket_source, datetime.now(UTC) + timedelta(hours=1)).imported == 0
    with pytest.raises(NotFoundError):
        export_escalation(db, ticket_source, "ESC-T-2")


def test_an_escalated_thread_resolved_by_a_person_reaches_the_faq_source(
    services: Services, ticket_source: TicketSource
) -> None:
    outcome = make_service(services, CannedRetriever(similarity=0.3)).run(PASSWORD_TICKET)
    assert outcome.status == "escalated" and outcome.escalation_id
    store = TicketStore(services.db)
    assert store.escalation(outcome.escalation_id)["context"]["ticket"] == {  # type: ignore[index]
        "subject": PASSWORD_TICKET.subject,
        "body": PASSWORD_TICKET.body,
    }
    report = improvement_report(services.db, None, embedder=services.embedder)
    assert report.escalated_tickets == 1 and report.gap_topics[0].example_ticket_ids == ["T-100"]

    store.resolve_escalation(outcome.escalation_id, "Sent a reset link by SMS.", "marie")
    assert export_escalation(services.db, ticket_source, outcome.escalation_id).imported == 1

    (ticket,) = ticket_source.fetch_resolved(None, None, limit=10).tickets
    assert (ticket.id, ticket.subject, ticket.closurenotes) == (
        "T-100",
        PASSWORD_TICKET.subject,
        "Sent a reset link by SMS.",
    )
    assert ticket.body == PASSWORD_TICKET.body
