"""The FAQ-mining steps that need no database: prefilter, redaction, the extractive analysis, routing, stats."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from langgraph.types import Send
from pydantic import ValidationError

from faq_mining.faq_store import SimilarFaq
from faq_mining.graph import route_after_watermark
from faq_mining.nodes import redact_pii as redact_pii_node
from faq_mining.nodes.context import MiningPolicy
from faq_mining.nodes.extractive import analyze_offline, best_answer, clean_text, is_informative, question_of, tags_of
from faq_mining.nodes.prefilter import passes_prefilter
from faq_mining.nodes.redact_pii import redacted_ticket
from faq_mining.state import (
    MinedTicket,
    MiningFailure,
    MiningRequest,
    MiningStats,
    ReviewRequest,
    TicketCluster,
    add_stats,
)
from text import pii

NOTES = "Update the VPN client to version 5.2 and disable the adapter's power saving mode."


def ticket(
    ticket_id: str = "T-1", body: str = "The VPN drops every ten minutes on Windows 11.", **fields: str
) -> MinedTicket:
    return MinedTicket(
        id=ticket_id,
        subject=fields.get("subject", ""),
        body=body,
        closurenotes=fields.get("closurenotes", NOTES),
        category=fields.get("category", "network"),
        subcategory1="",
        status=fields.get("status", "Closed"),
        closed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def neighbour(faq_id: int, similarity: float, origin: str = "production") -> SimilarFaq:
    return SimilarFaq(
        id=faq_id,
        origin=origin,
        question="Why does my VPN disconnect?",
        answer="Update it.",  # type: ignore[arg-type]
        tags=["vpn"],
        similarity=similarity,
    )


@pytest.mark.parametrize(
    ("changes", "passes"),
    [({}, True), ({"status": "Open"}, False), ({"body": "too short"}, False), ({"closurenotes": "fixed"}, False)],
)
def test_prefilter_checks_status_and_lengths(changes: dict[str, str], passes: bool) -> None:
    assert passes_prefilter(ticket(**changes), MiningPolicy()) is passes


def test_redaction_replaces_values_and_records_kinds_only() -> None:
    redacted = redacted_ticket(ticket(body="Hi, my card 4111 1111 1111 1111 fails, mail jo@acme.io please."))
    assert "4111" not in redacted.body and "jo@acme.io" not in redacted.body
    assert redacted.pii_kinds == ("card_number", "email")


def test_a_text_repeated_across_tickets_is_redacted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    scanned: list[str] = []

    def counting(text: str) -> pii.RedactionResult:
        scanned.append(text)
        return pii.redact_pii(text)

    note = "Reset the password for jo@acme.io from the sign-in page."
    tickets = [
        ticket(ticket_id=str(i), body=f"Locked out {i}, call +33 6 12 34 56 7{i}", closurenotes=note) for i in range(3)
    ]
    expected = [redacted_ticket(t) for t in tickets]
    monkeypatch.setattr(redact_pii_node, "redact_text", counting)
    seen: dict[str, pii.RedactionResult] = {}
    assert [redacted_ticket(t, seen) for t in tickets] == expected
    assert sorted(scanned) == sorted({t.subject for t in tickets} | {t.body for t in tickets} | {note})


def test_clean_text_drops_greetings_and_signatures() -> None:
    assert clean_text("Hello team,\nThe export fails.\n\nThanks,\nJo") == "The export fails."


@pytest.mark.parametrize(
    ("note", "informative"), [("Fixed.", False), ("closed", False), ("duplicate", False), (NOTES, True)]
)
def test_unhelpful_notes_are_recognised(note: str, informative: bool) -> None:
    assert is_informative(note) is informative


def test_the_question_is_the_subject_when_it_asks_else_the_body_tidied() -> None:
    body = "The VPN drops every ten minutes on Windows 11."
    assert question_of(ticket(subject="Re: why does my VPN drop")) == "Why does my VPN drop?"
    assert question_of(ticket(subject="Remote access")) == body  # never "Subject: body"
    assert question_of(ticket(subject="", body="hello, my VPN drops. How do I keep it connected?")) == (
        "How do I keep it connected?"
    )
    assert question_of(ticket(subject="VPN drops", body="")) == "VPN drops"


@pytest.mark.parametrize(
    ("body", "question"),
    [
        ("When I export to CSV I only get 1000 rows.", "When I export to CSV I only get 1000 rows."),
        ("Quand je clique sur Télécharger, rien ne se passe.", "Quand je clique sur Télécharger, rien ne se passe."),
        ("when does my new card arrive", "When does my new card arrive?"),
        ("Quand est-ce que ma carte arrive", "Quand est-ce que ma carte arrive?"),
    ],
)
def test_a_clause_opened_by_when_is_a_statement_not_a_question(body: str, question: str) -> None:
    assert question_of(ticket(subject="Invoices", body=body)) == question


@pytest.mark.parametrize(
    ("note", "customer_voice"),
    [
        (
            "Asked the customer to clear the browser cache and log in again.",
            "Clear the browser cache and log in again.",
        ),
        (
            "Ask the customer to restart the router. The user's account was unlocked.",
            "Restart the router. Your account was unlocked.",
        ),
        ("Customer needs to update the VPN client to 5.2.", "Update the VPN client to 5.2."),
        ("Update the VPN client to the latest version.", "Update the VPN client to the latest version."),
    ],
)
def test_answers_are_written_to_the_customer(note: str, customer_voice: str) -> None:
    assert best_answer([ticket(closurenotes=note)]) == customer_voice


def test_an_offline_merge_keeps_the_approved_answer_and_adds_what_is_new() -> None:
    target = neighbour(7, 0.9)  # answer "Update it."
    cluster = TicketCluster(tickets=[ticket("a")], question="Why does my VPN drop?", neighbours=[target])
    merge = analyze_offline(cluster, 0.8)
    assert merge.action == "MERGE" and merge.question == target.question
    assert merge.answer == f"Update it.\n\n{NOTES}"
    assert "vpn" in merge.tags
    same = replace(target, answer=NOTES)
    again = analyze_offline(replace(cluster, neighbours=[same]), 0.8)
    assert again.answer == NOTES, "a note the answer already says adds nothing"


def test_best_answer_prefers_the_longest_informative_note_of_the_central_tickets() -> None:
    longer = NOTES + " Then reboot the laptop."
    tickets = [ticket("a", closurenotes="fixed"), ticket("b"), ticket("c", closurenotes=longer)]
    assert best_answer(tickets) == longer
    assert best_answer([ticket("a", closurenotes="fixed")]) is None


def test_tags_start_with_the_category_and_skip_placeholders() -> None:
    tags = tags_of("Why does the VPN drop?", "Update the VPN client [EMAIL].", "network")
    assert tags[0] == "network" and "vpn" in tags and all(not tag.startswith("[") for tag in tags)


def test_offline_analysis_proposes_new_merge_or_skip() -> None:
    cluster = TicketCluster(tickets=[ticket("a"), ticket("b")], question="Why does my VPN drop?")
    assert analyze_offline(cluster, 0.8).action == "NEW"

    near = TicketCluster(tickets=cluster.tickets, question=cluster.question, neighbours=[neighbour(7, 0.86)])
    merge = analyze_offline(near, 0.8)
    assert (merge.action, merge.merge_target_id) == ("MERGE", 7)

    pending_only = TicketCluster(
        tickets=cluster.tickets, question=cluster.question, neighbours=[neighbour(3, 0.9, "pending")]
    )
    assert analyze_offline(pending_only, 0.8).action == "NEW"

    useless = TicketCluster(tickets=[ticket("a", closurenotes="closed")], question="q")
    assert analyze_offline(useless, 0.8).action == "SKIP"


def test_more_tickets_give_more_confidence() -> None:
    one = analyze_offline(TicketCluster(tickets=[ticket("a")], question="q?"), 0.8)
    many = analyze_offline(TicketCluster(tickets=[ticket(str(i)) for i in range(16)], question="q?"), 0.8)
    assert one.confidence < many.confidence <= 0.9


def test_stats_add_up_and_keep_failures() -> None:
    total = add_stats(
        MiningStats(processed=3, failed=1, failures=[MiningFailure(ticket_id="a", reason="x")]),
        {"staged_tickets": 2, "skipped_pii": 1},
    )
    assert (total.processed, total.staged_tickets, total.skipped_pii, total.failed) == (3, 2, 1, 1)
    assert total.accounted() == 4 and [f.ticket_id for f in total.failures] == ["a"]


def test_route_sends_one_review_per_staged_candidate() -> None:
    staged = [
        ReviewRequest(staging_id=i, action="NEW", question="q", answer="a", tags=["t"], source_count=1) for i in (4, 5)
    ]
    sends = route_after_watermark({"staged": staged, "run_id": "r"})
    assert isinstance(sends, list) and all(isinstance(send, Send) for send in sends)
    assert [send.arg["request"].staging_id for send in sends] == [4, 5]
    assert route_after_watermark({"staged": [], "run_id": "r"}) == "done"


@pytest.mark.parametrize("fields", [{"limit": 0}, {"limit": 100_001}, {"lookback_days": 0}])
def test_mining_request_bounds(fields: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        MiningRequest(**fields)
