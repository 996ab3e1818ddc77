"""`doxa maintenance dump` / `restore` round trips through the shipped pg_dump, pg_restore and psql."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from cli import maintenance as maintenance_cli
from core.database import Database
from core.errors import ConflictError, InvalidInputError
from core.services import Services
from core.settings import Settings
from graph.factory import open_ticket_service
from graph.outbox import Outbox
from ops.backup import dump_database, restore_database
from state.records import OutboxMessage
from state.ticket import CustomerFeedback, TicketInput
from tests.databases import fresh_database

runner = CliRunner()


@pytest.fixture
def other_database(pg_admin_url: str) -> Iterator[str]:
    """A second fresh database on the same server: the restore target."""
    with fresh_database(pg_admin_url, "restore") as url:
        yield url


@pytest.fixture
def populated(services: Services) -> Services:
    """Real threads (checkpoints, blobs, writes), tickets, e-mails, an escalation and cached embeddings."""
    tickets = open_ticket_service(services)
    tickets.run(TicketInput(id="T-help", subject="help", body="??", customer_email="a@b.co"))
    tickets.run(
        TicketInput(
            id="T-proxy",
            subject="Tor Browser says the proxy server is refusing connections",
            body="Since this morning Tor Browser only shows 'The proxy server is refusing connections'. How to fix?",
            customer_email="lea@example.org",
        )
    )
    if tickets.show("T-proxy").waiting_for_feedback:
        tickets.feedback("T-proxy", CustomerFeedback(satisfied=False, comment="still broken"))
    Outbox(services.db).enqueue(OutboxMessage("manual:1", "T-x", "x@example.org", "Über ✓", "body\n\ttabs", "answer"))
    return services


def table_fingerprints(url: str, schema: str) -> dict[str, tuple[int, str]]:
    """table -> (rows, md5 of every row's text in order): equal fingerprints mean equal rows."""
    fingerprints: dict[str, tuple[int, str]] = {}
    with psycopg.connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", (schema,))
        ]
        for table in tables:
            row = conn.execute(
                f"SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '')"
                f' FROM "{schema}"."{table}" t'
            ).fetchone()
            assert row is not None
            fingerprints[table] = (row[0], row[1])
    return fingerprints


def use_settings(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setattr(maintenance_cli, "get_settings", lambda: settings)


def invoke(*args: str) -> Any:
    return runner.invoke(maintenance_cli.app, list(args))


def test_dump_then_restore_into_a_fresh_database_gives_equal_rows(
    populated: Services, other_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = populated.settings
    original = table_fingerprints(settings.database_url or "", settings.db_schema)
    assert original["checkpoints"][0] > 0 and original["checkpoint_blobs"][0] > 0
    assert original["checkpoint_writes"][0] > 0 and original["embedding_cache"][0] > 0
    assert original["ticket"][0] == 2 and original["outbox"][0] >= 2

    archive = tmp_path / "doxa.dump"
    use_settings(monkeypatch, settings)
    dumped = invoke("dump", str(archive), "--json")
    assert dumped.exit_code == 0, dumped.output
    summary = json.loads(dumped.stdout)
    assert summary["tables"] == len(original) and summary["archive_bytes"] == archive.stat().st_size > 0

    target = settings.model_copy(update={"database_url": other_database})
    use_settings(monkeypatch, target)
    restored = invoke("restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert f"restored schema agent ({len(original)} tables)" in restored.stdout
    assert table_fingerprints(other_database, settings.db_schema) == original

    # The restored database is a working Doxa database: migrations are recorded, sequences continue,
    # and the restored threads answer.
    with Database.open(target) as db:
        Outbox(db).enqueue(OutboxMessage("after-restore", "T-y", None, "s", "b", "answer"))
        restored_services = Services(target, db)
        restored_services.embedder = populated.embedder
        assert open_ticket_service(restored_services).show("T-help").status == "rejected"


def test_restore_refuses_a_schema_with_tables_unless_forced(
    populated: Services, other_database: str, tmp_path: Path
) -> None:
    settings = populated.settings
    archive = tmp_path / "doxa.dump"
    dump_database(settings.database_url or "", settings.db_schema, archive)

    target = settings.model_copy(update={"database_url": other_database})
    Database.open(target).close()  # a migrated, non-empty schema
    with pytest.raises(ConflictError, match="--force"):
        restore_database(other_database, settings.db_schema, archive)

    report = restore_database(other_database, settings.db_schema, archive, force=True)
    assert report.tables == len(table_fingerprints(other_database, settings.db_schema))
    assert table_fingerprints(other_database, settings.db_schema) == table_fingerprints(
        settings.database_url or "", settings.db_schema
    )


def test_a_failed_forced_restore_leaves_the_schema_as_it_was(
    db: Database, settings: Settings, other_database: str, tmp_path: Path
) -> None:
    archive = tmp_path / "doxa.dump"
    dump_database(settings.database_url or "", settings.db_schema, archive)
    target = settings.model_copy(update={"database_url": other_database})
    with Database.open(target) as target_db, target_db.transaction() as conn:
        conn.execute("INSERT INTO ticket (id, subject, status) VALUES ('T-keep', 's', 'closed')")
    before = table_fingerprints(other_database, settings.db_schema)
    with psycopg.connect(other_database) as holder:
        holder.execute("LOCK TABLE agent.ticket IN ACCESS SHARE MODE")  # a running API holds locks like this
        with pytest.raises(ConflictError, match="in use"):
            restore_database(other_database, settings.db_schema, archive, force=True)
    assert table_fingerprints(other_database, settings.db_schema) == before


def test_dump_refuses_an_existing_file_and_restore_a_file_that_is_no_dump(
    db: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = tmp_path / "exists.dump"
    existing.write_text("keep me")
    with pytest.raises(ConflictError, match="already exists"):
        dump_database(settings.database_url or "", settings.db_schema, existing)
    assert existing.read_text() == "keep me"
    with pytest.raises(InvalidInputError, match="not a pg_dump custom-format archive"):
        restore_database(settings.database_url or "", settings.db_schema, existing)

    use_settings(monkeypatch, settings)
    refused = invoke("restore", str(existing))
    assert refused.exit_code == 2 and "not a pg_dump" in unwrapped(refused.output)
    missing = invoke("restore", str(tmp_path / "missing.dump"))
    assert missing.exit_code == 2 and "no file" in unwrapped(missing.output)


def unwrapped(text: str) -> str:
    """Console output with rich's line wrapping undone."""
    return " ".join(text.split())
