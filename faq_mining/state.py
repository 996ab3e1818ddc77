"""The FAQ-mining graph's state: what starts a run, what it counts, and what it carries between steps.

Checkpoint size: a run may hold 10,000 tickets. Their text, the redacted text, the clusters and the
vectors travel in `UntrackedValue` channels, which LangGraph never writes to the checkpointer (not even
as pending writes). So raw ticket text, personal data included, never lands in the checkpoint tables,
and each super-step's checkpoint holds only the request, the counters, the watermark target and the
staged candidates (ids and their redacted text). Inline tickets (the API's) would be checkpointed with
the graph's input, so `MiningService` hands them over in the run's context instead
(`MiningContext.inline_tickets`). The steps before `stage` are not resumable on their own and need not be: a run
that dies before staging is simply run again, and the claims on source tickets plus the watermark make
that stage nothing twice. What must survive a restart, the review interrupts, needs only staging ids.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, NotRequired

from langgraph.channels.untracked_value import UntrackedValue
from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import TypedDict

from core.embeddings import Vectors
from faq_mining.faq_store import CandidateDraft, SimilarFaq
from faq_mining.ticket_source import Cursor

MAX_INLINE_TICKETS = 10_000


class InlineTicket(BaseModel):
    """A ticket handed to a run directly (the API's POST /process), bypassing ClickHouse."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=256)
    subject: str = Field(default="", max_length=1_000)
    body: str = Field(default="", max_length=50_000)
    closurenotes: str = Field(default="", max_length=50_000)
    category: str = Field(default="", max_length=200)
    subcategory1: str = Field(default="", max_length=200)
    status: str = Field(default="Closed", max_length=50)
    closed_at: datetime | None = Field(default=None, description="When it was closed; unset means now.")

    @field_validator("id", "category", "subcategory1", mode="before")
    @classmethod
    def _numbers_as_text(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value


class MiningRequest(BaseModel):
    """What one mining run reads: ClickHouse's last `lookback_days` (at most `limit`), or inline tickets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lookback_days: int = Field(default=7, ge=1, le=3_650, description="Oldest closing age of a mined ticket.")
    limit: int = Field(default=10_000, ge=1, le=100_000, description="Most tickets one run reads.")
    tickets: list[InlineTicket] | None = Field(
        default=None,
        max_length=MAX_INLINE_TICKETS,
        description="Tickets to mine instead of reading ClickHouse; the watermark is left alone.",
    )
    rewind: bool = Field(
        default=False,
        description="Read the lookback window from its start, ignoring the watermark (already staged tickets stay "
        "skipped; the watermark never moves back).",
    )
    reread_since: datetime | None = Field(
        default=None,
        description="Read again the tickets that arrived at or after this moment, ignoring the watermark (already "
        "staged tickets stay skipped; the watermark never moves back).",
    )


class MiningFailure(BaseModel):
    """A ticket the run could not process, and why (the batch went on without it)."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    reason: str


class MiningStats(BaseModel):
    """What a run did. Ticket counters partition `processed`; staged_new / staged_merge count candidates."""

    processed: int = 0
    staged_new: int = 0
    staged_merge: int = 0
    staged_tickets: int = 0
    skipped_prefilter: int = 0
    skipped_duplicate: int = 0
    skipped_identical: int = 0
    skipped_unsuitable: int = 0
    skipped_pii: int = 0
    failed: int = 0
    joined_pending: int = 0  # added as sources to a PENDING candidate asking the same question
    failures: list[MiningFailure] = []
    # Not part of `processed`: tickets this run did not read because they closed within the ingest lag.
    waiting_lag: int = 0

    def accounted(self) -> int:
        """Tickets with an outcome; equals `processed` at the end of a run."""
        return (
            self.staged_tickets
            + self.skipped_prefilter
            + self.skipped_duplicate
            + self.skipped_identical
            + self.skipped_unsuitable
            + self.skipped_pii
            + self.failed
            + self.joined_pending
        )


def add_stats(current: MiningStats | None, update: MiningStats | dict[str, Any]) -> MiningStats:
    """Reducer: counters add up, failures accumulate."""
    base = current or MiningStats()
    delta = update if isinstance(update, MiningStats) else MiningStats.model_validate(update)
    counts = {
        name: getattr(base, name) + getattr(delta, name) for name in MiningStats.model_fields if name != "failures"
    }
    return MiningStats(**counts, failures=[*base.failures, *delta.failures])


class FaqAnalysis(BaseModel):
    """The analysis of one group of tickets: a proposal that a person reviews, never an action."""

    action: Literal["SKIP", "NEW", "MERGE"] = Field(
        description="SKIP when the tickets teach nothing reusable; NEW for a new FAQ; MERGE to extend an existing one."
    )
    question: str = Field(default="", max_length=500, description="The FAQ question, general and self-contained.")
    answer: str = Field(default="", max_length=5_000, description="The answer, as steps a customer can follow.")
    tags: list[str] = Field(default=[], max_length=8, description="2 to 6 short lowercase topic tags.")
    confidence: float = Field(default=0.5, ge=0, le=1, description="How sure you are that this FAQ is useful.")
    merge_target_id: int | None = Field(default=None, description="For MERGE: the id of a listed existing FAQ.")
    reason: str = Field(default="", max_length=500, description="One sentence on why this action.")


class ReviewEdits(BaseModel):
    """A reviewer's changes to a candidate before approving it; unset fields stay as they are."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    question: str | None = Field(default=None, min_length=1, max_length=500)
    answer: str | None = Field(default=None, min_length=1, max_length=5_000)
    tags: list[str] | None = Field(default=None, max_length=20)


class ReviewDecision(BaseModel):
    """A reviewer's decision: the value that resumes a candidate's review interrupt."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decision: Literal["approve", "reject"]
    reviewer: str = Field(min_length=1, max_length=200, description="Who decided (from the caller's identity).")
    note: str | None = Field(default=None, max_length=2_000)
    edits: ReviewEdits | None = Field(default=None, description="Changes to apply before approving (approve only).")
    expected_version: int | None = Field(default=None, description="Refuse if the candidate changed since read.")
    already_applied: bool = Field(
        default=False,
        description="The review operations recorded this decision before the run was resumed: the branch only "
        "notes it (faq_mining/review_flow.py decides first, then releases the run).",
    )


class ReviewRequest(BaseModel):
    """What a review interrupt shows: the staged candidate, by id, with enough to decide on."""

    model_config = ConfigDict(frozen=True)

    staging_id: int
    action: Literal["NEW", "MERGE"]
    question: str
    answer: str
    tags: list[str]
    source_count: int
    merge_with_id: int | None = None


class ReviewRecord(BaseModel):
    """What a review branch did to its candidate; `error` when the review operation refused the decision."""

    model_config = ConfigDict(frozen=True)

    staging_id: int
    decision: Literal["approve", "reject"]
    reviewer: str
    status: str | None = Field(default=None, description="The candidate's status afterwards; None on error.")
    action: Literal["NEW", "MERGE"] | None = None
    version: int | None = Field(default=None, description="The candidate's version afterwards.")
    faq_id: int | None = None
    faq_version: int | None = None
    error: str | None = None
    error_kind: Literal["conflict", "invalid", "not_found"] | None = None
    decided_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


@dataclass
class MinedTicket:
    """A ticket inside a run; after `redact_pii` its text is redacted and `pii_kinds` says what was found."""

    id: str
    subject: str
    body: str
    closurenotes: str
    category: str
    subcategory1: str
    status: str
    closed_at: datetime
    pii_kinds: tuple[str, ...] = ()


@dataclass
class TicketCluster:
    """Near-duplicate tickets of one batch, most central first, and the candidate question they share."""

    tickets: list[MinedTicket]
    question: str = ""
    question_vector: Vectors | None = None
    neighbours: list[SimilarFaq] = field(default_factory=list)

    @property
    def ticket_ids(self) -> list[str]:
        """Every source ticket's id."""
        return [ticket.id for ticket in self.tickets]

    @property
    def pii_kinds(self) -> list[str]:
        """Kinds redacted from any of its tickets, sorted."""
        return sorted({kind for ticket in self.tickets for kind in ticket.pii_kinds})


@dataclass
class AnalyzedCluster:
    """A cluster with its analysis, and how the analysis was made (model, prompt, offline or not)."""

    cluster: TicketCluster
    analysis: FaqAnalysis
    metadata: dict[str, Any]


class MiningInput(TypedDict):
    """What starts a run: the request (as a model or its JSON; all of it defaulted). The run id is the thread's."""

    request: NotRequired[MiningRequest]


class MiningOutput(TypedDict, total=False):
    """What a run reports (Studio's output panel): the tracked channels, never the untracked tickets or vectors."""

    request: MiningRequest
    run_id: str
    stats: MiningStats
    watermark_advanced: bool
    staged: list[ReviewRequest]
    reviews: list[ReviewRecord]


class MiningState(TypedDict, total=False):
    """The state of one mining run (one LangGraph thread, thread id = run id)."""

    request: MiningRequest
    run_id: str
    stats: Annotated[MiningStats, add_stats]
    watermark_target: Cursor | None
    watermark_advanced: bool
    staged: list[ReviewRequest]
    reviews: Annotated[list[ReviewRecord], operator.add]
    # Never checkpointed (see the module docstring).
    tickets: Annotated[list[MinedTicket], UntrackedValue(list)]
    clusters: Annotated[list[TicketCluster], UntrackedValue(list)]
    analyzed: Annotated[list[AnalyzedCluster], UntrackedValue(list)]
    drafts: Annotated[list[CandidateDraft], UntrackedValue(list)]


class ReviewTask(TypedDict):
    """The state one review branch receives (Send)."""

    request: ReviewRequest
    run_id: str


CHECKPOINT_TYPES: list[type[Any]] = [
    MiningRequest,
    InlineTicket,
    MiningStats,
    MiningFailure,
    ReviewRequest,
    ReviewRecord,
    ReviewDecision,
    ReviewEdits,
    Cursor,
]
