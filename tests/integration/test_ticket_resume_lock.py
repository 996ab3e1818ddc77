"""Resuming a thread is exclusive per thread, and concurrent resumes never starve the pools their nodes need."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from core.database import Database
from core.embeddings import Embedder, PostgresEmbeddingCache
from core.errors import ConflictError
from core.services import Services
from core.settings import Settings
from state.ticket import CustomerFeedback
from tests.fakes import CannedRetriever
from tests.integration.test_ticket_graph import PASSWORD_TICKET, make_service

NOT_SATISFIED = CustomerFeedback(satisfied=False, comment="No link arrives, even in spam.")


class GatedRetriever(CannedRetriever):
    """Once armed, holds the next `hold` searches until all of them are in flight and the test releases them."""

    def __init__(self, hold: int) -> None:
        super().__init__(similarity=0.65)
        self.hold = 0
        self.to_hold = hold
        self.in_flight = 0
        self.lock = threading.Lock()
        self.all_in_flight = threading.Event()
        self.release = threading.Event()

    def arm(self) -> None:
        self.hold = self.to_hold

    def retrieve(self, query: str, keywords: Any, category: str | None, **options: Any) -> dict[str, Any]:
        with self.lock:
            held = self.hold > 0
            if held:
                self.hold -= 1
                self.in_flight += 1
                if self.in_flight == self.to_hold:
                    self.all_in_flight.set()
        if held:
            assert self.release.wait(60), "the test never released the searches"
        return super().retrieve(query, keywords, category, **options)


def test_two_concurrent_feedbacks_on_one_thread_one_resumes_the_other_conflicts(services: Services) -> None:
    retriever = GatedRetriever(hold=1)
    service = make_service(services, retriever)
    service.run(PASSWORD_TICKET)
    retriever.arm()
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(service.feedback, "T-100", NOT_SATISFIED)
        try:
            assert retriever.all_in_flight.wait(30), "the first resume never reached its search"
            with pytest.raises(ConflictError, match="already being resumed"):
                service.feedback("T-100", NOT_SATISFIED)
        finally:
            retriever.release.set()
        resumed = first.result(timeout=60)
    assert resumed.status == "awaiting_feedback" and resumed.attempt == 2
    assert service.show("T-100").attempt == 2, "the refused feedback changed nothing"


@pytest.fixture
def two_connection_services(settings: Settings, services: Services, embedder: Embedder) -> Iterator[Services]:
    """Services on the test's database whose pools hold two connections each."""
    small = settings.model_copy(update={"db_pool_max": 2})
    db = Database.open(small, migrate=False)
    narrow = Services(small, db)
    narrow.embedder = embedder.with_cache(PostgresEmbeddingCache(db))
    yield narrow
    db.close()


def test_more_concurrent_resumes_than_pooled_connections_all_complete(two_connection_services: Services) -> None:
    ids = ["T-1", "T-2", "T-3"]
    retriever = GatedRetriever(hold=2)
    service = make_service(two_connection_services, retriever)
    for ticket_id in ids:
        service.run(PASSWORD_TICKET.model_copy(update={"id": ticket_id}))
    retriever.arm()
    with ThreadPoolExecutor(max_workers=len(ids)) as pool:
        futures = [pool.submit(service.feedback, ticket_id, NOT_SATISFIED) for ticket_id in ids]
        try:
            # Two resumes hold their locks and sit in their searches: all pool connections would be taken if the
            # locks lived in the pools the nodes write through, and the rest of their run could not go on.
            assert retriever.all_in_flight.wait(30), "two resumes never ran at the same time"
        finally:
            retriever.release.set()
        outcomes = [future.result(timeout=90) for future in futures]
    assert [o.status for o in outcomes] == ["awaiting_feedback"] * 3
    assert [o.attempt for o in outcomes] == [2, 2, 2]
