"""Studio's sandbox for the ticket graph: e-mails, escalations, KB gaps and answer verdicts that go nowhere.

A ticket run from LangGraph Studio is a debugging run: it must never queue an e-mail a customer would receive,
open a hand-off a team would work on, or add a gap or a verdict to the tables calibration and reports read.
`sandboxed(context)` swaps those four writers for dry-run ones; everything else (the model, the knowledge
base, the FAQs, the classifier) is the real one, so the run behaves as production would.

What a run would have done stays visible: the graph's own state carries the e-mail, the escalation and the
gap suggestion, and every dry-run write is logged (WARNING, prefixed "Studio sandbox") and kept in memory.
"""

from __future__ import annotations

import dataclasses
import logging
import threading

from nodes.context import TicketContext
from state.records import EscalationRecord, FeedbackOutcome, KbGap, OutboxMessage, SentAnswer

log = logging.getLogger(__name__)


class DryRunOutbox:
    """A MessageOutbox that keeps its messages in memory: nothing reaches `doxa outbox deliver`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: dict[str, OutboxMessage] = {}

    def enqueue(self, message: OutboxMessage) -> bool:
        """Keep the message (idempotent per key, as the real outbox is); True when it is new."""
        with self._lock:
            if message.idempotency_key in self.messages:
                return False
            self.messages[message.idempotency_key] = message
        log.warning(
            "Studio sandbox: e-mail %r to %s for ticket %s NOT queued",
            message.subject,
            message.recipient or "(the team)",
            message.ticket_id,
        )
        return True


class DryRunRecords:
    """TicketRecords whose escalations and knowledge gaps stay in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.escalations: dict[str, EscalationRecord] = {}
        self.gaps: list[KbGap] = []

    def open_escalation(self, record: EscalationRecord) -> str:
        """Keep the hand-off (one per ticket, as the real store does) and return its id."""
        with self._lock:
            kept = self.escalations.setdefault(record.ticket_id, record)
        log.warning("Studio sandbox: escalation of ticket %s to %s NOT opened", record.ticket_id, record.team)
        return kept.id

    def record_gap(self, gap: KbGap) -> None:
        """Keep the gap in memory."""
        with self._lock:
            self.gaps.append(gap)
        log.warning("Studio sandbox: knowledge gap of ticket %s (attempt %d) NOT recorded", gap.ticket_id, gap.attempt)


class DryRunAnswerLog:
    """An AnswerFeedbackLog that records nothing: Studio's verdicts must not train the calibration."""

    def record_answer(self, answer: SentAnswer) -> bool:
        """Accept the answer without storing it."""
        log.warning("Studio sandbox: answer of ticket %s (attempt %d) NOT logged", answer.ticket_id, answer.attempt)
        return True

    def record(self, answer: SentAnswer, *, satisfied: bool, outcome: FeedbackOutcome) -> bool:
        """Accept the verdict without storing it."""
        log.warning("Studio sandbox: verdict satisfied=%s on ticket %s NOT logged", satisfied, answer.ticket_id)
        return True


def sandboxed(context: TicketContext) -> TicketContext:
    """`context` with the outbox, the escalation and gap records and the answer log replaced by dry runs."""
    return dataclasses.replace(context, outbox=DryRunOutbox(), tickets=DryRunRecords(), answers=DryRunAnswerLog())
