"""Response bodies of the FAQ endpoints: staged candidates, their audit trail, review outcomes, production FAQs.

The records with timestamps mirror `faq_mining.review_models` field for field, as `to_json` writes them
(`datetime.isoformat()`), so /docs shows what the review console reads; records without timestamps
(`ReviewStats`, `ReviewOutcome`, `FaqHit`) are answered as the review and retrieval code returns them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from api.responses import IsoTimestamp
from kb.faq_retriever import FaqHit

FaqAction = Literal["NEW", "MERGE"]


class Candidate(BaseModel):
    """A staged FAQ candidate (a row of `faq_staging`, without its embedding)."""

    id: int
    action: FaqAction = Field(description="NEW: a new FAQ; MERGE: folds into `merge_with_id`.")
    status: str = Field(description="PENDING, APPROVED, REJECTED or REVERTED.")
    question: str
    answer: str
    tags: list[str]
    confidence: float
    merge_with_id: int | None
    similarity: float | None = Field(description="Question cosine to the closest production FAQ.")
    source_ticket_ids: list[str]
    source_count: int
    pii_kinds: list[str] = Field(description="Kinds of personal data redacted from the candidate.")
    run_id: str | None
    version: int = Field(description="Send as `expected_version` to refuse a concurrent edit.")
    reviewed_by: str | None
    reviewed_at: IsoTimestamp | None
    review_note: str | None
    promoted_faq_id: int | None
    metadata: dict[str, Any]
    created_at: IsoTimestamp
    updated_at: IsoTimestamp


class CandidatePage(BaseModel):
    """One page of candidates, newest first, and how many match in all."""

    items: list[Candidate]
    total: int
    limit: int
    offset: int


class AuditEntry(BaseModel):
    """One line of the FAQ audit trail."""

    id: int
    staging_id: int | None
    faq_id: int | None
    action: str
    actor: str
    detail: dict[str, Any]
    at: IsoTimestamp


class CandidateDetail(BaseModel):
    """A candidate with its audit trail."""

    candidate: Candidate
    audit: list[AuditEntry]


class ReviewResult(BaseModel):
    """A reviewer's decision as recorded."""

    staging_id: int
    decision: Literal["approve", "reject"]
    status: str | None = Field(description="The candidate's status afterwards.")
    reviewed_by: str
    faq_id: int | None = Field(description="The production FAQ an approval created or updated.")


class Faq(BaseModel):
    """A production FAQ with its audit metadata."""

    id: int
    question: str
    answer: str
    tags: list[str]
    version: int
    is_deleted: bool
    embedding_model: str
    source_staging_id: int | None
    source_ticket_ids: list[str]
    promoted_at: IsoTimestamp
    promoted_by: str
    metadata: dict[str, Any]
    updated_at: IsoTimestamp


class MergePreview(BaseModel):
    """A MERGE candidate beside its target, with unified diffs of what approving would change."""

    candidate: Candidate
    target: Faq
    target_is_live: bool
    question_diff: str
    answer_diff: str
    tags_diff: str


class FaqPage(BaseModel):
    """One page of live FAQs, most recently changed first, and how many are live in all."""

    items: list[Faq]
    total: int
    limit: int
    offset: int


class FaqSearch(BaseModel):
    """The live FAQs closest to `query`, best first."""

    query: str
    items: list[FaqHit]


class DeletedFaq(BaseModel):
    """A soft-deleted FAQ's new version."""

    id: int
    version: int
    is_deleted: bool
