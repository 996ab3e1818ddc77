"""What an automatic answer was built on, and how its label reaches the answer-feedback log.

send_email notes each answer it sends; handle_feedback adds the customer's verdict. Together they are
the labels the answer-confidence calibration learns from, and the per-FAQ and per-article counts of
`doxa improve report` and /metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

from nodes.context import AnswerFeedbackLog
from state.agents import Solution
from state.records import FeedbackOutcome, SentAnswer, SourceKind
from state.ticket import TicketState


@dataclass(frozen=True)
class AnsweredSource:
    """The FAQ or passage an answer was built on (its first passage)."""

    kind: SourceKind
    source_id: str
    title: str
    document_id: str | None


def answered_source(solution: Solution | None) -> AnsweredSource | None:
    """The source of the answer's first passage; None when the answer had none."""
    if solution is None or not solution.results:
        return None
    metadata = solution.results[0].get("metadata")
    if not isinstance(metadata, dict):
        return None
    if metadata.get("kind") == "faq" and metadata.get("faq_id") is not None:
        return AnsweredSource("faq", str(metadata["faq_id"]), str(metadata.get("title") or "FAQ"), None)
    chunk_id = str(metadata.get("chunk_id") or "")
    if not chunk_id:
        return None
    document = metadata.get("doc_id")
    return AnsweredSource("chunk", chunk_id, str(metadata.get("title") or ""), str(document) if document else None)


def answer_query(state: TicketState) -> str:
    """The question the answer was retrieved for: the reformulation, else the subject."""
    analysis = state.get("analysis")
    return analysis.reformulation if analysis and analysis.reformulation.strip() else state["ticket"].subject


def sent_answer(state: TicketState, ticket_id: str) -> SentAnswer | None:
    """The answer sent to this attempt and the source it was built on; None when the answer had no source."""
    solution = state.get("solution")
    source = answered_source(solution)
    if source is None or solution is None:
        return None
    return SentAnswer(
        ticket_id=ticket_id,
        attempt=state.get("attempt", 1),
        query=answer_query(state),
        source_kind=source.kind,
        source_id=source.source_id,
        title=source.title,
        document_id=source.document_id,
        kb_confident=solution.kb_confident,
    )


def note_answer_sent(log: AnswerFeedbackLog | None, state: TicketState, ticket_id: str) -> bool:
    """Record that this attempt's answer was sent; False when there is no log, no source, or it was noted."""
    answer = sent_answer(state, ticket_id)
    if log is None or answer is None:
        return False
    return log.record_answer(answer)


def note_verdict(
    log: AnswerFeedbackLog | None,
    state: TicketState,
    ticket_id: str,
    *,
    satisfied: bool,
    outcome: FeedbackOutcome,
) -> bool:
    """Record the customer's verdict on this attempt's answer (idempotent: a re-run node writes nothing new)."""
    answer = sent_answer(state, ticket_id)
    if log is None or answer is None:
        return False
    return log.record(answer, satisfied=satisfied, outcome=outcome)
