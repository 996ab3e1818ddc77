"""`doxa faq list | stats | show | edit | approve | reject | revert | delete | search` through CliRunner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import faq_import, faq_review
from cli.main import app as doxa_app
from core.services import Services
from faq_mining.faq_store import FaqStore
from kb.faq_retriever import FaqRetriever
from tests.cli_services import use_test_services
from tests.faq_candidates import stage_candidate

runner = CliRunner()
PASSWORD_Q = "How do I reset my password?"


@pytest.fixture
def cli_services(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    """The commands use the test's services (its database and the loaded model)."""
    use_test_services(monkeypatch, services, faq_review)
    monkeypatch.setenv("USER", "cli-user")
    return services


def stage(services: Services, question: str, tickets: list[str], **changes: Any) -> int:
    store = FaqStore.from_services(services)
    return stage_candidate(store, services.embedder, tickets, question, **changes)


def faq(*args: str) -> Any:
    result = runner.invoke(doxa_app, ["faq", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result.stdout


def test_review_round_trip_through_the_command_line(cli_services: Services) -> None:
    first = stage(cli_services, PASSWORD_Q, ["T-1", "T-2"])
    second = stage(cli_services, "Where can I download my invoices?", ["T-3"])

    listed = faq("list", "--status", "PENDING", "--json")
    assert listed["total"] == 2 and [c["id"] for c in listed["items"]] == [second, first]
    assert "2 of 2" in faq("list")

    edited = faq("edit", str(first), "--tags", "account, login", "--json")
    assert edited["tags"] == ["account", "login"] and edited["version"] == 2

    approved = faq("approve", str(first), "--note", "clear", "--json")
    assert approved["status"] == "APPROVED" and approved["reviewed_by"] == "cli-user"
    faq_id = approved["faq_id"]
    assert faq("reject", str(second), "--reviewer", "dana", "--json")["status"] == "REJECTED"

    shown = faq("show", str(first), "--json")
    assert shown["detail"]["candidate"]["source_ticket_ids"] == ["T-1", "T-2"]
    assert [e["action"] for e in shown["detail"]["audit"]] == ["staged", "edited", "approved"]
    assert "T-1, T-2" in faq("show", str(first))
    asked = stage(cli_services, "How do I unlock my account?", ["T-4"], phrasings=["Locked out after three tries"])
    assert "also asked as:\n  - Locked out after three tries (ticket)" in faq("show", str(asked))

    stats = faq("stats", "--json")
    assert stats["by_status"]["APPROVED"] == 1 and stats["by_status"]["REJECTED"] == 1 and stats["live_faqs"] == 1

    hits = faq("search", "I forgot my password", "--top-k", "3", "--json")
    assert [h["id"] for h in hits] == [faq_id] and hits[0]["similarity"] > 0.5
    assert f"FAQ #{faq_id}" in faq("search", "I forgot my password")

    assert faq("revert", str(first), "--json")["status"] == "REVERTED"
    assert faq("search", "I forgot my password", "--json") == []


def test_merge_preview_and_delete(cli_services: Services) -> None:
    target = faq("approve", str(stage(cli_services, PASSWORD_Q, ["T-1"])), "--json")["faq_id"]
    merge = stage(
        cli_services,
        "How do I reset or recover my password?",
        ["T-2"],
        action="MERGE",
        merge_with_id=target,
        similarity=0.9,
    )

    text = faq("show", str(merge))
    assert f"merge target FAQ #{target} v1 (live)" in text
    assert "-How do I reset my password?" in text and "+How do I reset or recover my password?" in text

    deleted = faq("delete", str(target), "--json")
    assert deleted["is_deleted"] is True
    assert "(DELETED)" in faq("show", str(merge))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["approve", "999999"], "does not exist"),
        (["list", "--limit", "0"], "limit must be between 1 and 1000"),
        (["list", "--status", "DONE"], "status must be one of"),
        (["delete", "424242"], "does not exist"),
    ],
)
def test_refusals_exit_2_with_a_message(cli_services: Services, args: list[str], message: str) -> None:
    result = runner.invoke(doxa_app, ["faq", *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_second_approval_and_pii_are_refused(cli_services: Services) -> None:
    staged = stage(cli_services, PASSWORD_Q, ["T-1"], answer="Call Jane on +33 6 12 34 56 78 for a reset.")
    refused = runner.invoke(doxa_app, ["faq", "approve", str(staged)])
    assert refused.exit_code == 2 and "phone" in refused.stderr and "12 34" not in refused.stderr

    faq("edit", str(staged), "--answer", "Use the 'Forgot password' link.")
    faq("approve", str(staged))
    again = runner.invoke(doxa_app, ["faq", "approve", str(staged)])
    assert again.exit_code == 2 and "APPROVED" in again.stderr


def test_import_creates_faqs_with_their_variants_and_is_idempotent(
    services: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_test_services(monkeypatch, services, faq_import)
    faqs = tmp_path / "faqs.jsonl"
    rows = [
        {
            "id": "pw",
            "question": PASSWORD_Q,
            "answer": "Settings > Security > Reset password.",
            "tags": ["account"],
            "variants": ["I am locked out of my account after too many login attempts"],
        },
        {"question": "Where can I download my invoices?", "answer": "Billing > Invoices lists every invoice."},
    ]
    faqs.write_text("\n".join(json.dumps(row) for row in rows) + "\n")

    first = faq("import", str(faqs), "--actor", "alice", "--json")
    again = faq("import", str(faqs), "--actor", "alice", "--json")

    assert len(first["created"]) == 2 and first["existing"] == [] and first["phrasings_added"] == 1
    assert again == {"created": [], "existing": first["created"], "phrasings_added": 0, "rows_folded": 0}
    (hit,) = FaqRetriever.from_services(services).search("locked out after too many login attempts", top_k=1)
    assert hit.id == first["created"][0] and hit.phrasing_matches


def test_rows_that_give_the_same_answer_are_imported_as_one_faq_asked_each_way(
    services: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_test_services(monkeypatch, services, faq_import)
    faqs = tmp_path / "intents.jsonl"
    response = "Open Settings > Cards and choose Activate."
    rows = [
        {"question": "How do I activate my card?", "answer": response, "tags": ["cards"]},
        {"question": "My new card does not work yet", "answer": f"  {response.lower()} ", "tags": ["onboarding"]},
        {"question": "Where can I download my invoices?", "answer": "Billing > Invoices lists every invoice."},
    ]
    faqs.write_text("\n".join(json.dumps(row) for row in rows) + "\n")

    first = faq("import", str(faqs), "--actor", "alice", "--json")
    again = faq("import", str(faqs), "--actor", "alice", "--json")

    assert len(first["created"]) == 2 and first["rows_folded"] == 1 and first["phrasings_added"] == 1
    assert again["created"] == [] and again["phrasings_added"] == 0
    (hit,) = FaqRetriever.from_services(services).search("my new card does not work yet", top_k=1)
    assert hit.id == first["created"][0] and hit.question == "How do I activate my card?" and hit.answer == response
    text = runner.invoke(doxa_app, ["faq", "import", str(faqs), "--actor", "alice"]).stdout
    assert "1 row(s) gave an earlier row's answer: imported as its variants" in text
    # The same rows in another order fold under the other question, which is already a phrasing: no new FAQ.
    faqs.write_text("\n".join(json.dumps(row) for row in rows[::-1]) + "\n")
    reordered = faq("import", str(faqs), "--actor", "alice", "--json")
    assert reordered["created"] == [] and sorted(reordered["existing"]) == sorted(first["created"])


def test_a_bad_import_line_writes_nothing(services: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_test_services(monkeypatch, services, faq_import)
    faqs = tmp_path / "faqs.jsonl"
    good = {"question": PASSWORD_Q, "answer": "Settings > Security > Reset password."}
    pii = {"question": "Who do I write to?", "answer": "Mail jane.doe@acme.io directly."}
    faqs.write_text(json.dumps(good) + "\n" + json.dumps(pii) + "\n")

    result = runner.invoke(doxa_app, ["faq", "import", str(faqs)])

    assert result.exit_code == 2 and "faqs.jsonl:2" in result.stderr and "email" in result.stderr
    assert FaqRetriever.from_services(services).search(PASSWORD_Q) == []
