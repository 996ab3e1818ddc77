"""FAQ endpoints: mine inline tickets, review staged candidates, search and soft-delete production FAQs.

Reviews go through `resume_review`, so a mining run waiting on a candidate's interrupt is resumed (and
the candidate decided directly when no run waits). The reviewer is always the caller's subject.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from api.deps import FaqCurator, Miner, Reviewer, ServicesDep
from api.faq_responses import (
    DeletedFaq,
    FaqSearch,
    ReviewResult,
)
from api.faq_schemas import CandidateUpdate, ProcessRequest, ReviewBody
from api.problems import problem_responses
from core.errors import ConflictError, NotFoundError
from core.services import Services
from faq_mining.faq_catalog import FaqPage, list_live_faqs
from faq_mining.review import FaqReview
from faq_mining.review_flow import resume_review
from faq_mining.review_models import (
    CandidateDetail,
    CandidatePage,
    MergePreview,
    ReviewOutcome,
    ReviewStats,
    StagedCandidate,
)
from faq_mining.service import MiningRun, mining_service_for
from faq_mining.state import MiningRequest, ReviewDecision
from kb.faq_retriever import FaqRetriever

router = APIRouter(tags=["faq"])

StagingId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The candidate's id.")]
FaqId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The production FAQ's id.")]
_ERRORS = problem_responses(
    401, 403, 422, 500, 503, _401="not authenticated", _403="the caller lacks the role", _422="not valid"
)
_MISSING = problem_responses(404, _404="no such candidate or FAQ")
_CONFLICT = problem_responses(409, _409="the candidate is not in a state that allows this, or changed meanwhile")


def _review(services: Services) -> FaqReview:
    return FaqReview.from_services(services)


@router.post(
    "/process",
    responses={
        **_ERRORS,
        **problem_responses(409, 413, _409="a ticket is being mined", _413="larger than api_max_process_bytes"),
    },
)
async def process(body: ProcessRequest, services: ServicesDep, principal: Miner) -> MiningRun:
    """Mine the tickets in the body through the mining graph; the run's statistics and staged candidate ids."""

    def mine() -> MiningRun:
        return mining_service_for(services, with_source=False).mine(MiningRequest(tickets=body.tickets))

    return await run_in_threadpool(mine)


@router.get("/staging-faq", responses=_ERRORS)
async def list_candidates(
    services: ServicesDep,
    principal: Reviewer,
    status: Annotated[
        str | None,
        Query(pattern=r"(?i)^(pending|approved|rejected|reverted)$", description="Only candidates in this status."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Rows per page.")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")] = 0,
) -> CandidatePage:
    """Staged candidates, newest first, with the total that match."""
    page = await run_in_threadpool(lambda: _review(services).list(status, limit, offset))
    return page


@router.get("/staging-faq/stats", responses=_ERRORS)
async def candidate_stats(services: ServicesDep, principal: Reviewer) -> ReviewStats:
    """Candidates by status and action, pending by action, live and deleted production FAQs."""
    stats = await run_in_threadpool(lambda: _review(services).stats())
    return stats


@router.get("/staging-faq/{staging_id}", responses={**_ERRORS, **_MISSING})
async def show_candidate(staging_id: StagingId, services: ServicesDep, principal: Reviewer) -> CandidateDetail:
    """One candidate with its source tickets, PII kinds and audit trail."""
    detail = await run_in_threadpool(lambda: _review(services).get(staging_id))
    return detail


@router.put("/staging-faq/{staging_id}", responses={**_ERRORS, **_MISSING, **_CONFLICT})
async def edit_candidate(
    staging_id: StagingId, body: CandidateUpdate, services: ServicesDep, principal: Reviewer
) -> StagedCandidate:
    """Edit a PENDING candidate's question, answer or tags (409 otherwise, or when `expected_version` is stale)."""
    edited = await run_in_threadpool(
        lambda: _review(services).update(
            staging_id,
            editor=principal.subject,
            question=body.question,
            answer=body.answer,
            tags=body.tags,
            expected_version=body.expected_version,
        )
    )
    return edited


@router.post("/staging-faq/{staging_id}/review", responses={**_ERRORS, **_MISSING, **_CONFLICT})
async def review_candidate(
    staging_id: StagingId, body: ReviewBody, services: ServicesDep, principal: Reviewer
) -> ReviewResult:
    """Approve or reject a PENDING candidate as the caller (409 when already decided); resumes its mining run."""
    edits = body.edits.to_review_edits() if body.edits is not None else None
    decision = ReviewDecision(decision=body.verdict, reviewer=principal.subject, note=body.note, edits=edits)
    record = await run_in_threadpool(resume_review, services, staging_id, decision)
    return ReviewResult.model_validate(record)


@router.get("/staging-faq/{staging_id}/existing", responses={**_ERRORS, **_MISSING})
async def merge_target(staging_id: StagingId, services: ServicesDep, principal: Reviewer) -> MergePreview:
    """A MERGE candidate's target FAQ as it is now, with unified diffs; 404 for a NEW candidate."""

    def preview() -> MergePreview:
        review = _review(services)
        if review.get(staging_id).candidate.merge_with_id is None:
            raise NotFoundError(f"candidate {staging_id} is NEW: it has no existing FAQ to merge into")
        return review.existing(staging_id)

    return await run_in_threadpool(preview)


@router.post("/staging-faq/{staging_id}/revert", responses={**_ERRORS, **_MISSING, **_CONFLICT})
async def revert_candidate(staging_id: StagingId, services: ServicesDep, principal: Reviewer) -> ReviewOutcome:
    """Undo an approval: a MERGE target gets its previous version back, a NEW FAQ is soft-deleted."""
    outcome = await run_in_threadpool(lambda: _review(services).revert(staging_id, principal.subject))
    return outcome


@router.get("/faq", responses=problem_responses(422, 500, 503))
async def search_faqs(
    services: ServicesDep,
    q: Annotated[str | None, Query(max_length=2000, description="A question; without it, a page of FAQs.")] = None,
    top_k: Annotated[int, Query(ge=1, le=100, description="FAQs to return for `q`.")] = 5,
    min_similarity: Annotated[float, Query(ge=-1, le=1, description="Drop FAQs below this cosine.")] = 0.0,
    limit: Annotated[int, Query(ge=1, le=1000, description="Rows per page (without `q`).")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip (without `q`).")] = 0,
) -> FaqSearch | FaqPage:
    """Live production FAQs closest to `q` (question cosine); without `q`, most recently changed first."""
    if q is not None and q.strip():
        query = q
        hits = await run_in_threadpool(
            lambda: FaqRetriever.from_services(services).search(query, top_k, min_similarity)
        )
        return FaqSearch(query=q, items=hits)
    page = await run_in_threadpool(list_live_faqs, services.db, limit, offset)
    return page


@router.delete("/faq/{faq_id}", responses={**_ERRORS, **problem_responses(404, _404="no such FAQ, or already deleted")})
async def delete_faq(faq_id: FaqId, services: ServicesDep, principal: FaqCurator) -> DeletedFaq:
    """Soft-delete a production FAQ: it leaves every search at once; its history stays."""

    def delete() -> DeletedFaq:
        try:
            deleted = _review(services).delete_faq(faq_id, principal.subject)
        except ConflictError as exc:  # already deleted: gone, as far as this resource is concerned
            raise NotFoundError(str(exc)) from exc
        return DeletedFaq(id=deleted.id, version=deleted.version, is_deleted=deleted.is_deleted)

    return await run_in_threadpool(delete)
