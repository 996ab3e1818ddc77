"""Apply a reviewer's decision, then release the mining run that waits on it.

A staged candidate's run (thread id = `faq_staging.run_id`) waits in one `interrupt()` per candidate.
The decision is taken first, by the review operations alone: one transaction locks the candidate's row,
checks it is PENDING and writes the outcome. So under any number of concurrent reviews exactly one
request wins, it gets its own decision back, and every other one a ConflictError naming the decision
that won; no request holds a pooled connection while waiting on another.

Only then is the run resumed, marked `already_applied` so its branch records the outcome without
applying anything. The run's checkpoint takes one resume at a time, so the resume is guarded by a
Postgres advisory lock taken with `pg_try_advisory_lock`, never waited on: whoever holds it resumes
every interrupt whose candidate is decided (its own and those decided meanwhile), releases, and looks
once more, so a decision that arrived while the lock was held is not left waiting. A resume that fails
leaves the interrupt in place and the next review of the run (or `doxa faq review`) releases it; the
value it resumes with is read from the candidate's row each time, never a stale request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from langgraph.types import Command

from core.database import Database
from core.errors import DoxaError, NotFoundError
from core.services import Services
from faq_mining.nodes.request_review import record_of, to_candidate_edits
from faq_mining.service import MiningService, mining_service_for
from faq_mining.state import ReviewDecision, ReviewRecord

log = logging.getLogger(__name__)


def resume_review(
    services: Services, staging_id: int, decision: ReviewDecision, *, service: MiningService | None = None
) -> ReviewRecord:
    """Approve or reject one candidate; ConflictError when it was already decided, NotFoundError if unknown."""
    service = service or mining_service_for(services, with_source=False)
    run_id, _ = _candidate_state(services.db, staging_id)
    record = _decide_directly(service, staging_id, decision)
    if run_id is not None:
        release_decided_reviews(services.db, service, run_id)
    return record


def release_decided_reviews(db: Database, service: MiningService, run_id: str) -> int:
    """Resume the run's interrupts whose candidates are already decided; returns how many were resumed.

    Never waits: when another process holds the run's lock, that process releases them (it looks again
    after unlocking). A resume that fails is logged and left for the next call.
    """
    resumed = 0
    while True:
        with _try_run_lock(db, run_id) as locked:
            if not locked:
                return resumed
            try:
                resumed += _resume_decided(db, service, run_id)
            except (psycopg.Error, DoxaError) as exc:
                # The decision is recorded already; the run catches up on the next review of it.
                log.warning("FAQ run %s not resumed yet: %s: %s", run_id, exc.__class__.__name__, exc)
                return resumed
        if not _decided_waiting(db, service, run_id):
            return resumed


def _resume_decided(db: Database, service: MiningService, run_id: str) -> int:
    """Under the run's lock: resume every waiting interrupt whose candidate is decided, until none is left."""
    resumed = 0
    while waiting := _decided_waiting(db, service, run_id):
        service.graph.invoke(
            Command(resume={interrupt_id: value.model_dump(mode="json") for interrupt_id, value in waiting.items()}),
            service.config(run_id),
            context=service.context,
            durability="sync",
        )
        resumed += len(waiting)
    return resumed


def _decided_waiting(db: Database, service: MiningService, run_id: str) -> dict[str, ReviewDecision]:
    """The run's waiting interrupts whose candidate is no longer PENDING, with the decision recorded for it."""
    interrupts = {
        int(item.value["staging_id"]): item.id
        for item in service.graph.get_state(service.config(run_id)).interrupts
        if isinstance(item.value, dict) and "staging_id" in item.value
    }
    if not interrupts:
        return {}
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT id, status, reviewed_by FROM faq_staging WHERE id = ANY(%s) AND status IN ('APPROVED', 'REJECTED')",
            (list(interrupts),),
        ).fetchall()
        conn.rollback()
    return {
        interrupts[row["id"]]: ReviewDecision(
            decision="approve" if row["status"] == "APPROVED" else "reject",
            reviewer=row["reviewed_by"] or "unknown",
            already_applied=True,
        )
        for row in rows
    }


def _decide_directly(service: MiningService, staging_id: int, decision: ReviewDecision) -> ReviewRecord:
    outcome = service.context.review.decide(
        staging_id,
        decision.decision,
        decision.reviewer,
        note=decision.note,
        expected_version=decision.expected_version,
        edits=to_candidate_edits(decision.edits),
    )
    record = ReviewRecord(staging_id=staging_id, decision=decision.decision, reviewer=decision.reviewer)
    return record_of(record, outcome)


def _candidate_state(db: Database, staging_id: int) -> tuple[str | None, str]:
    with db.connection() as conn:
        row = conn.execute("SELECT run_id, status FROM faq_staging WHERE id = %s", (staging_id,)).fetchone()
        conn.rollback()
    if row is None:
        raise NotFoundError(f"FAQ candidate {staging_id} does not exist")
    return row["run_id"], row["status"]


@contextmanager
def _try_run_lock(db: Database, run_id: str) -> Iterator[bool]:
    """Take the run's advisory lock if it is free (never wait), on a connection of its own."""
    key = f"doxa-faq-review:{run_id}"
    with db.connection() as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s)) AS locked", (key,)).fetchone()
        conn.commit()
        locked = bool(row and row["locked"])
        try:
            yield locked
        finally:
            if locked:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
                conn.commit()
