"""`doxa eval retrieval` and `doxa kb search` through the real command line, on the test database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from core.settings import get_settings

pytestmark = pytest.mark.slow
runner = CliRunner()

FAQS = [
    {"id": "pw", "question": "How do I reset my password?", "answer": "Use the reset link on the sign-in page."},
    {"id": "refund", "question": "When will I get my refund?", "answer": "Refunds reach your card within ten days."},
    {"id": "e5", "question": "What is error 0x80070005?", "answer": "Access denied: run the updater as admin."},
]
QUERIES = [
    {"query": "I forgot my password", "gold_faq_ids": ["pw"]},
    {"query": "how long until my money comes back", "gold_faq_ids": ["refund"]},
    {"query": "update says 0x80070005", "gold_faq_ids": ["e5"]},
]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Iterator[None]:
    """Point the CLI's settings at the test database and a temporary DOXA_HOME."""
    monkeypatch.setenv("DOXA_HOME", str(tmp_path / "doxa"))
    monkeypatch.setenv("DOXA_DATABASE_URL", database_url)
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_eval_retrieval_json_is_one_object_with_the_metrics(cli_env: None, tmp_path: Path) -> None:
    faqs = write_jsonl(tmp_path / "faqs.jsonl", FAQS)
    queries = write_jsonl(tmp_path / "queries.jsonl", QUERIES)
    result = runner.invoke(app, ["eval", "retrieval", "--faqs", str(faqs), "--queries", str(queries), "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {
        "mode",
        "n_queries",
        "mrr_at_10",
        "recall_at_1",
        "recall_at_5",
        "latency_p50_ms",
        "latency_p95_ms",
    }
    assert report["mode"] == "hybrid" and report["n_queries"] == 3
    assert report["mrr_at_10"] == 1.0 and report["recall_at_1"] == 1.0
    assert 0 < report["latency_p50_ms"] <= report["latency_p95_ms"]


def test_eval_retrieval_bm25_mode_and_text_output(cli_env: None, tmp_path: Path) -> None:
    faqs = write_jsonl(tmp_path / "faqs.jsonl", FAQS)
    queries = write_jsonl(tmp_path / "queries.jsonl", QUERIES)
    result = runner.invoke(app, ["eval", "retrieval", "--faqs", str(faqs), "--queries", str(queries), "--mode", "bm25"])
    assert result.exit_code == 0, result.stderr
    assert "MRR@10" in result.stdout and "bm25" in result.stdout


def test_malformed_line_is_a_clear_error(cli_env: None, tmp_path: Path) -> None:
    faqs = write_jsonl(tmp_path / "faqs.jsonl", FAQS)
    queries = tmp_path / "queries.jsonl"
    queries.write_text(json.dumps(QUERIES[0]) + "\n{not json\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", "retrieval", "--faqs", str(faqs), "--queries", str(queries), "--json"])
    assert result.exit_code == 2
    assert f"{queries}:2: not valid JSON" in result.stderr
    assert result.stdout == ""


def test_missing_field_and_missing_file_are_clear_errors(cli_env: None, tmp_path: Path) -> None:
    faqs = write_jsonl(tmp_path / "faqs.jsonl", [{"id": "x", "question": "q?"}])
    queries = write_jsonl(tmp_path / "queries.jsonl", QUERIES)
    result = runner.invoke(app, ["eval", "retrieval", "--faqs", str(faqs), "--queries", str(queries)])
    assert result.exit_code == 2 and "field 'answer'" in result.stderr
    missing = tmp_path / "nope.jsonl"
    result = runner.invoke(app, ["eval", "retrieval", "--faqs", str(missing), "--queries", str(queries)])
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_unknown_mode_is_refused(cli_env: None, tmp_path: Path) -> None:
    faqs = write_jsonl(tmp_path / "faqs.jsonl", FAQS)
    queries = write_jsonl(tmp_path / "queries.jsonl", QUERIES)
    result = runner.invoke(app, ["eval", "retrieval", "--faqs", str(faqs), "--queries", str(queries), "--mode", "x"])
    assert result.exit_code == 2 and "--mode" in result.stderr


def test_kb_search_json_prints_the_retrieval_contract(cli_env: None, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "billing.md").write_text("# Billing\n\n## Refunds\n\nRefunds reach your card within ten days.")
    assert runner.invoke(app, ["kb", "ingest", str(docs)]).exit_code == 0
    result = runner.invoke(app, ["kb", "search", "when is my refund paid", "--json", "--top-k", "2"])
    assert result.exit_code == 0, result.stderr
    context = json.loads(result.stdout)
    assert context["results"][0]["metadata"]["section"] == "Billing > Refunds"
    assert set(context["metadata"]) >= {"mean_similarity", "max_similarity", "kb_confident", "kb_limit_reached"}
    text = runner.invoke(app, ["kb", "search", "when is my refund paid"])
    assert "cosine" in text.stdout and "fused" in text.stdout and "Billing > Refunds" in text.stdout
