"""`doxa ticket show --json` carries the state parts GET /tickets/{id} shows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from typer.testing import CliRunner

from cli import ticket as ticket_cli
from cli.main import app
from graph.ticket_service import DETAIL_KEYS, TicketService
from tests.integration.test_maintenance_prune import password_ticket, ticket_service  # noqa: F401 (fixture)

runner = CliRunner()


def test_show_json_has_analysis_classification_plan_and_evaluation(
    ticket_service: TicketService,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    @contextmanager
    def this_service() -> Iterator[TicketService]:
        yield ticket_service

    monkeypatch.setattr(ticket_cli, "ticket_service", this_service)
    ticket_service.run(password_ticket("T-show"))
    result = runner.invoke(app, ["ticket", "show", "T-show", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert set(DETAIL_KEYS) <= set(shown)
    for part in ("analysis", "classification", "plan", "evaluation"):
        assert isinstance(shown[part], dict) and shown[part], part
    assert shown["thread_id"] == "T-show" and shown["status"] in ("answered", "awaiting_feedback")
