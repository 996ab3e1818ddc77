"""Races through the HTTP API: one promotion of 50 approvals, one resume of two feedbacks, one staging per ticket.

The service-level races are tested beside their code (tests/integration/test_faq_review.py,
test_ticket_resume_lock.py, test_faq_mining.py::test_two_concurrent_runs_stage_each_ticket_at_most_once); these
send the same races through the app: auth, routing, the run pool and problem+json included.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from fastapi.testclient import TestClient

from core.services import Services
from faq_mining.service import mining_service_for
from tests.api.conftest import bearer
from tests.api.test_faq_api import stage
from tests.api.test_tickets import REFUND_TICKET, refund_article  # noqa: F401 - fixture
from tests.reliability.conftest import Record

REVIEWER = bearer("rita", ["reviewer"])
AGENT = bearer("agent-1", ["agent"])
SERVICE = bearer("zendesk-bridge", ["service"])
MINED = [
    "How do I reset my password? I forgot it and the login page refuses me.",
    "I forgot my password and cannot log in, how can I reset it?",
    "Password forgotten: how do I get a reset link to sign in again?",
    "The VPN client disconnects every ten minutes on Windows 11 laptops.",
    "Our VPN keeps dropping the connection every few minutes on Windows 11.",
    "VPN connection drops regularly after a few minutes on my Windows 11 machine.",
]
NOTES = [
    "Use the Forgot password link on the sign-in page; the reset e-mail arrives within five minutes.",
    "Update the VPN client to version 5.2 and disable the power saving mode of the network adapter.",
]


def all_at_once(count: int, call: Callable[[], httpx.Response]) -> list[httpx.Response]:
    barrier = threading.Barrier(count)

    def fire() -> httpx.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: fire(), range(count)))


def rows(services: Services, query: str, *params: Any) -> list[dict[str, Any]]:
    with services.db.connection() as conn:
        found = conn.execute(query, params).fetchall()
        conn.rollback()
    return [dict(row) for row in found]


def test_fifty_parallel_approvals_through_the_api_promote_once(
    client: TestClient, services: Services, record: Record
) -> None:
    staging_id = stage(services, ["T-1", "T-2"])

    responses = all_at_once(
        50, lambda: client.post(f"/staging-faq/{staging_id}/review", json={"decision": "approve"}, headers=REVIEWER)
    )

    codes = Counter(response.status_code for response in responses)
    assert codes == {200: 1, 409: 49}, codes
    assert all(r.headers["content-type"] == "application/problem+json" for r in responses if r.status_code == 409)
    assert len(rows(services, "SELECT id FROM faq")) == 1
    approvals = rows(services, "SELECT id FROM faq_audit WHERE staging_id = %s AND action = 'approved'", staging_id)
    assert len(approvals) == 1
    record(faults_injected=50, promotions=len(approvals), double_promotions=len(approvals) - 1, conflicts=codes[409])


def test_two_parallel_feedbacks_through_the_api_resume_once(
    client: TestClient,
    services: Services,
    refund_article: None,  # noqa: F811
    record: Record,
) -> None:
    created = client.post("/tickets", json=REFUND_TICKET | {"id": "RACE-1"}, headers=AGENT)
    assert created.status_code == 201 and created.json()["waiting_for_feedback"], created.text

    responses = all_at_once(2, lambda: client.post("/tickets/RACE-1/feedback", json={"satisfied": True}, headers=AGENT))

    assert sorted(response.status_code for response in responses) == [200, 409], [r.text for r in responses]
    assert client.get("/tickets/RACE-1", headers=AGENT).json()["status"] == "closed"
    emails = rows(services, "SELECT template FROM outbox WHERE ticket_id = 'RACE-1'")
    assert len(emails) == len({email["template"] for email in emails})
    record(faults_injected=2, resumes=sum(r.status_code == 200 for r in responses))


def test_two_parallel_process_calls_stage_each_ticket_at_most_once(
    client: TestClient, services: Services, record: Record
) -> None:
    tickets = [{"id": f"R-{n}", "body": body, "closurenotes": NOTES[n // 3]} for n, body in enumerate(MINED)]

    responses = all_at_once(2, lambda: client.post("/process", json={"tickets": tickets}, headers=SERVICE))

    assert [response.status_code for response in responses] == [200, 200], [r.text for r in responses]
    staged = [
        ticket
        for row in rows(services, "SELECT source_ticket_ids FROM faq_staging")
        for ticket in row["source_ticket_ids"]
    ]
    assert staged and len(staged) == len(set(staged))
    assert sum(response.json()["stats"]["staged_tickets"] for response in responses) == len(staged)
    record(faults_injected=2, tickets_staged_twice=len(staged) - len(set(staged)), staged_tickets=len(staged))


def test_fifty_mixed_reviews_of_candidates_a_run_waits_on_answer_the_one_recorded(
    client: TestClient, services: Services, record: Record
) -> None:
    tickets = [{"id": f"M-{n}", "body": body, "closurenotes": NOTES[n // 3]} for n, body in enumerate(MINED)]
    assert client.post("/process", json={"tickets": tickets}, headers=SERVICE).status_code == 200
    staged = rows(services, "SELECT id FROM faq_staging WHERE status = 'PENDING' AND run_id IS NOT NULL ORDER BY id")
    assert len(staged) == 2, staged
    first, second = (row["id"] for row in staged)
    # 50 reviewers at once, each with its own identity: approvals, rejections and edited approvals, 25 per candidate.
    plans = [(first if n % 2 else second, f"rev-{n}", ["approve", "reject", "approve-edit"][n % 3]) for n in range(50)]
    barrier = threading.Barrier(len(plans))

    def review(plan: tuple[int, str, str]) -> tuple[tuple[int, str, str], httpx.Response]:
        staging_id, reviewer, kind = plan
        body: dict[str, Any] = {"decision": "reject" if kind == "reject" else "approve", "note": reviewer}
        if kind == "approve-edit":
            body["edits"] = {"answer": f"{NOTES[0]} (checked by {reviewer})"}
        barrier.wait()
        response = client.post(f"/staging-faq/{staging_id}/review", json=body, headers=bearer(reviewer, ["reviewer"]))
        return plan, response

    with ThreadPoolExecutor(max_workers=len(plans)) as pool:
        results = list(pool.map(review, plans))

    codes = Counter(response.status_code for _, response in results)
    assert set(codes) <= {200, 409}, [r.text for _, r in results if r.status_code not in (200, 409)]
    final = {row["id"]: row for row in rows(services, "SELECT id, status, reviewed_by FROM faq_staging")}
    for staging_id in (first, second):
        mine = [(plan, response) for plan, response in results if plan[0] == staging_id]
        winners = [(plan, response) for plan, response in mine if response.status_code == 200]
        assert len(winners) == 1, Counter(response.status_code for _, response in mine)
        (_, reviewer, kind), response = winners[0]
        wanted = "reject" if kind == "reject" else "approve"
        assert response.json()["decision"] == wanted and response.json()["reviewed_by"] == reviewer
        assert final[staging_id]["reviewed_by"] == reviewer
        assert final[staging_id]["status"] == ("REJECTED" if wanted == "reject" else "APPROVED")
        for _, lost in mine:
            if lost.status_code == 409:
                assert f"is {final[staging_id]['status']} (by {reviewer})" in lost.json()["detail"]
    # The run was resumed afterwards: it no longer waits on either candidate, and each branch noted the winner.
    (run,) = rows(services, "SELECT DISTINCT run_id FROM faq_staging WHERE id = ANY(%s)", [first, second])
    mining = mining_service_for(services, with_source=False)
    snapshot = mining.graph.get_state(mining.config(run["run_id"]))
    assert snapshot.interrupts == ()
    noted = [(r.staging_id, r.reviewer) for r in snapshot.values["reviews"]]
    assert sorted(noted) == sorted((sid, final[sid]["reviewed_by"]) for sid in (first, second))
    record(faults_injected=len(plans), review_winners=codes[200], review_conflicts=codes[409], review_5xx=0)
