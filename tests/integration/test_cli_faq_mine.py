"""`doxa faq mine` through CliRunner on chdb and the test's database, then review through `doxa faq approve`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from cli import faq_mine, faq_review
from cli.main import app as doxa_app
from core.services import Services
from faq_mining.service import MiningService
from faq_mining.ticket_source import TicketSource
from faq_mining.watermark import WatermarkStore
from tests.cli_services import use_test_services
from tests.integration.test_faq_mining import problem_tickets

runner = CliRunner()


@pytest.fixture
def cli_services(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    database = f"cli_mining_{uuid.uuid4().hex[:12]}"
    services.settings = services.settings.model_copy(update={"mining_database": database})

    use_test_services(monkeypatch, services, faq_mine, faq_review)
    source = TicketSource(services.clickhouse, database=database)
    source.ensure_schema()
    now = datetime.now(UTC)
    source.import_rows(
        {**ticket.model_dump(exclude={"closed_at"}), "closed_at": (now - timedelta(hours=2)).isoformat()}
        for ticket in problem_tickets()
    )
    yield services
    services.clickhouse.command(f"DROP DATABASE IF EXISTS {database}")


def invoke(*args: str) -> Any:
    result = runner.invoke(doxa_app, ["faq", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result.stdout


def test_mine_stages_candidates_then_a_rerun_reads_nothing_new(cli_services: Services) -> None:
    first = invoke("mine", "--json")
    assert (first["stats"]["processed"], first["stats"]["staged_new"]) == (10, 3)
    assert first["waiting_reviews"] == 3 and first["watermark_advanced"]

    again = invoke("mine", "--json")
    assert (again["stats"]["processed"], again["stats"]["staged_new"]) == (0, 0)
    text = invoke("mine")
    assert "0 ticket(s)" in text


def test_approve_resumes_the_waiting_run(cli_services: Services) -> None:
    run = invoke("mine", "--json")
    first = run["staged_ids"][0]

    approved = invoke("approve", str(first), "--reviewer", "erin", "--json")

    assert approved["status"] == "APPROVED" and approved["reviewed_by"] == "erin"
    pending = MiningService.from_services(cli_services).pending_reviews(run["run_id"])
    assert sorted(p.request.staging_id for p in pending) == sorted(run["staged_ids"][1:])


def test_a_run_that_finds_another_in_progress_does_nothing(cli_services: Services) -> None:
    source_name = f"clickhouse:{cli_services.settings.mining_database}.tickets"
    with psycopg.connect(cli_services.db.url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"doxa-faq-mining:{source_name}",))
        result = runner.invoke(doxa_app, ["faq", "mine", "--json"])
    assert result.exit_code == 0, result.output
    assert "in progress" in json.loads(result.stdout)["skipped"]


def test_rewind_and_since_reread_without_staging_twice_or_moving_the_watermark_back(cli_services: Services) -> None:
    first = invoke("mine", "--json")
    assert first["stats"]["processed"] == 10 and first["stats"]["staged_tickets"] > 0
    watermarks = WatermarkStore(cli_services.db)
    source_name = f"clickhouse:{cli_services.settings.mining_database}.tickets"
    position = watermarks.load(source_name)

    rewound = invoke("mine", "--rewind", "--json")
    assert rewound["stats"]["processed"] == 10
    assert (rewound["stats"]["staged_new"], rewound["stats"]["skipped_duplicate"]) == (
        0,
        first["stats"]["staged_tickets"],
    )
    recent = invoke("mine", "--since", "1h", "--json")  # imported seconds ago
    assert recent["stats"]["processed"] == 10 and recent["stats"]["staged_new"] == 0
    assert watermarks.load(source_name) == position
    assert invoke("mine", "--since", "2030-01-01", "--json")["stats"]["processed"] == 0

    refused = runner.invoke(doxa_app, ["faq", "mine", "--rewind", "--since", "2d"])
    assert refused.exit_code != 0 and "give one" in refused.output
    assert "Traceback" not in refused.output


def test_a_run_says_how_many_recently_closed_tickets_wait_for_the_next_run(cli_services: Services) -> None:
    source = TicketSource(cli_services.clickhouse, database=cli_services.settings.mining_database)
    just_closed = datetime.now(UTC) - timedelta(minutes=1)
    source.import_rows(
        [{"id": "RECENT-1", "body": "My VPN drops every ten minutes.", "status": "Closed", "closed_at": just_closed}]
    )
    text = invoke("mine")
    assert "10 ticket(s)" in text
    assert "1 ticket(s) closed in the last 5 minutes wait for the next run" in text
