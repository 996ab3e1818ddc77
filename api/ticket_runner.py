"""Ticket runs for the API: a bounded pool of worker threads around the synchronous TicketService.

A run continues when the HTTP client goes away (the future is shielded), its node updates reach
/tickets/{id}/events through the broker, and its outcome feeds the process's metrics.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Literal

from api.event_broker import EventBroker, NodeEventRecorder, TicketEvent, recording
from core.errors import ConflictError, DoxaError
from core.metrics import KB_CONFIDENT_RUNS, TICKET_RUN_FAILURES, TICKET_RUNS
from graph.ticket_service import TicketOutcome, TicketService
from state.ticket import CustomerFeedback, TicketInput

log = logging.getLogger(__name__)

RunKind = Literal["run", "feedback", "recover"]


class RunnerBusyError(DoxaError):
    """Too many ticket runs are queued or running in this process; the caller should retry later."""


def outcome_summary(outcome: TicketOutcome) -> dict[str, Any]:
    """The outcome as the API returns it: everything but the raw state values."""
    return outcome.model_dump(mode="json", exclude={"values"})


class TicketRunner:
    """Runs and resumes ticket threads on worker threads; at most `max_pending` queued or running at once."""

    def __init__(self, service: TicketService, broker: EventBroker, *, workers: int, max_pending: int) -> None:
        self.service = service
        self.broker = broker
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="doxa-ticket")
        self._slots = threading.BoundedSemaphore(max_pending)
        self._lock = threading.Lock()
        self._in_flight: set[str] = set()

    def submit_run(self, ticket: TicketInput) -> Future[TicketOutcome]:
        """Start a new ticket's thread (the ticket must carry its id); ConflictError when the id is taken.

        The ticket is accepted (row and input checkpoint written) before this returns, so a 202 survives a crash.
        """
        assert ticket.id is not None, "the API gives every ticket its id before submitting it"
        thread_id = ticket.id
        return self._submit(
            thread_id, "run", lambda: self.service.continue_run(thread_id), prepare=lambda: self.service.accept(ticket)
        )

    def submit_recovery(self, thread_id: str) -> Future[TicketOutcome]:
        """Continue a thread a crashed process left between checkpoints (RunnerBusyError when the pool is full)."""
        return self._submit(thread_id, "recover", lambda: self.service.continue_run(thread_id))

    def submit_feedback(self, thread_id: str, feedback: CustomerFeedback) -> Future[TicketOutcome]:
        """Resume a waiting thread with the customer's feedback (errors surface through the future)."""
        return self._submit(thread_id, "feedback", lambda: self.service.feedback(thread_id, feedback))

    def shutdown(self) -> None:
        """Let queued and running threads finish, then stop the workers."""
        self._executor.shutdown(wait=True)

    def _submit(
        self,
        thread_id: str,
        kind: RunKind,
        call: Callable[[], TicketOutcome],
        *,
        prepare: Callable[[], object] | None = None,
    ) -> Future[TicketOutcome]:
        if not self._slots.acquire(blocking=False):
            raise RunnerBusyError("too many ticket runs in progress; retry shortly")
        with self._lock:
            if thread_id in self._in_flight:
                self._slots.release()
                raise ConflictError(f"ticket {thread_id} is already being processed")
            self._in_flight.add(thread_id)
        try:
            if prepare is not None:
                prepare()
        except BaseException:
            with self._lock:
                self._in_flight.discard(thread_id)
            self._slots.release()
            raise
        self.broker.open(thread_id)
        future = self._executor.submit(self._execute, thread_id, kind, call)
        future.add_done_callback(lambda done: self._finished(thread_id, kind, done))
        return future

    def _execute(self, thread_id: str, kind: RunKind, call: Callable[[], TicketOutcome]) -> TicketOutcome:
        try:
            with recording(NodeEventRecorder(thread_id, self.broker)):
                outcome = call()
        except BaseException as exc:
            detail = str(exc) if isinstance(exc, DoxaError) else exc.__class__.__name__
            self.broker.close(thread_id, TicketEvent("error", {"thread_id": thread_id, "detail": detail}))
            raise
        TICKET_RUNS.labels(kind=kind, outcome=outcome.status).inc()
        if outcome.kb_confident is not None:
            KB_CONFIDENT_RUNS.labels(kb_confident=str(outcome.kb_confident).lower()).inc()
        self.broker.close(thread_id, TicketEvent("end", outcome_summary(outcome)))
        return outcome

    def _finished(self, thread_id: str, kind: RunKind, future: Future[TicketOutcome]) -> None:
        with self._lock:
            self._in_flight.discard(thread_id)
        self._slots.release()
        error = future.exception() if not future.cancelled() else None
        if error is None:
            return
        if isinstance(error, DoxaError):
            log.info("ticket %s %s refused: %s", thread_id, kind, error)
        else:
            TICKET_RUN_FAILURES.labels(kind=kind).inc()
            log.error("ticket %s %s failed", thread_id, kind, exc_info=error)
