"""Scheduled FAQ mining inside the service: the lifespan starts the schedule, /metrics shows what it did."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.clickhouse import ClickHouse
from core.services import Services
from core.settings import Settings
from faq_mining.ticket_source import TicketSource
from tests.api.test_metrics_and_events import samples
from tests.integration.test_faq_mining import problem_tickets
from tests.integration.test_scheduler import FakeClock

pytestmark = pytest.mark.slow

MINING_JOB = (("job", "faq_mining"),)


@pytest.fixture
def mining_database(clickhouse: ClickHouse) -> Iterator[str]:
    """A ClickHouse database of its own holding ten tickets resolved an hour ago (nine of them minable)."""
    database = f"sched_{uuid.uuid4().hex[:12]}"
    source = TicketSource(clickhouse, database=database)
    source.ensure_schema()
    closed_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    source.import_rows(
        {"id": t.id, "body": t.body, "closurenotes": t.closurenotes, "category": t.category, "status": "Closed"}
        | {"closed_at": closed_at}
        for t in problem_tickets()
    )
    yield database
    clickhouse.command(f"DROP DATABASE IF EXISTS {database}")


def scheduled_services(services: Services, **changes: object) -> Services:
    """The test's services under settings that carry a schedule (the mining job reads `services.settings`)."""
    scheduled = Services(services.settings.model_copy(update=changes), services.db)
    scheduled.embedder = services.embedder
    scheduled.__dict__["clickhouse"] = services.clickhouse
    return scheduled


Sample = tuple[str, tuple[tuple[str, str], ...]]


def wait_for_metric(client: TestClient, key: Sample, seconds: float) -> dict[Sample, float]:
    """The scraped samples once `key` is at least 1, or after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        found = samples(client.get("/metrics").text)
        if found.get(key, 0) >= 1 or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_minutely_schedule_mines_in_the_service_and_metrics_show_the_run(
    api_settings: Settings, services: Services, mining_database: str
) -> None:
    settings = api_settings.model_copy(update={"mining_schedule": "* * * * *", "mining_database": mining_database})
    scheduled = scheduled_services(services, mining_schedule="* * * * *", mining_database=mining_database)
    clock = FakeClock(datetime(2026, 3, 1, 9, 0, 30, tzinfo=UTC))
    with TestClient(create_app(settings, scheduled, scheduler_clock=clock)) as client:
        scheduler = client.app.state.scheduler  # type: ignore[attr-defined]
        assert scheduler is not None and scheduler.running
        before = samples(client.get("/metrics").text)
        assert ("doxa_scheduled_job_runs_total", MINING_JOB) not in before  # nothing ran before the tick

        clock.advance(timedelta(minutes=1))  # the background loop sees 09:01 come
        after = wait_for_metric(client, ("doxa_scheduled_job_last_status", (*MINING_JOB, ("status", "succeeded"))), 90)

    assert after[("doxa_scheduled_job_runs_total", MINING_JOB)] == 1
    assert after[("doxa_scheduled_job_failures_total", MINING_JOB)] == 0
    assert after[("doxa_scheduled_job_last_status", (*MINING_JOB, ("status", "succeeded")))] == 1
    assert after[("doxa_scheduled_job_last_finished_timestamp_seconds", MINING_JOB)] > 0

    def grew(name: str, labels: tuple[tuple[str, str], ...]) -> float:
        return after.get((name, labels), 0) - before.get((name, labels), 0)

    assert grew("doxa_mining_runs_total", (("status", "ok"),)) == 1
    staged = grew("doxa_mining_tickets_total", (("outcome", "staged"),))
    skipped = grew("doxa_mining_tickets_total", (("outcome", "prefilter"),))
    assert staged >= 3 and staged + skipped == len(problem_tickets())
    candidates = grew("doxa_mining_faq_candidates_total", (("kind", "new"),))
    assert candidates >= 1
    assert after[("doxa_faq_pending_reviews", ())] == candidates
    assert after[("doxa_mining_run_seconds_count", ())] - before.get(("doxa_mining_run_seconds_count", ()), 0) == 1
    # The scheduler stopped with the app.
    assert not scheduler.running


def test_no_schedule_or_a_replica_that_turned_it_off_runs_no_scheduler(
    api_settings: Settings, services: Services
) -> None:
    with TestClient(create_app(api_settings, services)) as client:
        assert client.app.state.scheduler is None  # type: ignore[attr-defined]
    off = scheduled_services(services, mining_schedule="* * * * *", scheduler_enabled=False)
    with TestClient(create_app(off.settings, off)) as client:
        assert client.app.state.scheduler is None  # type: ignore[attr-defined]
        assert client.get("/healthz").status_code == 200
