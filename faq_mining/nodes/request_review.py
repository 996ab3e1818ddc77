"""request_review: one staged candidate waits for a person's decision, then the decision is applied.

The decision is applied in this node, right after `interrupt()` returns, rather than in a next node:
the review branches run in one super-step, and a super-step ends only when every branch has finished,
so a next node would apply an approval only once every candidate of the run had been reviewed. Applying
it here is safe on a re-run because the review operation is atomic and refuses a second decision.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.graph_runtime.edge import interrupt_until_valid, validated
from faq_mining.nodes.context import DecisionOutcome, MiningContext, mining_context
from faq_mining.review_models import CandidateEdits
from faq_mining.state import ReviewDecision, ReviewEdits, ReviewRecord, ReviewRequest, ReviewTask

_ERROR_KINDS: dict[type[Exception], Any] = {
    ConflictError: "conflict",
    InvalidInputError: "invalid",
    NotFoundError: "not_found",
}


def to_candidate_edits(edits: ReviewEdits | None) -> CandidateEdits | None:
    """The review operations' form of a reviewer's edits."""
    if edits is None:
        return None
    return CandidateEdits(question=edits.question, answer=edits.answer, tags=edits.tags)


def record_of(record: ReviewRecord, outcome: DecisionOutcome) -> ReviewRecord:
    """The record of an applied decision."""
    return record.model_copy(
        update={
            "status": outcome.status,
            "action": outcome.action,
            "version": outcome.version,
            "faq_id": outcome.faq_id,
            "faq_version": outcome.faq_version,
        }
    )


def request_review(state: ReviewTask, runtime: Runtime[MiningContext]) -> dict[str, Any]:
    """Wait for the reviewer's decision on one candidate and apply it through the review operations.

    A refused decision (already decided elsewhere, personal data in an edit, ...) ends this branch with the
    error recorded, so the run never stays stuck on a resume value it cannot apply; the candidate stays as
    the review operations left it and later decisions go to them directly.
    """
    request = validated(ReviewRequest, state["request"], "the staged candidate")
    decision = interrupt_until_valid(ReviewDecision, request.model_dump(mode="json"), "the review decision")
    record = ReviewRecord(staging_id=request.staging_id, decision=decision.decision, reviewer=decision.reviewer)
    if decision.already_applied:
        # Decided (row locked, status checked, written) before the run was resumed: nothing to apply, and a
        # resume replayed after a failure cannot apply a stale decision a second time.
        status = "APPROVED" if decision.decision == "approve" else "REJECTED"
        return {"reviews": [record.model_copy(update={"status": status, "action": request.action})]}
    try:
        outcome = mining_context(runtime).review.decide(
            request.staging_id,
            decision.decision,
            decision.reviewer,
            note=decision.note,
            expected_version=decision.expected_version,
            edits=to_candidate_edits(decision.edits),
        )
    except (ConflictError, InvalidInputError, NotFoundError) as exc:
        kind = next(kind for cls, kind in _ERROR_KINDS.items() if isinstance(exc, cls))
        return {"reviews": [record.model_copy(update={"error": str(exc), "error_kind": kind})]}
    return {"reviews": [record_of(record, outcome)]}
