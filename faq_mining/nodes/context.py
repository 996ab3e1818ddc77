"""The runtime context of the FAQ-mining graph: every dependency and threshold a step uses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TypedDict, Unpack

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime

from core.embeddings import TextEmbedder, Vectors
from core.graph_runtime.context import DefaultContext
from core.settings import Settings
from faq_mining.faq_store import CandidateDraft, JoiningTickets, SimilarFaq, StageResult
from faq_mining.state import InlineTicket
from faq_mining.ticket_source import Cursor, TicketPage


class ResolvedTickets(Protocol):
    """Where resolved tickets are read from; ClickHouse's `faq_mining.ticket_source.TicketSource` in the service."""

    @property
    def name(self) -> str:
        """A stable name for the source, under which its watermark is kept."""
        ...

    def fetch_resolved(
        self, since: datetime | None, until: datetime | None, limit: int, after: Cursor | None = None
    ) -> TicketPage:
        """Resolved tickets closed in [since, until), strictly after `after`, oldest first, at most `limit`."""
        ...


class Watermarks(Protocol):
    """Where each source's scheduled runs resume; Postgres's `faq_mining.watermark.WatermarkStore` in the service."""

    def load(self, source: str) -> Cursor | None:
        """The source's watermark, or None before its first run."""
        ...

    def advance(self, source: str, cursor: Cursor, tickets: int) -> None:
        """Move the watermark forward; ConflictError when a concurrent run already went further."""
        ...


class LiveFaq(Protocol):
    """A live production FAQ, as a MERGE's validation (and a reader of the run's store) sees it."""

    @property
    def question(self) -> str:
        """The FAQ's question."""
        ...

    @property
    def answer(self) -> str:
        """The FAQ's answer."""
        ...

    @property
    def version(self) -> int:
        """The FAQ's version (bumped by every merge, revert or edit)."""
        ...


class CandidateStore(Protocol):
    """Staged candidates and production FAQs; pgvector's `faq_mining.faq_store.FaqStore` in the service."""

    def staged_ticket_ids(self, ticket_ids: Sequence[str]) -> set[str]:
        """The tickets among `ticket_ids` that a candidate has already claimed."""
        ...

    def similar(self, vectors: Vectors, top_k: int = 3) -> list[list[SimilarFaq]]:
        """For each question vector, the nearest live FAQs and pending candidates, best first."""
        ...

    def live_faq(self, faq_id: int) -> LiveFaq | None:
        """The live FAQ with this id, or None when it does not exist or was deleted."""
        ...

    def stage(self, draft: CandidateDraft) -> StageResult:
        """Store one PENDING candidate and claim its tickets (InvalidInputError for a draft it refuses)."""
        ...

    def join(self, staging_id: int, joining: JoiningTickets) -> StageResult:
        """Add source tickets (and how they asked) to a PENDING candidate (staging_id None: no longer PENDING)."""
        ...


class DecisionOutcome(Protocol):
    """What a decision did (faq_mining.review_models.ReviewOutcome)."""

    @property
    def status(self) -> str:
        """The candidate's status afterwards."""
        ...

    @property
    def faq_id(self) -> int | None:
        """The production FAQ it created or merged into."""
        ...

    @property
    def action(self) -> Literal["NEW", "MERGE"]:
        """The candidate's action."""
        ...

    @property
    def version(self) -> int:
        """The candidate's version afterwards."""
        ...

    @property
    def faq_version(self) -> int | None:
        """The production FAQ's version afterwards."""
        ...


class DecisionOptions(TypedDict, total=False):
    """What a review decision may add, by keyword: every `CandidateReviewer.decide` takes the same ones."""

    note: str | None
    expected_version: int | None  # refuse if the candidate changed since it was read
    edits: Any  # faq_mining.review.CandidateEdits, applied before an approval


class CandidateReviewer(Protocol):
    """Applies a reviewer's decision to a staged candidate (faq_mining.review.FaqReview)."""

    def decide(
        self, staging_id: int, decision: Literal["approve", "reject"], reviewer: str, **options: Unpack[DecisionOptions]
    ) -> DecisionOutcome:
        """Approve (promote) or reject one PENDING candidate, atomically; ConflictError when already decided."""
        ...


@dataclass(frozen=True, kw_only=True)
class MiningPolicy:
    """The thresholds of a run, from DOXA_MINING_* settings."""

    statuses: tuple[str, ...] = ("Closed", "Resolved")
    min_body_chars: int = 30
    min_closure_notes_chars: int = 30
    pii_mode: Literal["redact", "skip"] = "redact"
    cluster_distance: float = 0.44
    identical_similarity: float = 0.95
    merge_similarity: float = 0.80
    merge_candidate_similarity: float = 0.60
    page_size: int = 1_000

    @classmethod
    def from_settings(cls, settings: Settings) -> MiningPolicy:
        """The policy configured by the settings."""
        return cls(
            statuses=tuple(settings.mining_statuses),
            min_body_chars=settings.mining_min_body_chars,
            min_closure_notes_chars=settings.mining_min_closure_notes_chars,
            pii_mode=settings.mining_pii_mode,
            cluster_distance=settings.mining_cluster_distance,
            identical_similarity=settings.mining_identical_similarity,
            merge_similarity=settings.mining_merge_similarity,
            merge_candidate_similarity=settings.mining_merge_candidate_similarity,
            page_size=settings.mining_page_size,
        )


@dataclass(kw_only=True)
class MiningContext:
    """Dependencies of one mining run (not checkpointed; passed again when a review resumes the run)."""

    source: ResolvedTickets | None = field(
        default=None, metadata={"description": "Resolved tickets in ClickHouse; None allows inline tickets only."}
    )
    watermarks: Watermarks = field(metadata={"description": "Where scheduled runs resume."})
    store: CandidateStore = field(metadata={"description": "Staged candidates and production FAQs (pgvector)."})
    review: CandidateReviewer = field(metadata={"description": "Applies reviewers' decisions."})
    embedder: TextEmbedder = field(metadata={"description": "Embeds tickets and candidate questions."})
    chat_model: BaseChatModel | None = field(
        default=None, metadata={"description": "Chat model of the analysis; None runs it offline (extractive)."}
    )
    policy: MiningPolicy = field(default_factory=MiningPolicy, metadata={"description": "Thresholds."})
    llm_max_attempts: int = field(default=3, metadata={"description": "LLM attempts before the offline path."})
    llm_backoff_s: float = field(default=0.5, metadata={"description": "First retry delay of LLM calls."})
    inline_tickets: Sequence[InlineTicket] | None = field(
        default=None,
        metadata={"description": "This run's inline tickets, carried here so that their text is never checkpointed."},
    )
    clock: Callable[[], datetime] | None = field(
        default=None, metadata={"description": "Returns the current UTC time (tests pin it); None: the real clock."}
    )


# Runs that bring no context (LangGraph Studio) get the registered default one, built once.
DEFAULT_CONTEXT = DefaultContext("FAQ-mining graph", MiningContext)


def mining_context(runtime: Runtime[MiningContext]) -> MiningContext:
    """The run's context, or the registered default one (built once) when the run brought none."""
    return DEFAULT_CONTEXT.of(runtime)


def now_utc(context: MiningContext) -> datetime:
    """The run's notion of now."""
    return context.clock() if context.clock is not None else datetime.now(UTC)
