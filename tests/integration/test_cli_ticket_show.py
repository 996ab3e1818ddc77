"""`doxa ticket show --json` carries the state parts GET /tickets/{id} shows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


def test_run_takes_many_files_and_json_lines(
    ticket_service: TicketService,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    @contextmanager
    def this_service() -> Iterator[TicketService]:
        yield ticket_service

    monkeypatch.setattr(ticket_cli, "ticket_service", this_service)
    single = tmp_path / "a.json"
    single.write_text(password_ticket("R-1").model_dump_json(indent=2), encoding="utf-8")
    lines = tmp_path / "b.jsonl"
    lines.write_text("\n".join(password_ticket(i).model_dump_json() for i in ("R-2", "R-3")) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["ticket", "run", str(single), str(lines), "--json"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["thread_id"] for line in result.stdout.splitlines()] == ["R-1", "R-2", "R-3"]

    bad = tmp_path / "bad.jsonl"
    bad.write_text(password_ticket("R-4").model_dump_json() + "\n" + '{"subject": ""}\n', encoding="utf-8")
    refused = runner.invoke(app, ["ticket", "run", str(bad)])
    assert refused.exit_code != 0 and "bad.jsonl:2" in refused.output
    assert [row["id"] for row in ticket_service.list(limit=10) if row["id"] == "R-4"] == []  # nothing ran
