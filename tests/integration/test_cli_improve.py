"""`doxa improve report | resolve | export-resolved` through CliRunner, on the test's Postgres and the session chdb."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from cli import improve as improve_cli
from cli.main import app as doxa_app
from core.services import Services
from faq_mining.ticket_source import TicketSource
from graph.ticket_store import TicketRow, TicketStore
from state.records import EscalationRecord, KbGap
from tests.cli_services import use_test_services

runner = CliRunner()


@pytest.fixture
def cli_services(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    """The commands use the test's services (its database, the loaded model, the session chdb)."""
    use_test_services(monkeypatch, services, improve_cli)
    return services


@pytest.fixture
def database(services: Services) -> Iterator[str]:
    """A fresh ClickHouse database name for the FAQ miner's source, dropped afterwards."""
    name = f"ticketing_{uuid.uuid4().hex[:12]}"
    yield name
    services.clickhouse.command(f"DROP DATABASE IF EXISTS {name}")


def seed(services: Services) -> str:
    store = TicketStore(services.db)
    store.save(TicketRow("T-1", "Reset link", None, "escalated", "high", "authentification", 2, False, None))
    store.save(TicketRow("T-2", "Invoice", None, "answered", "low", "facturation", 1, True, None))
    context = {"ticket": {"subject": "Reset link", "body": "The reset link never arrives."}}
    record = EscalationRecord(
        "ESC-1", "T-1", "identity", "not solved after 2 attempts", "high", "authentification", [], context
    )
    store.record_gap(
        KbGap(
            ticket_id="T-1",
            attempt=2,
            category="authentification",
            reformulation="How do I reset my password when no e-mail arrives?",
            max_similarity=0.41,
            outcome="escalated",
        )
    )
    return store.open_escalation(record)


def test_report_prints_markdown_and_json(cli_services: Services) -> None:
    seed(cli_services)

    markdown = runner.invoke(doxa_app, ["improve", "report", "--since", "7d"])
    assert markdown.exit_code == 0, markdown.output
    assert "## Escalations by category" in markdown.stdout
    assert "add a KB article answering: How do I reset my password when no e-mail arrives?" in markdown.stdout

    result = runner.invoke(improve_cli.app, ["report", "--format", "json", "--top", "1", "--exact"])
    assert result.exit_code == 0, result.output
    shape = json.loads(result.stdout)
    assert (shape["tickets"], shape["escalation_rate"], shape["gap_grouping"]) == (2, 0.5, "exact")
    assert shape["escalations_by_team"] == [{"name": "identity", "count": 1, "share": 1.0}]
    assert shape["recommendations"][0]["example_ticket_ids"] == ["T-1"]


def test_report_refuses_an_unreadable_since(cli_services: Services) -> None:
    result = runner.invoke(improve_cli.app, ["report", "--since", "last tuesday"])
    assert result.exit_code == 2
    assert "--since takes" in result.stderr


def test_resolve_exports_the_ticket_and_refuses_a_second_resolution(cli_services: Services, database: str) -> None:
    escalation_id = seed(cli_services)
    args = ["resolve", escalation_id, "--resolution", "Sent the link by SMS.", "--by", "marie", "--database", database]

    result = runner.invoke(improve_cli.app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["status"], summary["resolved_by"], summary["exported"]) == ("resolved", "marie", 1)

    (ticket,) = TicketSource(cli_services.clickhouse, database=database).fetch_resolved(None, None, 10).tickets
    assert (ticket.id, ticket.body, ticket.closurenotes) == (
        "T-1",
        "The reset link never arrives.",
        "Sent the link by SMS.",
    )

    again = runner.invoke(improve_cli.app, args)
    assert again.exit_code == 1 and "already resolved" in again.stderr
    unknown = runner.invoke(improve_cli.app, ["resolve", "ESC-nope", "--resolution", "x", "--database", database])
    assert unknown.exit_code == 1 and "no escalation ESC-nope" in unknown.stderr


def test_export_resolved_is_idempotent(cli_services: Services, database: str) -> None:
    TicketStore(cli_services.db).resolve_escalation(seed(cli_services), "Sent the link by SMS.", None)

    for _ in range(2):
        result = runner.invoke(improve_cli.app, ["export-resolved", "--since", "1d", "--database", database, "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["imported"] == 1

    assert len(TicketSource(cli_services.clickhouse, database=database).fetch_resolved(None, None, 10).tickets) == 1
