"""The load benchmark's harness, small: 20 concurrent submissions to a real `uvicorn` child all end, no errors.

The service runs on the test's database with a run pool of 8, so part of the 20 requests in flight are refused
with 503 + Retry-After and must be retried. Correctness only: speed belongs to `python -m benchmarks.load`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from benchmarks.load import ARTICLES, ENDED, LoadReport, ServiceChild, fire, service_environment, ticket_bodies
from core.services import Services
from core.settings import Settings
from kb.ingest import KnowledgeBaseIngestor
from tests.api.conftest import JWT_SECRET, bearer

TICKETS = 20


def test_twenty_concurrent_submissions_all_end_with_503s_retried(
    api_settings: Settings, services: Services, tmp_path: Path
) -> None:
    KnowledgeBaseIngestor.from_services(services).run([ARTICLES])
    env = service_environment(
        api_settings.home,
        database_url=str(api_settings.database_url),
        jwt_secret=JWT_SECRET,
        api_run_workers="2",
        api_max_pending_runs="8",
        scheduler_enabled="false",
    )
    with ServiceChild(env, tmp_path / "service.log") as service:
        report = asyncio.run(
            fire(
                service.url,
                bearer("load-test", ["agent"]),
                ticket_bodies(TICKETS),
                concurrency=TICKETS,
                async_share=0.25,
                retry_after_cap_s=0.2,  # the header says 5 s; the test need not sit through it
                poll_s=0.25,
            )
        )
        log = service.log_tail()

    assert report.problems() == [], log
    assert report.errors == []
    assert len(report.statuses) == TICKETS and set(report.statuses.values()) <= ENDED
    assert report.listed_statuses == report.statuses
    assert (len(report.sync_latencies_s), len(report.async_latencies_s)) == (15, 5)
    assert report.retries_503 > 0, "20 requests in flight against a pool of 8: some must have been refused"
    # The help centre answers its own questions and escalates the IT and banking ones.
    assert {"awaiting_feedback", "escalated"} <= set(report.statuses.values())
    assert "Traceback" not in log


def test_a_run_with_an_unfinished_ticket_or_an_error_is_not_a_success() -> None:
    report = LoadReport(tickets=3, concurrency=3, wall_s=1.0)
    report.statuses = {"L-0": "escalated", "L-1": "running"}
    report.listed_statuses = {"L-0": "awaiting_feedback", "L-1": "running"}
    report.errors = ["L-2: POST answered 500: boom"]

    problems = report.problems()

    assert problems[0] == "L-2: POST answered 500: boom"
    assert "1 of 3 tickets got no final status" in problems
    assert "L-1: status 'running'" in problems
    assert "L-0: answered 'escalated' but GET /tickets lists 'awaiting_feedback'" in problems
    assert report.as_dict()["errors"] == 1
