"""Test doubles shared by every tier: in-memory stores that implement the graphs' Protocols, and fake chat models.

The stores keep the contracts of the Postgres and ClickHouse classes they stand for (idempotency keys, one
escalation per ticket, claims that stage a ticket at most once, watermarks that never move back, decisions
that are refused once taken), so a graph run on them takes the same edges it takes on the real engines. The
engines themselves are tested against those contracts in tests/integration.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Unpack

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import BaseModel, Field

from core.embeddings import Vectors
from core.errors import ConflictError, InvalidInputError, NotFoundError
from faq_mining.faq_store import CandidateDraft, JoiningTickets, SimilarFaq, StageResult
from faq_mining.nodes.context import DecisionOptions
from faq_mining.ticket_source import Cursor, ResolvedTicket, TicketPage
from state.records import EscalationRecord, KbGap, OutboxMessage

# --- Embedding -------------------------------------------------------------------------------------------------


class HashingEmbedder:
    """Bag-of-words vectors (hashed words, normalised): texts sharing words are near, as with a real model."""

    model_name = "hashing-fake"
    dimension = 256

    def encode(self, texts: Sequence[str]) -> Vectors:
        rows = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in zip(rows, texts, strict=True):
            for word in re.findall(r"\w+", text.lower()):
                row[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
            norm = float(np.linalg.norm(row))
            if norm:
                row /= norm
        return rows

    def embed_query(self, text: str) -> Vectors:
        return self.encode([text])[0]


# --- The ticket graph's dependencies ---------------------------------------------------------------------------


@dataclass
class Prediction:
    label: str
    confidence: float
    alternatives: Sequence[tuple[str, float]] = ()


class KeywordClassifier:
    """Deterministic stand-in for the learned classifier."""

    def predict(self, text: str) -> Prediction:
        lowered = text.lower()
        if "invoice" in lowered or "facture" in lowered:
            return Prediction("facturation", 0.9)
        if "password" in lowered or "mot de passe" in lowered:
            return Prediction("authentification", 0.9)
        if "please add" in lowered:
            return Prediction("feature_request", 0.9)
        return Prediction("technique", 0.9)


def passage(chunk_id: str, text: str, similarity: float) -> dict[str, Any]:
    return {
        "chunk_text": text,
        "similarity_score": round(similarity, 6),
        "metadata": {
            "doc_id": "d1",
            "section": "Reset",
            "source": "help/account.md",
            "rank": 1,
            "title": "Account",
            "chunk_id": chunk_id,
        },
        "ranking_explanation": "test",
    }


@dataclass
class CannedRetriever:
    """Returns one passage whose similarity the test chooses, with the contract's signals."""

    similarity: float = 0.9
    calls: list[dict[str, Any]] = field(default_factory=list)

    def retrieve(self, query: str, keywords: Sequence[str], category: str | None, **options: Any) -> dict[str, Any]:
        self.calls.append({"query": query, "category": category, **options})
        passages = [
            passage("c1", "Open Settings > Security and choose 'Reset password'.", self.similarity),
            passage(
                "c2", "If no reset e-mail arrives, check the spam folder or ask for a new link.", self.similarity - 0.05
            ),
        ]
        kept = [p for p in passages if p["similarity_score"] >= options["score_threshold"]][: options["top_k"]]
        best = max((p["similarity_score"] for p in kept), default=0.0)
        return {
            "results": kept,
            "metadata": {
                "mean_similarity": sum(p["similarity_score"] for p in kept) / len(kept) if kept else 0.0,
                "max_similarity": best,
                "min_similarity": min((p["similarity_score"] for p in kept), default=0.0),
                "chunk_count": len(kept),
                "kb_confident": bool(kept) and best >= options["kb_confidence_threshold"],
                "kb_limit_reached": options["attempt_number"] >= options["max_retrieval_attempts"],
            },
        }


@dataclass
class MemoryOutbox:
    """`graph.outbox.Outbox` in memory: one message per idempotency key."""

    messages: dict[str, OutboxMessage] = field(default_factory=dict)

    def enqueue(self, message: OutboxMessage) -> bool:
        if message.idempotency_key in self.messages:
            return False
        self.messages[message.idempotency_key] = message
        return True

    def templates(self, ticket_id: str) -> list[str]:
        """The templates queued for a ticket, oldest first."""
        return [m.template for m in self.messages.values() if m.ticket_id == ticket_id]


@dataclass
class MemoryTicketRecords:
    """`graph.ticket_store.TicketStore`'s escalations and knowledge gaps in memory: one escalation per ticket."""

    escalations: dict[str, EscalationRecord] = field(default_factory=dict)
    gaps: list[KbGap] = field(default_factory=list)

    def open_escalation(self, record: EscalationRecord) -> str:
        return self.escalations.setdefault(record.ticket_id, record).id

    def record_gap(self, gap: KbGap) -> None:
        self.gaps.append(gap)


# --- The mining graph's dependencies ---------------------------------------------------------------------------


@dataclass
class MemoryTicketSource:
    """`faq_mining.ticket_source.TicketSource` over a list: resolved tickets in arrival order, by page."""

    tickets: list[ResolvedTicket] = field(default_factory=list)
    statuses: tuple[str, ...] = ("Closed", "Resolved")
    name: str = "memory:tickets"

    def fetch_resolved(
        self, since: datetime | None, until: datetime | None, limit: int, after: Cursor | None = None
    ) -> TicketPage:
        if limit < 1:
            raise InvalidInputError(f"limit must be at least 1, got {limit}")
        # A ticket given without an arrival time arrived when it closed.
        arrived = [t if t.arrived_at else t.model_copy(update={"arrived_at": t.closed_at}) for t in self.tickets]
        ordered = sorted(arrived, key=lambda t: t.cursor)
        found = [
            t
            for t in ordered
            if t.status in self.statuses
            and (since is None or t.closed_at >= since)
            and (until is None or t.closed_at < until)
            and (after is None or t.cursor > after)
        ][:limit]
        return TicketPage(tickets=found, next_cursor=found[-1].cursor if found else after, exhausted=len(found) < limit)


@dataclass
class MemoryWatermarks:
    """`faq_mining.watermark.WatermarkStore` in memory: a watermark never moves back."""

    cursors: dict[str, Cursor] = field(default_factory=dict)
    processed: dict[str, int] = field(default_factory=dict)

    def load(self, source: str) -> Cursor | None:
        return self.cursors.get(source)

    def advance(self, source: str, cursor: Cursor, tickets: int) -> None:
        current = self.cursors.get(source)
        if current is not None and current > cursor:
            raise ConflictError(f"watermark of {source!r} is at {current}; refusing to move it back to {cursor}")
        self.cursors[source] = cursor
        self.processed[source] = self.processed.get(source, 0) + tickets


@dataclass
class StoredFaq:
    """A production FAQ or a staged candidate of `MemoryCandidateStore`."""

    id: int
    question: str
    answer: str
    tags: list[str]
    vector: Vectors
    status: str = "PENDING"
    action: Literal["NEW", "MERGE"] = "NEW"
    merge_with_id: int | None = None
    version: int = 1
    source_ticket_ids: list[str] = field(default_factory=list)


@dataclass
class MemoryCandidateStore:
    """`faq_mining.faq_store.FaqStore` in memory: production FAQs, PENDING candidates, one claim per ticket."""

    faqs: dict[int, StoredFaq] = field(default_factory=dict)
    staged: dict[int, StoredFaq] = field(default_factory=dict)
    claims: dict[str, int] = field(default_factory=dict)

    def add_faq(self, question: str, answer: str, vector: Vectors, tags: Sequence[str] = ("faq",)) -> int:
        """A production FAQ, as an approved candidate would leave it."""
        faq_id = len(self.faqs) + 1
        self.faqs[faq_id] = StoredFaq(faq_id, question, answer, list(tags), vector, status="LIVE")
        return faq_id

    def staged_ticket_ids(self, ticket_ids: Sequence[str]) -> set[str]:
        return {ticket_id for ticket_id in ticket_ids if ticket_id in self.claims}

    def similar(self, vectors: Vectors, top_k: int = 3) -> list[list[SimilarFaq]]:
        pools = [("production", list(self.faqs.values())), ("pending", self._pending())]
        found = []
        for vector in vectors:
            hits = [
                SimilarFaq(f.id, origin, f.question, f.answer, list(f.tags), float(np.dot(vector, f.vector)))  # type: ignore[arg-type]
                for origin, pool in pools
                for f in pool
            ]
            found.append(sorted(hits, key=lambda h: (-h.similarity, h.origin != "production", h.id))[:top_k])
        return found

    def live_faq(self, faq_id: int) -> StoredFaq | None:
        return self.faqs.get(faq_id)

    def stage(self, draft: CandidateDraft) -> StageResult:
        if draft.merge_with_id is not None and draft.merge_with_id not in self.faqs:
            raise InvalidInputError(f"MERGE target FAQ {draft.merge_with_id} does not exist or is deleted")
        tickets = list(dict.fromkeys(t for t in draft.source_ticket_ids if t))
        if not tickets:
            raise InvalidInputError("a candidate needs at least one source ticket")
        claimed = [t for t in tickets if t not in self.claims]
        taken = [t for t in tickets if t in self.claims]
        if not claimed:
            return StageResult(None, [], taken)
        staging_id = 100 + len(self.staged)
        self.staged[staging_id] = StoredFaq(
            staging_id,
            draft.question.strip(),
            draft.answer.strip(),
            list(draft.tags),
            draft.question_embedding,
            action=draft.action,
            merge_with_id=draft.merge_with_id,
            source_ticket_ids=claimed,
        )
        self.claims.update(dict.fromkeys(claimed, staging_id))
        return StageResult(staging_id, claimed, taken)

    def join(self, staging_id: int, joining: JoiningTickets) -> StageResult:
        candidate = self.staged.get(staging_id)
        if candidate is None or candidate.status != "PENDING":
            return StageResult(None, [], [])
        claimed = sorted(t for t in dict.fromkeys(joining.ticket_ids) if t not in self.claims)
        candidate.source_ticket_ids.extend(claimed)
        self.claims.update(dict.fromkeys(claimed, staging_id))
        return StageResult(staging_id, claimed, [t for t in joining.ticket_ids if t not in claimed])

    def _pending(self) -> list[StoredFaq]:
        return [f for f in self.staged.values() if f.status == "PENDING"]


@dataclass(frozen=True)
class Decided:
    """What `MemoryReviewer.decide` did (faq_mining.review_models.ReviewOutcome's fields that nodes read)."""

    status: str
    faq_id: int | None
    action: Literal["NEW", "MERGE"]
    version: int
    faq_version: int | None


@dataclass
class MemoryReviewer:
    """`faq_mining.review.FaqReview` over a `MemoryCandidateStore`: a candidate is decided once."""

    store: MemoryCandidateStore
    decisions: list[tuple[int, str, str]] = field(default_factory=list)

    def decide(
        self, staging_id: int, decision: Literal["approve", "reject"], reviewer: str, **options: Unpack[DecisionOptions]
    ) -> Decided:
        candidate = self.store.staged.get(staging_id)
        if candidate is None:
            raise NotFoundError(f"FAQ candidate {staging_id} does not exist")
        if candidate.status != "PENDING":
            raise ConflictError(f"candidate {staging_id} is already {candidate.status}")
        expected_version = options.get("expected_version")
        if expected_version is not None and expected_version != candidate.version:
            raise ConflictError(f"candidate {staging_id} is at version {candidate.version}")
        self.decisions.append((staging_id, decision, reviewer))
        candidate.version += 1
        if decision == "reject":
            candidate.status = "REJECTED"
            return Decided("REJECTED", None, candidate.action, candidate.version, None)
        candidate.status = "APPROVED"
        if candidate.action == "MERGE" and candidate.merge_with_id is not None:
            target = self.store.faqs[candidate.merge_with_id]
            target.answer, target.version = candidate.answer, target.version + 1
        else:
            target = self.store.faqs[self.store.add_faq(candidate.question, candidate.answer, candidate.vector)]
        return Decided("APPROVED", target.id, candidate.action, candidate.version, target.version)


# --- LLM doubles ------------------------------------------------------------------------------------------------


class Verdict(BaseModel):
    """A small structured answer: is it valid, and how sure."""

    valid: bool
    confidence: float = Field(ge=0, le=1)


class RateLimitError(Exception):
    """What a provider SDK raises on HTTP 429."""


def replies(*texts: str) -> GenericFakeChatModel:
    """A chat model answering each call with the next text (LangGraph's own tests drive flows this way)."""
    return GenericFakeChatModel(messages=iter([AIMessage(content=text) for text in texts]))


class RecordingFake(GenericFakeChatModel):
    """`replies` that remembers the prompts it received."""

    seen: list[list[BaseMessage]] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.seen.append(messages)
        return super()._generate(messages, *args, **kwargs)


def recording(*texts: str) -> RecordingFake:
    """`replies` that records its prompts (in `seen`)."""
    return RecordingFake(messages=iter([AIMessage(content=text) for text in texts]))


class RateLimited(GenericFakeChatModel):
    """A chat model whose every call times out with a 429."""

    def _generate(self, *args: Any, **kwargs: Any) -> Any:
        raise TimeoutError("429 Too Many Requests")


class RecordingChatModel(BaseChatModel):
    """A fake chat model that records every prompt and answers through `reply(prompt text)`."""

    reply: Callable[[str], str]
    received: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "recording-fake"

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **_: Any) -> ChatResult:
        text = "\n".join(str(message.content) for message in messages)
        self.received.append(text)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.reply(text)))])


class ScriptedModel(BaseChatModel):
    """Answers each prompt by the schema it asks for: scripted replies first (an exception is raised), then defaults."""

    script: dict[str, list[str | Exception]] = Field(default_factory=dict)
    defaults: dict[str, str] = Field(default_factory=dict)
    asked: list[str] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        system = str(messages[0].content)
        schema = json.loads(system[system.index("JSON schema:\n") + len("JSON schema:\n") :])["title"]
        self.asked.append(schema)
        queue = self.script.get(schema, [])
        reply = queue.pop(0) if queue else self.defaults[schema]
        if isinstance(reply, Exception):
            raise reply
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])
