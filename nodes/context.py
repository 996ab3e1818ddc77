"""The runtime context of the ticket graph: every dependency a node uses comes in through it."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime

from core.embeddings import TextEmbedder
from core.graph_runtime.context import DefaultContext
from nodes.policy import TicketPolicy
from state.records import EscalationRecord, FeedbackOutcome, KbGap, OutboxMessage, SentAnswer


class MessageOutbox(Protocol):
    """Where e-mails are queued; Postgres's `graph.outbox.Outbox` in the service."""

    def enqueue(self, message: OutboxMessage) -> bool:
        """Queue one message; False when its idempotency key was already queued."""
        ...


class TicketRecords(Protocol):
    """Escalation records and knowledge gaps; Postgres's `graph.ticket_store.TicketStore` in the service."""

    def open_escalation(self, record: EscalationRecord) -> str:
        """Store a hand-off (idempotent per ticket) and return its id."""
        ...

    def record_gap(self, gap: KbGap) -> None:
        """Note that the KB did not satisfy one attempt of a ticket."""
        ...


class AnswerFeedbackLog(Protocol):
    """Automatic answers and the customer's verdict on each; Postgres's `kb.answer_feedback` in the service."""

    def record_answer(self, answer: SentAnswer) -> bool:
        """Note that an answer built on this FAQ or passage was sent (idempotent per ticket and attempt)."""
        ...

    def record(self, answer: SentAnswer, *, satisfied: bool, outcome: FeedbackOutcome) -> bool:
        """Store the customer's verdict on that answer (the first verdict per ticket and attempt wins)."""
        ...


class KnowledgeRetriever(Protocol):
    """Searches the knowledge base and returns `retrieve_kb_context`'s contract."""

    def retrieve(
        self,
        query: str,
        keywords: Sequence[str],
        category: str | None,
        *,
        top_k: int,
        score_threshold: float,
        kb_confidence_threshold: float,
        attempt_number: int,
        max_retrieval_attempts: int,
    ) -> Mapping[str, Any]:
        """Ranked passages and the `kb_confident` / `kb_limit_reached` signals."""
        ...


class PhrasingMatch(Protocol):
    """One phrasing of an FAQ (a way it is asked besides its question) near a query."""

    @property
    def phrasing(self) -> str:
        """The phrasing's text."""
        ...

    @property
    def similarity(self) -> float:
        """Its cosine similarity to the query."""
        ...


class FaqMatch(Protocol):
    """A production FAQ found for a query."""

    @property
    def id(self) -> int:
        """The FAQ's id (cited as "FAQ #id")."""
        ...

    @property
    def question(self) -> str:
        """The FAQ's question."""
        ...

    @property
    def answer(self) -> str:
        """The FAQ's answer."""
        ...

    @property
    def similarity(self) -> float:
        """The FAQ's best cosine similarity to the query, over its question and its other phrasings."""
        ...

    @property
    def question_similarity(self) -> float:
        """Cosine similarity of the FAQ's question itself to the query."""
        ...

    @property
    def phrasing_matches(self) -> Sequence[PhrasingMatch]:
        """Its other phrasings among the query's nearest, best first."""
        ...

    @property
    def version(self) -> int:
        """The FAQ's version (bumped by every merge, revert or edit)."""
        ...


class FaqSearch(Protocol):
    """Searches the live production FAQs (deleted ones never match)."""

    def search(
        self, query: str, top_k: int = 3, min_similarity: float = 0.0, *, exclude_ids: Collection[int] = ()
    ) -> Sequence[FaqMatch]:
        """The best FAQs at or above `min_similarity`, best first."""
        ...


class SectionText(Protocol):
    """A whole KB section (the parent of a retrieved chunk)."""

    @property
    def text(self) -> str:
        """The section's full text."""
        ...


class SectionSource(Protocol):
    """Looks up the section a chunk belongs to."""

    def fetch_section(self, section_id: str) -> SectionText | None:
        """The section, or None when it no longer exists."""
        ...


class CategoryPrediction(Protocol):
    """A predicted category with its probability and the runners-up."""

    @property
    def label(self) -> str:
        """The most probable category."""
        ...

    @property
    def confidence(self) -> float:
        """Its probability."""
        ...

    @property
    def alternatives(self) -> Sequence[tuple[str, float]]:
        """The runners-up with their probabilities, best first."""
        ...


class CategoryClassifier(Protocol):
    """The offline ticket classifier."""

    def predict(self, text: str) -> CategoryPrediction:
        """The most likely category of one ticket text."""
        ...


@dataclass(kw_only=True)
class TicketContext:
    """Dependencies of one run of the ticket graph (not checkpointed; passed again on resume)."""

    chat_model: BaseChatModel | None = field(
        default=None, metadata={"description": "Chat model for the LLM paths; None runs every node offline."}
    )
    embedder: TextEmbedder = field(metadata={"description": "Embeds reformulations to check their similarity."})
    retriever: KnowledgeRetriever = field(metadata={"description": "Knowledge-base search (documents and FAQs)."})
    classifier: CategoryClassifier = field(metadata={"description": "Offline category classifier."})
    categories: Sequence[str] = field(metadata={"description": "Category names of the taxonomy."})
    sections: SectionSource | None = field(
        default=None, metadata={"description": "Whole sections, so an answer can show its passage in context."}
    )
    faqs: FaqSearch | None = field(
        default=None, metadata={"description": "Approved production FAQs, searched beside the documents."}
    )
    outbox: MessageOutbox = field(metadata={"description": "Where e-mails to customers and teams are queued."})
    tickets: TicketRecords = field(metadata={"description": "Escalation records and knowledge gaps."})
    answers: AnswerFeedbackLog | None = field(
        default=None,
        metadata={"description": "Where each automatic answer and the customer's verdict on it are recorded."},
    )
    policy: TicketPolicy = field(
        default_factory=TicketPolicy, metadata={"description": "Thresholds and routing rules."}
    )
    llm_max_attempts: int = field(default=3, metadata={"description": "LLM attempts before the offline path."})
    llm_backoff_s: float = field(default=0.5, metadata={"description": "First retry delay of LLM calls."})


# Runs that bring no context (LangGraph Studio) get the registered default one, built once.
DEFAULT_CONTEXT = DefaultContext("ticket graph", TicketContext)


def context_of(runtime: Runtime[TicketContext]) -> TicketContext:
    """The run's context, or the registered default one (built once) when the run brought none."""
    return DEFAULT_CONTEXT.of(runtime)
