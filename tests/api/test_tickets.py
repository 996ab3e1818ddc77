"""Ticket endpoints on the real app, the real ticket graph (offline LLM backend) and the embedded Postgres."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.services import Services
from kb.ingest import KnowledgeBaseIngestor
from tests.api.conftest import bearer

REFUND_TICKET = {
    "subject": "Charged twice for my subscription",
    "body": "I was charged twice this month for the same invoice. How do I get a refund for the double charge?",
    "customer_email": "jane@example.com",
    "customer_name": "Jane",
}


@pytest.fixture
def refund_article(services: Services, tmp_path: Path) -> None:
    """A help-centre article that answers REFUND_TICKET confidently."""
    doc = tmp_path / "billing.md"
    doc.write_text(
        "# Billing\n\n## Refunds for a double charge\n\nIf you were charged twice for the same invoice, a refund for "
        "the double charge is issued within five working days, to the card that was charged. Open Billing > "
        "Invoices, select the duplicate invoice and choose Request refund.\n",
        encoding="utf-8",
    )
    KnowledgeBaseIngestor.from_services(services).run([doc], category="facturation")


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_post_ticket_runs_the_graph_and_returns_the_outcome(
    client: TestClient, agent: dict[str, str], refund_article: None
) -> None:
    created = client.post("/tickets", json=REFUND_TICKET | {"id": "API-1"}, headers=agent)
    assert created.status_code == 201, created.text
    outcome = created.json()
    assert created.headers["location"] == "/tickets/API-1"
    assert outcome["thread_id"] == "API-1"
    assert outcome["status"] == "answered"
    assert outcome["waiting_for_feedback"] is True
    assert outcome["kb_confident"] is True
    assert outcome["email"]["subject"] and outcome["email"]["body"]
    assert outcome["path"][0] == "validate" and "send_email" in outcome["path"]
    assert "values" not in outcome

    details = client.get("/tickets/API-1", headers=agent).json()
    assert details["ticket"]["customer_email"] == "jane@example.com"
    assert details["analysis"]["reformulation"]
    assert details["classification"]["primary_category"] == outcome["category"]
    assert [email["ticket_id"] for email in details["emails"]] == ["API-1"]
    assert details["running"] is False
    detail_text = client.get("/tickets/API-1", headers=agent).text
    assert "billing.md" not in created.text and "billing.md" not in detail_text, "no server path in API answers"


def test_feedback_resumes_a_waiting_thread_and_a_second_feedback_conflicts(
    client: TestClient, agent: dict[str, str], refund_article: None
) -> None:
    assert client.post("/tickets", json=REFUND_TICKET | {"id": "API-2"}, headers=agent).status_code == 201
    closed = client.post("/tickets/API-2/feedback", json={"satisfied": True}, headers=agent)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    again = client.post("/tickets/API-2/feedback", json={"satisfied": False, "comment": "no"}, headers=agent)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert client.post("/tickets/NOPE/feedback", json={"satisfied": True}, headers=agent).status_code == 404


def test_duplicate_id_is_a_409_and_unknown_ticket_a_404(
    client: TestClient, agent: dict[str, str], refund_article: None
) -> None:
    assert client.post("/tickets", json=REFUND_TICKET | {"id": "DUP-1"}, headers=agent).status_code == 201
    duplicate = client.post("/tickets", json=REFUND_TICKET | {"id": "DUP-1"}, headers=agent)
    assert duplicate.status_code == 409
    assert "DUP-1" in duplicate.json()["detail"]
    missing = client.get("/tickets/NOT-THERE", headers=agent)
    assert missing.status_code == 404
    assert missing.json()["status"] == 404


def test_list_filters_by_status_and_validates_its_query(
    client: TestClient, agent: dict[str, str], refund_article: None
) -> None:
    client.post("/tickets", json=REFUND_TICKET | {"id": "L-1"}, headers=agent)
    client.post("/tickets", json={"subject": "hi", "body": "?", "id": "L-2"}, headers=agent)
    waiting = client.get("/tickets", params={"status": "answered"}, headers=agent).json()
    assert [row["id"] for row in waiting["items"]] == ["L-1"]
    everything = client.get("/tickets", params={"limit": 1, "offset": 0}, headers=agent).json()
    assert len(everything["items"]) == 1 and everything["limit"] == 1
    assert client.get("/tickets", params={"status": "lost"}, headers=agent).status_code == 422
    assert client.get("/tickets", params={"limit": 0}, headers=agent).status_code == 422
    assert client.get("/tickets", params={"limit": 1001}, headers=agent).status_code == 422
    assert client.get("/tickets", params={"offset": -1}, headers=agent).status_code == 422


def test_oversized_and_malformed_bodies_are_4xx_never_5xx(client: TestClient, agent: dict[str, str]) -> None:
    huge = client.post("/tickets", json={"subject": "big", "body": "x" * 1_000_000}, headers=agent)
    assert huge.status_code == 413
    assert huge.headers["content-type"].startswith("application/problem+json")
    too_long = client.post("/tickets", json={"subject": "s" * 301, "body": "b" * 20_001}, headers=agent)
    assert too_long.status_code == 422
    assert {tuple(error["loc"]) for error in too_long.json()["errors"]} == {("body", "subject"), ("body", "body")}
    assert client.post("/tickets", json={"subject": "x", "body": "y", "extra": 1}, headers=agent).status_code == 422
    assert client.post("/tickets", json={"subject": "\x00\x01", "body": "y"}, headers=agent).status_code == 422
    bad_json = client.post("/tickets", content=b"{not json", headers=agent | {"content-type": "application/json"})
    assert bad_json.status_code == 422
    assert client.get("/tickets/a%20b", headers=agent).status_code == 422


def test_control_characters_are_stripped_from_ticket_text(
    client: TestClient, agent: dict[str, str], refund_article: None
) -> None:
    ticket = REFUND_TICKET | {"id": "CTL-1", "subject": "Charged\x00 twice\r\nagain", "body": "Refund\x07 please\n"}
    assert client.post("/tickets", json=ticket, headers=agent).status_code == 201
    stored = client.get("/tickets/CTL-1", headers=agent).json()["ticket"]
    assert stored["subject"] == "Charged twice again"
    assert stored["body"] == "Refund please"


def test_async_submission_is_accepted_then_completes_and_streams_its_nodes(
    client: TestClient, agent: dict[str, str], refund_article: None
) -> None:
    accepted = client.post("/tickets", params={"async": "true"}, json=REFUND_TICKET | {"id": "ASY-1"}, headers=agent)
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["location"] == "/tickets/ASY-1"
    # The stream ends when the thread waits for feedback, whether it follows the run live or from its checkpoint.
    stream = client.get("/tickets/ASY-1/events", headers=agent)
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    events = sse_events(stream.text)
    nodes = [data["node"] for kind, data in events if kind == "node"]
    assert nodes[:3] == ["validate", "score", "analyze"]
    assert events[-1][0] == "end" and events[-1][1]["waiting_for_feedback"] is True
    assert client.get("/tickets/ASY-1", headers=agent).json()["waiting_for_feedback"] is True


def test_events_of_an_unknown_ticket_are_a_404(client: TestClient, agent: dict[str, str]) -> None:
    assert client.get("/tickets/NOPE/events", headers=agent).status_code == 404


def test_reviewer_reads_tickets_but_cannot_create_them(client: TestClient) -> None:
    reviewer = bearer("rita", ["reviewer"])
    assert client.get("/tickets", headers=reviewer).status_code == 200
    refused = client.post("/tickets", json={"subject": "x", "body": "y"}, headers=reviewer)
    assert refused.status_code == 403
    assert "agent" in refused.json()["detail"]
