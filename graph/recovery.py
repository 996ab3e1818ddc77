"""Start-up recovery: continue the ticket threads that a crashed or killed process left between checkpoints.

A thread whose row still says `running` when a process starts was accepted or resumed by a process that
died before the run ended. Its last checkpoint holds everything the graph needs, so continuing it
(`TicketService.continue_run`, which takes the thread's resume lock) is enough: nodes re-run from their top,
and their side effects are idempotent (outbox keys, one escalation per ticket). A thread another live
replica is running holds that lock and is left to it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from graph.ticket_service import TicketService

log = logging.getLogger(__name__)

# Submits one thread for continuation; False when the caller is full and the thread must be offered again.
Submit = Callable[[str], bool]


class RunRecovery:
    """Offers every interrupted thread to `submit`, on a background thread, backing off while it is full.

    Example:
        >>> recovery = RunRecovery(service, lambda thread_id: runner.submit_recovery(thread_id) is not None)
        >>> recovery.start()
        >>> recovery.stop()
    """

    def __init__(self, service: TicketService, submit: Submit, *, retry_s: float = 0.5) -> None:
        self.service = service
        self.submit = submit
        self.retry_s = retry_s
        self.offered: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="doxa-recovery", daemon=True)

    def start(self) -> None:
        """Look for interrupted threads and offer them, without delaying the caller."""
        self._thread.start()

    def stop(self) -> None:
        """Stop offering threads (those already offered run on) and wait for the background thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def recover(self) -> list[str]:
        """Offer every interrupted thread once; the ids offered."""
        for thread_id in self.service.interrupted_runs():
            while not self.submit(thread_id):
                if self._stop.wait(self.retry_s):
                    return self.offered
            self.offered.append(thread_id)
        return self.offered

    def _run(self) -> None:
        try:
            offered = self.recover()
        # A background thread has no caller to raise to: the failure is logged, and the next start tries again.
        except Exception:
            log.exception("recovering interrupted ticket runs failed")
            return
        if offered:
            log.info("continuing %d interrupted ticket runs", len(offered))
