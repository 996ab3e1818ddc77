"""`doxa tickets import` and `doxa tickets stats` on the session's chdb engine."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import tickets as tickets_cli
from core.clickhouse import ClickHouse, open_clickhouse
from core.errors import InvalidInputError
from core.settings import Settings

runner = CliRunner()


@pytest.fixture
def database(chdb_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh ClickHouse database name for one test; the CLI opens the session's engine."""
    monkeypatch.setattr(tickets_cli, "get_settings", lambda: chdb_settings)
    clickhouse: ClickHouse = open_clickhouse(chdb_settings)
    name = f"ticketing_{uuid.uuid4().hex[:12]}"
    yield name
    clickhouse.command(f"DROP DATABASE IF EXISTS {name}")


def invoke(*args: str) -> Any:
    result = runner.invoke(tickets_cli.app, list(args))
    return result


def stats(database: str) -> dict[str, Any]:
    result = invoke("stats", "--database", database, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_import_jsonl_with_field_map_is_idempotent(tmp_path: Path, database: str) -> None:
    export = tmp_path / "export.jsonl"
    records = [
        {"key": f"T-{i}", "text": f"cannot log in, case {i}", "fix": "reset the password", "state": "Closed", "ts": ts}
        for i, ts in enumerate(["2024-05-06T07:08:09Z", 1714979289, "1714979289000"])
    ]
    records.append({"key": "T-bad", "text": "no closing time", "state": "Closed"})
    export.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    maps = ["--map", "id=key", "--map", "body=text", "--map", "closurenotes=fix"]
    maps += ["--map", "status=state", "--map", "closed_at=ts"]

    for _ in range(2):
        result = invoke("import", str(export), *maps, "--database", database, "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert (report["rows_read"], report["imported"], report["rejected"]) == (4, 3, 1)
        assert report["rejected_by_reason"] == {"closed_at: Field required": 1}
        assert report["rejected_examples"] == [{"line": 4, "reason": "closed_at: Field required"}]

    summary = stats(database)
    assert summary["tickets"] == 3
    assert summary["by_status"][0]["status"] == "Closed"
    assert summary["first_closed_at"].startswith("2024-05-06T07:08:09")


def test_import_csv_prints_a_summary_and_stats_counts_by_status(tmp_path: Path, database: str) -> None:
    export = tmp_path / "export.csv"
    with export.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "Subject", "body", "closurenotes", "status", "closed_at"])
        writer.writerow(["1", "VPN", "VPN drops every hour", "Updated the client", "Closed", "2024-01-02 03:04:05"])
        writer.writerow(["2", "Printer", "Jams,\nthen stops", "Replaced roller", "Resolved", "2024-02-03T04:05:06Z"])
        writer.writerow(["3", "Laptop", "Screen flickers", "", "Open", "2024-03-04T05:06:07Z"])
        writer.writerow(["4", "Mail", "Bounces", "Fixed MX", "Closed", "not a date"])

    result = invoke("import", str(export), "--map", "subject=Subject", "--database", database)
    assert result.exit_code == 0, result.output
    assert "read 4, imported 3, rejected 1" in result.stdout
    assert "closed_at: not ISO 8601 or an epoch timestamp" in result.stdout

    summary = stats(database)
    counts = {row["status"]: row["tickets"] for row in summary["by_status"]}
    assert counts == {"Closed": 1, "Resolved": 1, "Open": 1}
    assert summary["last_closed_at"].startswith("2024-03-04T05:06:07")
    human = invoke("stats", "--database", database)
    assert "3 tickets closed between" in human.stdout


def test_import_that_rejects_every_row_fails(tmp_path: Path, database: str) -> None:
    export = tmp_path / "export.jsonl"
    export.write_text('{"id": 1}\n', encoding="utf-8")
    result = invoke("import", str(export), "--database", database)
    assert result.exit_code == 1
    assert "rejected 1" in result.stdout


def test_unknown_map_field_is_an_input_error(tmp_path: Path, database: str) -> None:
    export = tmp_path / "export.jsonl"
    export.write_text("", encoding="utf-8")
    result = invoke("import", str(export), "--map", "colour=c", "--database", database)
    assert isinstance(result.exception, InvalidInputError)


def test_stats_on_an_empty_source(database: str) -> None:
    assert stats(database) == {"tickets": 0, "first_closed_at": None, "last_closed_at": None, "by_status": []}
