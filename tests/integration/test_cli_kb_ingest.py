"""`doxa kb ingest` and `doxa kb status` through the real command line, on the test database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from core.settings import get_settings

runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Iterator[None]:
    """Point the CLI's settings at the test database and a temporary DOXA_HOME."""
    monkeypatch.setenv("DOXA_HOME", str(tmp_path / "doxa"))
    monkeypatch.setenv("DOXA_DATABASE_URL", database_url)
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps long temporary paths at the default 80
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "login.md").write_text("# Login\n\nUse the reset link on the sign-in page to pick a new password.")
    (folder / "billing.md").write_text("# Billing\n\n## Refunds\n\nRefunds reach your card within ten days.")
    return folder


def invoke_json(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.usefixtures("cli_env")
def test_ingest_prints_a_summary_then_reingest_changes_nothing(docs: Path) -> None:
    first = runner.invoke(app, ["kb", "ingest", str(docs), "--category", "help"])
    assert first.exit_code == 0, first.output
    assert "chunks added" in first.stdout and "files read" in first.stdout

    again = invoke_json("kb", "ingest", str(docs))
    assert (again["documents_unchanged"], again["chunks_added"], again["failed"]) == (2, 0, [])

    status = invoke_json("kb", "status")
    assert (status["documents"], status["chunks"], status["revision"]) == (2, 2, 2)
    assert status["vector_store"]["status"] == "ok" and status["vector_store"]["vector_count"] == 2
    assert status["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert "hint" not in status


@pytest.mark.usefixtures("cli_env")
def test_failed_files_are_reported_and_the_run_still_succeeds(docs: Path) -> None:
    (docs / "scan.pdf").write_bytes(b"%PDF-1.7 truncated")

    result = runner.invoke(app, ["kb", "ingest", str(docs)])

    assert result.exit_code == 0, result.output
    assert "files not ingested" in result.stdout and "scan.pdf" in result.stdout
    report = invoke_json("kb", "ingest", str(docs))
    assert [Path(f["path"]).name for f in report["failed"]] == ["scan.pdf"]


@pytest.mark.usefixtures("cli_env")
def test_prune_removes_deleted_files(docs: Path) -> None:
    invoke_json("kb", "ingest", str(docs))
    (docs / "billing.md").unlink()

    report = invoke_json("kb", "ingest", str(docs), "--prune")

    assert (report["documents_removed"], report["chunks_removed"]) == (1, 1)
    assert invoke_json("kb", "status")["documents"] == 1


@pytest.mark.usefixtures("cli_env")
def test_exit_codes_for_nothing_ingested_and_missing_paths(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.md").write_text("")

    all_failed = runner.invoke(app, ["kb", "ingest", str(bad)])
    missing = runner.invoke(app, ["kb", "ingest", str(tmp_path / "nowhere")])

    assert all_failed.exit_code == 1 and "nothing was ingested" in all_failed.output
    assert missing.exit_code == 2 and "path not found" in missing.output


@pytest.mark.usefixtures("cli_env")
def test_a_model_change_is_detected_and_rebuild_reembeds(docs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    invoke_json("kb", "ingest", str(docs))
    monkeypatch.setenv("DOXA_EMBEDDING_MODEL", "another/model")
    get_settings.cache_clear()

    refused = runner.invoke(app, ["kb", "ingest", str(docs)])
    status = invoke_json("kb", "status")

    assert refused.exit_code == 2 and "--rebuild" in refused.output
    assert status["vector_store"]["status"] == "model_mismatch"

    monkeypatch.delenv("DOXA_EMBEDDING_MODEL")
    get_settings.cache_clear()
    rebuilt = invoke_json("kb", "ingest", str(docs), "--rebuild")
    assert (rebuilt["vectors_rebuilt"], rebuilt["documents_unchanged"]) == (2, 2)
