"""`doxa outbox list` and `doxa outbox deliver` on the test's Postgres and an aiosmtpd server on loopback."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import main as main_cli
from cli import outbox as outbox_cli
from core.database import Database
from core.settings import Settings
from graph.outbox import Outbox
from state.records import OutboxMessage
from tests.integration.test_mail_delivery import Mailbox, free_port, smtp_server

runner = CliRunner()


def use_settings(monkeypatch: pytest.MonkeyPatch, settings: Settings, **changes: Any) -> None:
    configured = settings.model_copy(update=changes)
    monkeypatch.setattr(outbox_cli, "get_settings", lambda: configured)


def invoke(*args: str) -> Any:
    return runner.invoke(outbox_cli.app, list(args))


def listed(*args: str) -> list[dict[str, Any]]:
    result = invoke("list", "--json", *args)
    assert result.exit_code == 0, result.output
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


@pytest.fixture
def queued(db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Database:
    use_settings(monkeypatch, settings)
    outbox = Outbox(db)
    outbox.enqueue(OutboxMessage("T-1:answer", "T-1", "alice@example.com", "Your answer", "Hello Alice", "answer"))
    outbox.enqueue(OutboxMessage("T-1:team", "T-1", "team:billing", "[high] Escalated T-1", "Please look", "team"))
    outbox.enqueue(OutboxMessage("T-2:answer", "T-2", None, "No address", "Hello", "answer"))
    return db


def test_list_filters_and_pages(queued: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    everything = listed()
    assert [row["ticket_id"] for row in everything] == ["T-2", "T-1", "T-1"]  # newest first
    assert {"recipient", "subject", "status", "attempts", "last_error", "created_at", "sent_at"} <= set(everything[0])
    assert [row["subject"] for row in listed("--status", "held")] == ["No address"]
    assert [row["subject"] for row in listed("--ticket", "T-1")] == ["[high] Escalated T-1", "Your answer"]
    assert [row["subject"] for row in listed("--limit", "1", "--offset", "1")] == ["[high] Escalated T-1"]
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps the table to the terminal's width
    human = invoke("list", "--status", "pending")
    assert human.exit_code == 0 and "Your answer" in human.stdout and "No address" not in human.stdout
    assert "[high] Escalated T-1" in human.stdout  # user text is not read as rich markup
    assert invoke("list", "--status", "lost").exit_code == 2


def test_deliver_without_smtp_url_is_a_usage_error(queued: Database) -> None:
    result = invoke("deliver")
    assert result.exit_code == 2
    assert "DOXA_SMTP_URL is not set" in result.output
    assert {row["status"] for row in listed()} == {"pending", "held"}


def test_deliver_sends_pending_messages(queued: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    box = Mailbox()
    with smtp_server(box) as port:
        use_settings(
            monkeypatch,
            settings,
            smtp_url=f"smtp://127.0.0.1:{port}",
            mail_from="desk@doxa.example",
            escalation_team_addresses={"billing": "billing@example.com"},
        )
        result = invoke("deliver", "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == {"sent": 2, "failed": 0, "skipped": 0}
        again = invoke("deliver")
        assert again.exit_code == 0 and "sent 0, failed 0, held 0" in again.stdout
    assert sorted(str(message["To"]) for message in box.received) == ["alice@example.com", "billing@example.com"]
    assert {str(message["From"]) for message in box.received} == {"desk@doxa.example"}
    assert len(listed("--status", "sent")) == 2


def test_deliver_to_an_unreachable_server_exits_1(
    queued: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, settings, smtp_url=f"smtp://127.0.0.1:{free_port()}")
    result = invoke("deliver", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"sent": 0, "failed": 1, "skipped": 1}  # team:billing has no address
    assert [row["attempts"] for row in listed("--status", "pending")] == [1]
    assert "'billing'" in listed("--status", "held", "--ticket", "T-1")[0]["last_error"]


def test_invalid_smtp_url_is_a_usage_error(
    queued: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, settings, smtp_url="http://mail.example.com")
    result = invoke("deliver")
    assert result.exit_code == 2
    assert "smtp:// or smtps://" in result.output


def test_outbox_is_registered_on_the_doxa_command(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(main_cli, "get_settings", lambda: settings)
    result = runner.invoke(main_cli.app, ["outbox", "--help"])
    assert result.exit_code == 0
    assert "deliver" in result.stdout and "list" in result.stdout
