"""Studio's sandbox for the mining graph: staging, reviews and the watermark that never touch production tables.

A mining run from LangGraph Studio reads what production reads (the ticket source, the watermark, the live FAQs
and pending candidates, the model), so it stages what a scheduled run would stage. It writes nothing: its
candidates are kept in memory under negative staging ids (no real candidate has one), a reviewer's decision on
them is recorded in the thread's `reviews` without promoting anything, and the watermark stays where it is
(`watermark_advanced` in the state still says whether a real run would have moved it). Every dry-run write is
logged (WARNING, prefixed "Studio sandbox").

The in-memory candidates live as long as the Studio server: a review resumed after a restart records a
`not_found` error in the thread instead of a decision.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Unpack

from core.embeddings import Vectors
from core.errors import ConflictError, NotFoundError
from faq_mining.faq_store import CandidateDraft, JoiningTickets, SimilarFaq, StageResult
from faq_mining.nodes.context import CandidateStore, DecisionOptions, LiveFaq, MiningContext, Watermarks
from faq_mining.ticket_source import Cursor

log = logging.getLogger(__name__)


class DryRunWatermarks:
    """Reads the real watermark; an advance is logged and forgotten."""

    def __init__(self, real: Watermarks) -> None:
        self.real = real

    def load(self, source: str) -> Cursor | None:
        """The source's real watermark."""
        return self.real.load(source)

    def advance(self, source: str, cursor: Cursor, tickets: int) -> None:
        """Leave the real watermark alone."""
        log.warning("Studio sandbox: watermark of %s NOT advanced (%d tickets)", source, tickets)


@dataclass(frozen=True)
class SandboxOutcome:
    """What a decision on a sandbox candidate would have done (a DecisionOutcome; no FAQ is written)."""

    status: str
    action: Literal["NEW", "MERGE"]
    version: int
    faq_id: int | None = None
    faq_version: int | None = None


class DryRunCandidates:
    """Stages candidates in memory and decides on them there; reads go to the real store."""

    def __init__(self, real: CandidateStore) -> None:
        self.real = real
        self._lock = threading.Lock()
        self._ids = itertools.count(-1, -1)
        self.drafts: dict[int, CandidateDraft] = {}
        self.decided: dict[int, str] = {}

    def staged_ticket_ids(self, ticket_ids: Sequence[str]) -> set[str]:
        """Tickets claimed by a real candidate or by one of this sandbox's."""
        with self._lock:
            mine = {tid for draft in self.drafts.values() for tid in draft.source_ticket_ids}
        return self.real.staged_ticket_ids(ticket_ids) | (mine & set(ticket_ids))

    def similar(self, vectors: Vectors, top_k: int = 3) -> list[list[SimilarFaq]]:
        """The real nearest FAQs and pending candidates."""
        return self.real.similar(vectors, top_k)

    def live_faq(self, faq_id: int) -> LiveFaq | None:
        """The real live FAQ."""
        return self.real.live_faq(faq_id)

    def stage(self, draft: CandidateDraft) -> StageResult:
        """Keep the draft under a new negative id; tickets this sandbox already claimed are duplicates."""
        taken = self.staged_ticket_ids(draft.source_ticket_ids)
        claimed = [tid for tid in draft.source_ticket_ids if tid not in taken]
        if not claimed:
            return StageResult(staging_id=None, claimed_ticket_ids=[], already_staged_ticket_ids=sorted(taken))
        with self._lock:
            staging_id = next(self._ids)
            self.drafts[staging_id] = dataclasses.replace(draft, source_ticket_ids=claimed)
        log.warning("Studio sandbox: candidate %r NOT staged (sandbox id %d)", draft.question[:80], staging_id)
        return StageResult(staging_id=staging_id, claimed_ticket_ids=claimed, already_staged_ticket_ids=sorted(taken))

    def join(self, staging_id: int, joining: JoiningTickets) -> StageResult:
        """Claim the tickets for a pending candidate in this sandbox only; the real candidate is left alone."""
        taken = self.staged_ticket_ids(joining.ticket_ids)
        claimed = [tid for tid in joining.ticket_ids if tid not in taken]
        log.warning("Studio sandbox: %d ticket(s) NOT added to candidate %d", len(claimed), staging_id)
        return StageResult(staging_id=staging_id, claimed_ticket_ids=claimed, already_staged_ticket_ids=sorted(taken))

    def decide(
        self, staging_id: int, decision: Literal["approve", "reject"], reviewer: str, **options: Unpack[DecisionOptions]
    ) -> SandboxOutcome:
        """Record the decision on a sandbox candidate once; nothing is promoted."""
        with self._lock:
            draft = self.drafts.get(staging_id)
            if draft is None:
                raise NotFoundError(f"sandbox candidate {staging_id} is unknown to this Studio server")
            if staging_id in self.decided:
                raise ConflictError(f"sandbox candidate {staging_id} was already {self.decided[staging_id]}")
            status = "APPROVED" if decision == "approve" else "REJECTED"
            self.decided[staging_id] = status
        log.warning("Studio sandbox: %s of candidate %d by %s NOT applied", decision, staging_id, reviewer)
        return SandboxOutcome(status=status, action=draft.action, version=2)


def sandboxed(context: MiningContext) -> MiningContext:
    """`context` whose watermark, staging and reviews are dry runs; reads stay real."""
    candidates = DryRunCandidates(context.store)
    return dataclasses.replace(
        context, watermarks=DryRunWatermarks(context.watermarks), store=candidates, review=candidates
    )
