"""Checkpoint retention: delete the LangGraph checkpoints of threads that finished long ago.

LangGraph's Postgres saver keeps every super-step of every thread forever. A thread may go only when it can
never be resumed again:

- a ticket thread whose `ticket` row is rejected, closed or escalated (each of these ends the graph: reject,
  close -> improve and escalate -> improve all lead to END) and was last updated before the cutoff;
- a mining run's thread (thread id = `faq_staging.run_id`) none of whose candidates is still PENDING, whose
  candidates were last touched before the cutoff, or a run that staged nothing (`mining_run`, migration 0021)
  and finished before it.

Waiting threads (running, answered, awaiting_feedback, a run with a PENDING candidate) are never candidates,
and the checkpoint tables are asked as well: a thread whose latest checkpoint still has pending writes (an
interrupt waiting for its resume value, or a super-step cut short by a crash) is kept, whatever its projection
says. Threads Doxa does not know (no ticket row, no staged candidate) are left alone, except Studio's copies
of threads (`doxa studio open`, registered in `studio_thread`), which go once made before the cutoff.

The `ticket` projection, outbox, escalations and staged candidates stay: only the thread's replayable state goes,
so `doxa ticket list` still shows a pruned ticket while its graph state can no longer be read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import DictRow

from core.database import Database
from core.errors import InvalidInputError
from core.graph_runtime.thread_copy import prune_copies

log = logging.getLogger(__name__)

FINISHED_TICKET_STATUSES = ("rejected", "closed", "escalated")
CHECKPOINT_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")

# Candidates with, for each, whether its latest checkpoint (per namespace) still has pending writes.
# Each side also refuses ids the other side says are waiting, in case a run id ever equals a ticket id.
_CANDIDATES = """
WITH finished AS (
    SELECT id AS thread_id, 'ticket' AS kind FROM ticket
     WHERE status = ANY(%(statuses)s) AND updated_at < %(cutoff)s
    UNION ALL
    SELECT run_id, 'mining' FROM faq_staging
     WHERE run_id IS NOT NULL
     GROUP BY run_id
    HAVING bool_and(status <> 'PENDING') AND max(updated_at) < %(cutoff)s
    UNION ALL
    SELECT r.run_id, 'mining' FROM mining_run r
     WHERE r.finished_at < %(cutoff)s AND NOT EXISTS (SELECT 1 FROM faq_staging s WHERE s.run_id = r.run_id)
)
SELECT f.thread_id, f.kind,
       EXISTS (
           SELECT 1 FROM checkpoint_writes w
            WHERE w.thread_id = f.thread_id
              AND w.checkpoint_id = (SELECT max(c.checkpoint_id) FROM checkpoints c
                                      WHERE c.thread_id = w.thread_id AND c.checkpoint_ns = w.checkpoint_ns)
       ) AS has_pending_writes
  FROM finished f
 WHERE EXISTS (SELECT 1 FROM checkpoints c WHERE c.thread_id = f.thread_id)
   AND NOT EXISTS (SELECT 1 FROM ticket t WHERE t.id = f.thread_id
                    AND NOT (t.status = ANY(%(statuses)s) AND t.updated_at < %(cutoff)s))
   AND NOT EXISTS (SELECT 1 FROM faq_staging s WHERE s.run_id = f.thread_id AND s.status = 'PENDING')
   AND (%(only)s::text[] IS NULL OR f.thread_id = ANY(%(only)s))
 ORDER BY f.thread_id
"""


@dataclass
class PruneReport:
    """What a prune deleted (or, in a dry run, would delete)."""

    cutoff: datetime
    dry_run: bool
    threads_pruned: int = 0
    ticket_threads: int = 0
    mining_threads: int = 0
    rows_deleted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHECKPOINT_TABLES, 0))
    bytes_freed_estimate: int = 0
    kept_with_pending_writes: list[str] = field(default_factory=list)
    skipped_busy: list[str] = field(default_factory=list)
    batches: int = 0
    studio_copies: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the scheduler records it, `--json` prints it)."""
        return {
            "cutoff": self.cutoff.isoformat(),
            "dry_run": self.dry_run,
            "threads_pruned": self.threads_pruned,
            "ticket_threads": self.ticket_threads,
            "mining_threads": self.mining_threads,
            "rows_deleted": dict(self.rows_deleted),
            "bytes_freed_estimate": self.bytes_freed_estimate,
            "kept_with_pending_writes": list(self.kept_with_pending_writes),
            "skipped_busy": list(self.skipped_busy),
            "batches": self.batches,
            "studio_copies": self.studio_copies,
        }


def prune_checkpoints(
    db: Database,
    older_than: timedelta,
    *,
    dry_run: bool = False,
    batch_size: int = 500,
    on_batch: Callable[[PruneReport], None] | None = None,
) -> PruneReport:
    """Delete every checkpoint row of the threads that finished before `now() - older_than`.

    One transaction per batch of threads, each re-checked inside it, so a crash leaves whole threads either
    pruned or intact, and running it again prunes what is left (it is idempotent). `bytes_freed_estimate` sums
    the deleted rows' sizes; Postgres reuses that space after (auto)vacuum, `VACUUM FULL` returns it to the OS.
    """
    if older_than <= timedelta(0):
        raise InvalidInputError("the age of the threads to prune must be longer than zero")
    if batch_size < 1:
        raise InvalidInputError("batch_size must be at least 1")
    with db.connection() as conn:
        cutoff: datetime = _one(conn, "SELECT now() - %s::interval AS cutoff", (older_than,))["cutoff"]
        tables_exist = _one(conn, "SELECT to_regclass('checkpoints') IS NOT NULL AS present", ())["present"]
        conn.commit()
    report = PruneReport(cutoff=cutoff, dry_run=dry_run)
    if not tables_exist:
        log.info("no checkpoint tables yet: nothing to prune")
        return report

    with db.connection() as conn:
        candidates = _candidates(conn, cutoff, only=None)
        conn.commit()
    report.kept_with_pending_writes = [row["thread_id"] for row in candidates if row["has_pending_writes"]]
    if report.kept_with_pending_writes:
        log.warning(
            "kept %d finished threads whose latest checkpoint still has pending writes",
            len(report.kept_with_pending_writes),
            extra={"thread_ids": report.kept_with_pending_writes[:20]},
        )
    eligible = [row["thread_id"] for row in candidates if not row["has_pending_writes"]]
    # Studio's copies (`doxa studio open`) go by age alone: a copy waiting at an interrupt is still a copy.
    report.studio_copies = prune_copies(db, older_than, dry_run=dry_run)
    for start in range(0, len(eligible), batch_size):
        _prune_batch(db, eligible[start : start + batch_size], report)
        report.batches += 1
        if on_batch is not None:
            on_batch(report)
    log.info(
        "%s %d threads (%d rows, about %d bytes)",
        "would prune" if dry_run else "pruned",
        report.threads_pruned,
        sum(report.rows_deleted.values()),
        report.bytes_freed_estimate,
        extra={"cutoff": cutoff.isoformat(), "rows_deleted": report.rows_deleted},
    )
    return report


def _prune_batch(db: Database, thread_ids: Sequence[str], report: PruneReport) -> None:
    with db.transaction() as conn:
        # Lock the projection rows and re-check: a ticket saved since the listing is judged on its new status.
        conn.execute("SELECT id FROM ticket WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (list(thread_ids),))
        rechecked = [row for row in _candidates(conn, report.cutoff, only=thread_ids) if not row["has_pending_writes"]]
        batch: list[str] = []
        kinds: dict[str, str] = {}
        for row in rechecked:
            # The ticket service holds this lock while it resumes a thread; never delete under a live run.
            locked = _one(conn, "SELECT pg_try_advisory_xact_lock(hashtext(%s)) AS locked", (row["thread_id"],))
            if locked["locked"]:
                batch.append(row["thread_id"])
                kinds[row["thread_id"]] = row["kind"]
            else:
                report.skipped_busy.append(row["thread_id"])
        if not batch:
            return
        for table in CHECKPOINT_TABLES:
            sized = _one(
                conn,
                f"SELECT count(*) AS rows, coalesce(sum(pg_column_size(t.*)), 0) AS bytes"
                f" FROM {table} t WHERE thread_id = ANY(%s)",
                (batch,),
            )
            if not report.dry_run:
                conn.execute(f"DELETE FROM {table} WHERE thread_id = ANY(%s)", (batch,))
            report.rows_deleted[table] += int(sized["rows"])
            report.bytes_freed_estimate += int(sized["bytes"])
        report.threads_pruned += len(batch)
        report.ticket_threads += sum(1 for kind in kinds.values() if kind == "ticket")
        report.mining_threads += sum(1 for kind in kinds.values() if kind == "mining")


def _candidates(
    conn: psycopg.Connection[DictRow], cutoff: datetime, *, only: Sequence[str] | None
) -> list[dict[str, Any]]:
    params = {
        "statuses": list(FINISHED_TICKET_STATUSES),
        "cutoff": cutoff,
        "only": list(only) if only is not None else None,
    }
    return list(conn.execute(_CANDIDATES, params).fetchall())


def _one(conn: psycopg.Connection[DictRow], query: str, params: Sequence[Any]) -> dict[str, Any]:
    row = conn.execute(query, params).fetchone()
    assert row is not None, "an aggregate query returns one row"
    return row
