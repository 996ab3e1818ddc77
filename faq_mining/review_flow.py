"""Apply a reviewer's decision: resume the candidate's waiting review interrupt, or decide directly.

A staged candidate's run (thread id = `faq_staging.run_id`) waits in one `interrupt()` per candidate.
Resuming one of them runs that branch's review node, which applies the decision through FaqReview. One
resume at a time per run (a blocking Postgres advisory lock), so two reviewers of one run queue instead
of racing on its checkpoint; once the lock is held, a candidate that is no longer PENDING is a conflict.
A candidate whose run no longer waits on it (its thread was pruned, or it was staged outside a graph
run) is decided directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from langgraph.types import Command

from core.database import Database
from core.errors import ConflictError, DoxaError, InvalidInputError, NotFoundError
from core.services import Services
from faq_mining.nodes.request_review import record_of, to_candidate_edits
from faq_mining.service import MiningService, mining_service_for
from faq_mining.state import ReviewDecision, ReviewRecord

_ERRORS: dict[str, type[DoxaError]] = {
    "conflict": ConflictError,
    "invalid": InvalidInputError,
    "not_found": NotFoundError,
}


def resume_review(
    services: Services, staging_id: int, decision: ReviewDecision, *, service: MiningService | None = None
) -> ReviewRecord:
    """Approve or reject one candidate; ConflictError when it was already decided, NotFoundError if unknown."""
    service = service or mining_service_for(services, with_source=False)
    run_id, _ = _candidate_state(services.db, staging_id)
    if run_id is None:
        return _decide_directly(service, staging_id, decision)
    with _run_lock(services.db, run_id):
        _, status = _candidate_state(services.db, staging_id)
        if status != "PENDING":
            raise ConflictError(f"candidate {staging_id} is already {status}")
        config = service.config(run_id)
        waiting = next(
            (
                item
                for item in service.graph.get_state(config).interrupts
                if isinstance(item.value, dict) and item.value.get("staging_id") == staging_id
            ),
            None,
        )
        if waiting is None:
            return _decide_directly(service, staging_id, decision)
        final = service.graph.invoke(
            Command(resume={waiting.id: decision.model_dump(mode="json")}),
            config,
            context=service.context,
            durability="sync",
        )
    record = next(record for record in reversed(final["reviews"]) if record.staging_id == staging_id)
    if record.error is not None and record.error_kind is not None:
        raise _ERRORS[record.error_kind](record.error)
    return record


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
def _run_lock(db: Database, run_id: str) -> Iterator[None]:
    """Hold the run's advisory lock (waiting for it) on a connection of its own."""
    key = f"doxa-faq-review:{run_id}"
    with db.connection() as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
        conn.commit()
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
            conn.commit()
