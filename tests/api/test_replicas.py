"""Two API replicas over one Postgres behave like one: each has its own pools, runner and event broker.

A ticket created on one is read, listed and resumed on the other; the other's /events follows a run it is not
running by polling the checkpoint; the same feedback sent to both at once resumes the thread once.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.database import Database
from core.services import Services
from core.settings import Settings
from graph.factory import ticket_context
from graph.ticket_service import TicketService
from tests.api.test_metrics_and_events import SlowRetriever
from tests.api.test_tickets import REFUND_TICKET, refund_article, sse_events

__all__ = ["refund_article"]  # the fixture, imported for these tests


@pytest.fixture
def second_services(services: Services) -> Iterator[Services]:
    """Another process's view of the same database: its own connection pools, the session's model and chdb."""
    other = Services(services.settings, Database.open(services.settings))
    other.embedder = services.embedder
    other.__dict__["clickhouse"] = services.clickhouse
    yield other
    other.close()


@pytest.fixture
def replicas(
    api_settings: Settings, services: Services, second_services: Services
) -> Iterator[tuple[TestClient, TestClient]]:
    """Replica one and replica two, started like two `doxa serve` processes on one DOXA_DATABASE_URL."""
    polling = api_settings.model_copy(update={"api_events_poll_s": 0.05})
    with (
        TestClient(create_app(polling, services)) as one,
        TestClient(create_app(polling, second_services)) as two,
    ):
        assert one.app.state.ticket_runner is not two.app.state.ticket_runner  # type: ignore[attr-defined]
        yield one, two


def test_a_ticket_created_on_one_replica_is_read_and_resumed_on_the_other(
    replicas: tuple[TestClient, TestClient], agent: dict[str, str], refund_article: None
) -> None:
    one, two = replicas
    created = one.post("/tickets", json=REFUND_TICKET | {"id": "REP-1"}, headers=agent)
    assert created.status_code == 201, created.text
    assert created.json()["waiting_for_feedback"] is True

    seen = two.get("/tickets/REP-1", headers=agent)
    assert seen.status_code == 200
    assert seen.json()["waiting_for_feedback"] is True and seen.json()["running"] is False
    listed = two.get("/tickets", params={"status": "answered"}, headers=agent).json()
    assert [row["id"] for row in listed["items"]] == ["REP-1"]

    closed = two.post("/tickets/REP-1/feedback", json={"satisfied": True}, headers=agent)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert one.get("/tickets/REP-1", headers=agent).json()["status"] == "closed"
    again = one.post("/tickets/REP-1/feedback", json={"satisfied": False, "comment": "late"}, headers=agent)
    assert again.status_code == 409
    # An id taken on one replica is taken on the other.
    assert two.post("/tickets", json=REFUND_TICKET | {"id": "REP-1"}, headers=agent).status_code == 409


def test_the_same_feedback_sent_to_both_replicas_at_once_resumes_the_thread_once(
    replicas: tuple[TestClient, TestClient], agent: dict[str, str], refund_article: None
) -> None:
    one, two = replicas
    assert one.post("/tickets", json=REFUND_TICKET | {"id": "REP-2"}, headers=agent).status_code == 201
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(
            pool.map(
                lambda client: client.post("/tickets/REP-2/feedback", json={"satisfied": True}, headers=agent),
                (one, two),
            )
        )
    assert sorted(answer.status_code for answer in answers) == [200, 409], [answer.text for answer in answers]
    details = two.get("/tickets/REP-2", headers=agent).json()
    assert details["status"] == "closed", details


def test_events_on_the_other_replica_follow_the_run_by_polling(
    api_settings: Settings, services: Services, second_services: Services, agent: dict[str, str], refund_article: None
) -> None:
    context = ticket_context(services)
    slow = replace(context, retriever=SlowRetriever(context.retriever, 1.0))
    slow_service = TicketService(slow, TicketService.postgres_checkpointer(context.tickets), context.tickets)
    polling = api_settings.model_copy(update={"api_events_poll_s": 0.05})
    with (
        TestClient(create_app(polling, services, ticket_service=slow_service)) as one,
        TestClient(create_app(polling, second_services)) as two,
    ):
        accepted = one.post("/tickets", params={"async": "true"}, json=REFUND_TICKET | {"id": "REP-3"}, headers=agent)
        assert accepted.status_code == 202, accepted.text
        assert two.get("/tickets/REP-3", headers=agent).json()["running"] is True
        stream = two.get("/tickets/REP-3/events", headers=agent)

    assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
    events = sse_events(stream.text)
    nodes = [data for kind, data in events if kind == "node"]
    assert nodes and all(node["source"] == "checkpoint" for node in nodes)  # not replica one's live broker
    names = [node["node"] for node in nodes]
    assert names[0] == "validate" and "find_solution" in names and len(names) == len(set(names)), events
    assert events[-1][0] == "end"
    assert events[-1][1]["thread_id"] == "REP-3" and events[-1][1]["waiting_for_feedback"] is True, events
