"""kill -9 of the API while tickets are mid-graph: a restarted process finishes every thread, twice nothing.

The service runs as a real `uvicorn` child process on the test's database. Tickets are accepted with
`?async=true` (202: row and input checkpoint written), the process is killed while its workers are inside
the graph, and a new process continues every thread left `running` from its last checkpoint
(graph/recovery.py). FAQ candidates staged before the kill stay pending and reviewable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from core.database import Database
from tests.api.conftest import bearer
from tests.reliability.conftest import Record, ServiceProcess

AGENT = bearer("agent-1", ["agent"])
SERVICE = bearer("zendesk-bridge", ["service"])
REVIEWER = bearer("rita", ["reviewer"])
ENDED = {"answered", "awaiting_feedback", "escalated", "rejected", "closed"}
TICKETS = 40

BODIES = [
    "I forgot my password and the reset link never arrives in my inbox, how do I sign in?",
    "The VPN client disconnects every ten minutes on my Windows 11 laptop since the update.",
    "Where can I download the PDF invoice for last month's subscription?",
    "Our whole office lost access to the ERP this morning, production is stopped, urgent!",
    "Please add a dark mode to the mobile app.",
    "asdf",
]
MINED = [
    "How do I reset my password? I forgot it and the login page refuses me.",
    "I forgot my password and cannot log in, how can I reset it?",
    "Password forgotten: how do I get a reset link to sign in again?",
]
NOTES = "Use the Forgot password link on the sign-in page; the reset e-mail arrives within five minutes."


def statuses(db: Database) -> dict[str, str]:
    with db.connection() as conn:
        rows = conn.execute("SELECT id, status FROM ticket WHERE id LIKE 'K-%'").fetchall()
        conn.rollback()
    return {row["id"]: row["status"] for row in rows}


def scalar(db: Database, query: str) -> Any:
    with db.connection() as conn:
        row = conn.execute(query).fetchone()
        conn.rollback()
    assert row is not None
    return next(iter(row.values()))


def checkpointed_steps(db: Database, thread_ids: list[str]) -> dict[str, int]:
    """How many checkpoints each thread has: 2 means only the accepted input, more means it was inside the graph."""
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT thread_id, count(*) AS n FROM checkpoints WHERE thread_id = ANY(%s) GROUP BY thread_id",
            (thread_ids,),
        ).fetchall()
        conn.rollback()
    return {row["thread_id"]: row["n"] for row in rows}


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout_s:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.2)
    return time.monotonic() - start


def test_kill_9_mid_graph_then_restart_resumes_every_thread(
    service_process: Callable[[], ServiceProcess], db: Database, record: Record
) -> None:
    first = service_process()
    with httpx.Client(base_url=first.url, timeout=120) as http:
        mined = http.post(
            "/process",
            json={"tickets": [{"id": f"M-{n}", "body": body, "closurenotes": NOTES} for n, body in enumerate(MINED)]},
            headers=SERVICE,
        )
        assert mined.status_code == 200, mined.text
        staged_ids = mined.json()["staged_ids"]
        assert staged_ids
        for number in range(TICKETS):
            ticket = {
                "id": f"K-{number}",
                "subject": f"Help needed #{number}",
                "body": BODIES[number % len(BODIES)],
                "customer_email": f"customer{number}@example.com",
            }
            assert http.post("/tickets", params={"async": "true"}, json=ticket, headers=AGENT).status_code == 202
    # Every accepted ticket is durable before its 202: row and input checkpoint.
    assert len(statuses(db)) == TICKETS
    wait_until(lambda: sum(s != "running" for s in statuses(db).values()) >= 3, 120, "the first runs to end")

    first.kill()
    at_kill = statuses(db)
    interrupted = sorted(thread for thread, status in at_kill.items() if status == "running")
    steps = checkpointed_steps(db, interrupted)
    mid_graph = [thread for thread in interrupted if steps.get(thread, 0) > 2]
    assert interrupted, "the kill came after every run had ended: nothing was tested"
    assert all(steps.get(thread, 0) >= 1 for thread in interrupted), "an accepted ticket had no checkpoint"

    second = service_process()
    recovery_s = wait_until(lambda: "running" not in statuses(db).values(), 240, "the restarted service to recover")

    final = statuses(db)
    lost = sorted(thread for thread, status in final.items() if status not in ENDED)
    duplicate_keys = scalar(
        db, "SELECT count(*) AS n FROM (SELECT 1 FROM outbox GROUP BY idempotency_key HAVING count(*) > 1) d"
    )
    # No feedback was given, so every ticket is on attempt 1: one e-mail per ticket and template at most.
    duplicate_emails = scalar(
        db, "SELECT count(*) AS n FROM (SELECT 1 FROM outbox GROUP BY ticket_id, template HAVING count(*) > 1) d"
    )
    double_escalations = scalar(
        db, "SELECT count(*) AS n FROM (SELECT 1 FROM escalation GROUP BY ticket_id HAVING count(*) > 1) d"
    )
    assert len(final) == TICKETS and lost == []
    assert (duplicate_keys, duplicate_emails, double_escalations) == (0, 0, 0)

    with httpx.Client(base_url=second.url, timeout=120) as http:
        for thread in interrupted:
            shown = http.get(f"/tickets/{thread}", headers=AGENT)
            assert shown.status_code == 200 and shown.json()["status"] in ENDED, shown.text
        # A thread waiting before the kill, or after the recovery, still takes its feedback.
        waiting = [thread for thread, status in final.items() if status == "awaiting_feedback"]
        if waiting:
            closed = http.post(f"/tickets/{waiting[0]}/feedback", json={"satisfied": True}, headers=AGENT)
            assert closed.status_code == 200 and closed.json()["status"] == "closed", closed.text
        # The candidates staged before the kill are still pending; approving one resumes its run's review.
        pending = http.get("/staging-faq", params={"status": "PENDING"}, headers=REVIEWER).json()["items"]
        assert sorted(item["id"] for item in pending) == sorted(staged_ids)
        approved = http.post(f"/staging-faq/{staged_ids[0]}/review", json={"decision": "approve"}, headers=REVIEWER)
        assert approved.status_code == 200 and approved.json()["status"] == "APPROVED", approved.text

    record(
        faults_injected=1,
        tickets_accepted=TICKETS,
        running_at_kill=len(interrupted),
        mid_graph_at_kill=len(mid_graph),
        threads_lost=len(lost),
        duplicate_emails=duplicate_emails + duplicate_keys,
        double_escalations=double_escalations,
        staged_candidates_lost=len(set(staged_ids) - {item["id"] for item in pending}),
        recovery_s=round(recovery_s, 1),
    )
