"""What FAQ review reads and returns: staged candidates, pages, audit entries, outcomes, merge previews."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from psycopg.rows import DictRow

from core.timestamps import IsoTimestamp
from faq_mining.faq_store import CandidateContent, FaqAction, FaqRow

Decision = Literal["approve", "reject"]
STATUSES = ("PENDING", "APPROVED", "REJECTED", "REVERTED")
ACTIONS = ("NEW", "MERGE")


@dataclass(frozen=True)
class CandidateEdits:
    """A reviewer's changes to a pending candidate; None leaves the field as it is."""

    question: str | None = None
    answer: str | None = None
    tags: list[str] | None = None

    @property
    def empty(self) -> bool:
        """Whether nothing would change."""
        return self.question is None and self.answer is None and self.tags is None


@dataclass(frozen=True)
class StagedCandidate(CandidateContent):
    """A row of `faq_staging`, without its embedding."""

    id: int
    status: str
    source_count: int
    version: int
    reviewed_by: str | None
    reviewed_at: IsoTimestamp | None
    review_note: str | None
    promoted_faq_id: int | None
    phrasings: list[dict[str, str]]  # other ways it is asked: [{"text", "origin": "ticket" | "edit"}]
    created_at: IsoTimestamp
    updated_at: IsoTimestamp

    @classmethod
    def from_row(cls, row: DictRow) -> StagedCandidate:
        """Build from a `SELECT CANDIDATE_COLUMNS FROM faq_staging` row."""
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


CANDIDATE_COLUMNS = ", ".join(StagedCandidate.__dataclass_fields__)


@dataclass(frozen=True)
class CandidatePage:
    """One page of candidates and how many match in all."""

    items: list[StagedCandidate]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class AuditEntry:
    """One line of the FAQ audit trail."""

    id: int
    staging_id: int | None
    faq_id: int | None
    action: str
    actor: str
    detail: dict[str, Any]
    at: IsoTimestamp


@dataclass(frozen=True)
class CandidateDetail:
    """A candidate with its audit trail (its sources are `candidate.source_ticket_ids`)."""

    candidate: StagedCandidate
    audit: list[AuditEntry]


@dataclass(frozen=True)
class ReviewStats:
    """Candidates by status and by action, and the production table's size."""

    by_status: dict[str, int]
    by_action: dict[str, int]
    pending_by_action: dict[str, int]
    live_faqs: int
    deleted_faqs: int


@dataclass(frozen=True)
class ReviewOutcome:
    """What a decision or revert did: the candidate's new status and the production FAQ it touched."""

    staging_id: int
    action: FaqAction
    status: str
    version: int
    reviewed_by: str
    faq_id: int | None
    faq_version: int | None


@dataclass(frozen=True)
class MergePreview:
    """A MERGE candidate beside its target, with unified diffs of what approving would change."""

    candidate: StagedCandidate
    target: FaqRow
    target_is_live: bool
    question_diff: str
    answer_diff: str
    tags_diff: str


def to_json(value: Any) -> Any:
    """A JSON-ready copy of a review dataclass (datetimes as ISO 8601)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: to_json(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
