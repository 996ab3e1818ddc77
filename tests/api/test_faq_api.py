"""FAQ endpoints on the real app, the embedded Postgres, the real model and the real mining graph (offline LLM)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.services import Services
from faq_mining.faq_store import FaqStore
from tests.api.conftest import bearer
from tests.faq_candidates import PASSWORD_Q, stage_candidate

REVIEWER = bearer("rita", ["reviewer"])
AGENT = bearer("agent-1", ["agent"])
SERVICE = bearer("zendesk-bridge", ["service"])


def stage(services: Services, tickets: list[str], question: str = PASSWORD_Q, **changes: Any) -> int:
    store = FaqStore.from_services(services)
    return stage_candidate(store, services.embedder, tickets, question, **({"pii_kinds": ["email"]} | changes))


@pytest.fixture
def candidate(services: Services) -> int:
    return stage(services, ["T-1", "T-2"])


def approve(client: TestClient, staging_id: int) -> dict[str, Any]:
    response = client.post(f"/staging-faq/{staging_id}/review", json={"decision": "approve"}, headers=REVIEWER)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_review_takes_the_reviewer_from_the_token_not_the_body(client: TestClient, candidate: int) -> None:
    response = client.post(
        f"/staging-faq/{candidate}/review",
        json={"status": "APPROVED", "reviewed_by": "mallory", "note": "clear"},
        headers=REVIEWER,
    )

    assert response.status_code == 200, response.text
    assert response.json()["reviewed_by"] == "rita" and response.json()["status"] == "APPROVED"
    detail = client.get(f"/staging-faq/{candidate}", headers=REVIEWER).json()
    assert detail["candidate"]["reviewed_by"] == "rita" and detail["candidate"]["review_note"] == "clear"
    assert {entry["actor"] for entry in detail["audit"]} == {"faq-mining", "rita"}
    faq_id = response.json()["faq_id"]
    hits = client.get("/faq", params={"q": "I forgot my password"}).json()["items"]
    assert hits[0]["id"] == faq_id and hits[0]["question"] == PASSWORD_Q


def test_a_second_decision_conflicts_and_bad_decisions_are_422(client: TestClient, candidate: int) -> None:
    approve(client, candidate)
    again = client.post(f"/staging-faq/{candidate}/review", json={"decision": "reject"}, headers=REVIEWER)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    for body in ({}, {"decision": "maybe"}, {"decision": "approve", "status": "rejected"}, {"decision": 1}):
        assert client.post(f"/staging-faq/{candidate}/review", json=body, headers=REVIEWER).status_code == 422
    assert client.post("/staging-faq/999999/review", json={"decision": "approve"}, headers=REVIEWER).status_code == 404


def test_reject_leaves_production_alone(client: TestClient, candidate: int) -> None:
    rejected = client.post(f"/staging-faq/{candidate}/review", json={"decision": "rejected"}, headers=REVIEWER)
    assert rejected.status_code == 200 and rejected.json()["status"] == "REJECTED"
    assert rejected.json()["faq_id"] is None
    assert client.get("/faq").json()["total"] == 0


def test_review_endpoints_need_a_reviewer(client: TestClient, candidate: int) -> None:
    calls = [
        ("GET", "/staging-faq", None),
        ("GET", "/staging-faq/stats", None),
        ("GET", f"/staging-faq/{candidate}", None),
        ("PUT", f"/staging-faq/{candidate}", {"answer": "Another answer entirely."}),
        ("POST", f"/staging-faq/{candidate}/review", {"decision": "approve"}),
        ("GET", f"/staging-faq/{candidate}/existing", None),
        ("POST", f"/staging-faq/{candidate}/revert", None),
        ("DELETE", "/faq/1", None),
    ]
    for method, path, body in calls:
        assert client.request(method, path, json=body).status_code == 401, path
        assert client.request(method, path, json=body, headers=AGENT).status_code == 403, path
    forged = {"Authorization": "Bearer " + bearer("rita", ["reviewer"])["Authorization"].split()[1][:-4] + "AAAA"}
    assert client.get("/staging-faq", headers=forged).status_code == 401
    assert client.get(f"/staging-faq/{candidate}", headers=REVIEWER).json()["candidate"]["status"] == "PENDING"


def test_list_pages_filters_and_validates(client: TestClient, services: Services) -> None:
    first = stage(services, ["T-1"])
    second = stage(services, ["T-2"], question="Where do I download my invoice as a PDF?")
    approve(client, first)

    page = client.get("/staging-faq", params={"status": "pending"}, headers=REVIEWER).json()
    assert [item["id"] for item in page["items"]] == [second] and page["total"] == 1
    everything = client.get("/staging-faq", params={"limit": 1}, headers=REVIEWER).json()
    assert everything["total"] == 2 and len(everything["items"]) == 1 and everything["limit"] == 1
    assert "question_embedding" not in everything["items"][0]
    for params in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"status": "LOST"}):
        assert client.get("/staging-faq", params=params, headers=REVIEWER).status_code == 422, params

    stats = client.get("/staging-faq/stats", headers=REVIEWER).json()
    assert stats["by_status"]["PENDING"] == 1 and stats["by_status"]["APPROVED"] == 1 and stats["live_faqs"] == 1
    assert client.get("/staging-faq/999999", headers=REVIEWER).status_code == 404
    assert client.get("/staging-faq/0", headers=REVIEWER).status_code == 422
    assert client.get(f"/staging-faq/{2**63}", headers=REVIEWER).status_code == 422


def test_edit_a_pending_candidate_with_version_checks(client: TestClient, candidate: int) -> None:
    edited = client.put(
        f"/staging-faq/{candidate}",
        json={"answer": "Click Forgot password.", "tags": ["Account", "login"], "expected_version": 1},
        headers=REVIEWER,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["answer"] == "Click Forgot password." and edited.json()["version"] == 2
    assert edited.json()["tags"] == ["Account", "login"]

    stale = client.put(f"/staging-faq/{candidate}", json={"answer": "x y z", "expected_version": 1}, headers=REVIEWER)
    assert stale.status_code == 409
    assert client.put(f"/staging-faq/{candidate}", json={}, headers=REVIEWER).status_code == 422
    assert client.put(f"/staging-faq/{candidate}", json={"tags": "a,b"}, headers=REVIEWER).status_code == 422
    assert client.put(f"/staging-faq/{candidate}", json={"question": ""}, headers=REVIEWER).status_code == 422
    pii = client.put(f"/staging-faq/{candidate}", json={"answer": "Mail jane.doe@gmail.com"}, headers=REVIEWER)
    assert pii.status_code == 422
    assert client.put("/staging-faq/999999", json={"answer": "Fine answer."}, headers=REVIEWER).status_code == 404

    approve(client, candidate)
    late = client.put(f"/staging-faq/{candidate}", json={"answer": "Too late."}, headers=REVIEWER)
    assert late.status_code == 409


def test_existing_shows_the_merge_target_with_a_diff(client: TestClient, services: Services, candidate: int) -> None:
    assert client.get(f"/staging-faq/{candidate}/existing", headers=REVIEWER).status_code == 404
    faq_id = approve(client, candidate)["faq_id"]
    merge = stage(
        services,
        ["T-9"],
        question="How can I reset a forgotten password?",
        action="MERGE",
        merge_with_id=faq_id,
        similarity=0.91,
        answer="Use Forgot password on the sign-in page, then check the spam folder.",
    )

    preview = client.get(f"/staging-faq/{merge}/existing", headers=REVIEWER)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["target"]["id"] == faq_id and body["target_is_live"] is True
    assert "+How can I reset a forgotten password?" in body["question_diff"]
    assert "-How do I reset my password?" in body["question_diff"]
    assert client.get("/staging-faq/999999/existing", headers=REVIEWER).status_code == 404


def test_revert_soft_deletes_a_new_faq_and_then_conflicts(client: TestClient, candidate: int) -> None:
    assert client.post(f"/staging-faq/{candidate}/revert", headers=REVIEWER).status_code == 409
    faq_id = approve(client, candidate)["faq_id"]

    reverted = client.post(f"/staging-faq/{candidate}/revert", headers=REVIEWER)
    assert reverted.status_code == 200, reverted.text
    assert reverted.json()["status"] == "REVERTED" and reverted.json()["reviewed_by"] == "rita"
    assert client.get("/faq", params={"q": PASSWORD_Q}).json()["items"] == []
    assert client.post(f"/staging-faq/{candidate}/revert", headers=REVIEWER).status_code == 409
    assert client.post("/staging-faq/999999/revert", headers=REVIEWER).status_code == 404
    assert client.delete(f"/faq/{faq_id}", headers=REVIEWER).status_code == 404


def test_faq_list_search_and_soft_delete(client: TestClient, services: Services, admin: dict[str, str]) -> None:
    first = approve(client, stage(services, ["T-1"]))["faq_id"]
    second = approve(client, stage(services, ["T-2"], question="Where do I download my invoice as a PDF?"))["faq_id"]

    listing = client.get("/faq", params={"limit": 1}).json()
    assert listing["total"] == 2 and [item["id"] for item in listing["items"]] == [second]
    hits = client.get("/faq", params={"q": "invoice pdf download", "top_k": 1}).json()["items"]
    assert [hit["id"] for hit in hits] == [second] and 0 < hits[0]["similarity"] <= 1
    for params in ({"top_k": 0}, {"top_k": 101}, {"limit": 1001}, {"q": "x" * 2001}):
        assert client.get("/faq", params=params).status_code == 422, params

    deleted = client.delete(f"/faq/{second}", headers=admin)
    assert deleted.status_code == 200 and deleted.json()["is_deleted"] is True
    assert [item["id"] for item in client.get("/faq").json()["items"]] == [first]
    assert client.delete(f"/faq/{second}", headers=REVIEWER).status_code == 404
    assert client.delete("/faq/999999", headers=REVIEWER).status_code == 404


def test_process_mines_inline_tickets_into_pending_candidates(client: TestClient, admin: dict[str, str]) -> None:
    bodies = [
        "How do I reset my password? I forgot it and the login page refuses me.",
        "I forgot my password and cannot log in, how can I reset it?",
        "Password forgotten: how do I get a reset link to sign in again?",
    ]
    notes = "Use the Forgot password link on the sign-in page; the reset e-mail arrives within five minutes."
    tickets = [{"id": f"P-{n}", "body": body, "closurenotes": notes} for n, body in enumerate(bodies)]

    assert client.post("/process", json={"tickets": tickets}, headers=REVIEWER).status_code == 403
    assert client.post("/process", json={"tickets": tickets}).status_code == 401
    assert client.post("/process", json={"tickets": []}, headers=SERVICE).status_code == 422
    assert client.post("/process", json={"tickets": [{"body": "no id"}]}, headers=SERVICE).status_code == 422
    run = client.post("/process", json={"tickets": tickets}, headers=SERVICE)

    assert run.status_code == 200, run.text
    stats = run.json()["stats"]
    assert stats["processed"] == 3 and stats["staged_new"] == 1 and stats["staged_tickets"] == 3
    assert run.json()["waiting_reviews"] == 1
    staged = run.json()["staged_ids"][0]
    pending = client.get("/staging-faq", params={"status": "PENDING"}, headers=REVIEWER).json()["items"]
    assert [item["id"] for item in pending] == [staged]
    assert sorted(pending[0]["source_ticket_ids"]) == ["P-0", "P-1", "P-2"]

    # Approving resumes the run's interrupt, and the FAQ is served.
    decided = client.post(f"/staging-faq/{staged}/review", json={"decision": "approve"}, headers=admin)
    assert decided.status_code == 200 and decided.json()["reviewed_by"] == "root"
    assert client.get("/faq", params={"q": "forgot my password"}).json()["items"][0]["id"] == decided.json()["faq_id"]
    again = client.post("/process", json={"tickets": tickets}, headers=SERVICE).json()
    assert (
        again["stats"]["staged_new"] == 0
        and again["stats"]["skipped_duplicate"] + again["stats"]["skipped_identical"] >= 1
    )


def test_process_refuses_an_oversized_body(client: TestClient, api_settings: Any) -> None:
    limit = api_settings.api_max_process_bytes
    huge = {"tickets": [{"id": "X", "body": "a" * (limit + 10)}]}
    assert client.post("/process", json=huge, headers=SERVICE).status_code == 413


def test_edits_with_an_approval_are_applied_and_control_characters_dropped(client: TestClient, candidate: int) -> None:
    response = client.post(
        f"/staging-faq/{candidate}/review",
        json={"decision": "approve", "edits": {"answer": "Use the\x00 Forgot password link.", "tags": ["login"]}},
        headers=REVIEWER,
    )
    assert response.status_code == 200, response.text
    faq = client.get("/faq").json()["items"][0]
    assert (faq["answer"], faq["tags"]) == ("Use the Forgot password link.", ["login"])
    rejected_with_edits = client.post(
        f"/staging-faq/{candidate}/review", json={"decision": "reject", "edits": {"extra": 1}}, headers=REVIEWER
    )
    assert rejected_with_edits.status_code == 422


def test_process_drops_nul_characters_from_ticket_text(client: TestClient) -> None:
    ticket = {"id": "N-1", "body": "Printer\x00 broken on floor 2.", "closurenotes": "ok\x00"}
    response = client.post("/process", json={"tickets": [ticket]}, headers=SERVICE)
    assert response.status_code == 200, response.text
    assert response.json()["stats"]["processed"] == 1
