"""Response bodies of the FAQ endpoints that the review code has no record for.

Candidates, pages, audit entries, merge previews, stats, outcomes and production FAQs are answered with
`faq_mining.review_models`' and `faq_mining.faq_store`'s dataclasses themselves (their timestamps serialise
as `datetime.isoformat()`, `core.timestamps`), so /docs shows exactly what the review code returns.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kb.faq_retriever import FaqHit


class ReviewResult(BaseModel):
    """A reviewer's decision as recorded: read from the mining graph's `faq_mining.state.ReviewRecord`."""

    model_config = ConfigDict(from_attributes=True)

    staging_id: int
    decision: Literal["approve", "reject"]
    status: str | None = Field(description="The candidate's status afterwards.")
    reviewed_by: str = Field(validation_alias="reviewer")
    faq_id: int | None = Field(description="The production FAQ an approval created or updated.")


class FaqSearch(BaseModel):
    """The live FAQs closest to `query`, best first."""

    query: str
    items: list[FaqHit]


class DeletedFaq(BaseModel):
    """A soft-deleted FAQ's new version."""

    id: int
    version: int
    is_deleted: bool
