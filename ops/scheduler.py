"""An in-process cron scheduler for the API: scheduled FAQ mining and checkpoint pruning.

Every replica runs the same schedules. Each due run takes a Postgres advisory lock for its job on a connection
of its own (`pg_try_advisory_lock`): a replica that does not get it skips the tick (logged at DEBUG). The winner
then claims the tick in `scheduled_job` (`last_scheduled_for`), so a replica that reaches the same tick after the
run has finished and released the lock skips it too: each tick runs once across replicas. The table keeps each
job's last run (status, summary, error) for every replica and for /metrics.

A job is a callable `(services) -> dict`; a job that raises is logged with its traceback and recorded as failed,
and the scheduler carries on. Ticks missed while no replica ran are not caught up: the next one is.

Example:
    >>> scheduler = start_scheduler(services, scheduled_jobs(services.settings, mining_job=mining_job))
    >>> ...
    >>> scheduler.stop()
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal

import psycopg
from croniter import croniter
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from core.database import Database, connection_kwargs
from core.durations import parse_duration
from core.errors import ConfigurationError, ConflictError
from core.services import Services
from core.settings import Settings
from ops.prune import prune_checkpoints

log = logging.getLogger(__name__)

JobFunction = Callable[[Services], Mapping[str, Any]]
Clock = Callable[[], datetime]
TickOutcome = Literal["succeeded", "failed", "skipped_locked", "skipped_done", "unreachable"]

# First key of the two-key advisory locks of scheduled jobs ("doxj"); the second is hashtext(job name).
# Two-key locks live apart from the one-key locks of migrations and ticket threads.
_JOB_LOCK_NAMESPACE = 0x646F786A
_ERROR_LIMIT = 8000

_CLAIM = """
INSERT INTO scheduled_job AS job (name, cron, last_scheduled_for, last_started_at, last_status, last_runner, runs)
VALUES (%(name)s, %(cron)s, %(due)s, now(), 'running', %(runner)s, 1)
ON CONFLICT (name) DO UPDATE SET
    cron = EXCLUDED.cron, last_scheduled_for = EXCLUDED.last_scheduled_for, last_started_at = now(),
    last_finished_at = NULL, last_status = 'running', last_error = NULL, last_runner = EXCLUDED.last_runner,
    runs = job.runs + 1, updated_at = now()
WHERE job.last_scheduled_for IS NULL OR job.last_scheduled_for < EXCLUDED.last_scheduled_for
RETURNING name
"""
_FINISH = """
UPDATE scheduled_job SET last_finished_at = now(), last_status = %(status)s, last_summary = %(summary)s,
       last_error = %(error)s, failures = failures + %(failed)s, updated_at = now()
 WHERE name = %(name)s
"""


def utc_now() -> datetime:
    """The wall clock, in UTC (cron expressions are read in UTC)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Job:
    """A named callable on a cron schedule."""

    name: str
    cron: str
    run: JobFunction


class Scheduler:
    """Runs registered jobs on their cron ticks in a background thread, one replica per tick.

    `run_pending()` is one tick of the loop; tests and one-shot callers use it with their own clock.
    """

    def __init__(
        self,
        services: Services,
        jobs: Iterable[Job] = (),
        *,
        clock: Clock = utc_now,
        poll_seconds: float = 1.0,
        runner: str | None = None,
    ) -> None:
        self.services = services
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.runner = runner or f"{socket.gethostname()}:{os.getpid()}"
        self._jobs: dict[str, Job] = {}
        self._next_tick: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        for job in jobs:
            self.register_job(job.name, job.cron, job.run)

    def register_job(self, name: str, cron: str, fn: JobFunction) -> Job:
        """Add a job; ConfigurationError for a bad cron expression, ConflictError for a name already taken."""
        if not croniter.is_valid(cron):
            raise ConfigurationError(f"job {name}: {cron!r} is not a cron expression")
        if name in self._jobs:
            raise ConflictError(f"a job named {name} is already registered")
        job = Job(name, cron, fn)
        self._jobs[name] = job
        self._next_tick[name] = croniter(cron, self.clock()).get_next(datetime)
        log.info("scheduled job %s on %r; next tick %s", name, cron, self._next_tick[name].isoformat())
        return job

    @property
    def jobs(self) -> list[Job]:
        """The registered jobs."""
        return list(self._jobs.values())

    def next_tick(self, name: str) -> datetime:
        """When job `name` is next due."""
        return self._next_tick[name]

    def start(self) -> Scheduler:
        """Run the loop in a daemon thread until `stop()`."""
        if self._thread is not None:
            raise ConflictError("the scheduler is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="doxa-scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 30.0) -> None:
        """Ask the loop to end and wait for a running job to finish (up to `timeout` seconds)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("scheduler still busy with a job after %s s; leaving it to finish", timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        """Whether the background loop is alive."""
        return self._thread is not None and self._thread.is_alive()

    def run_pending(self) -> dict[str, TickOutcome]:
        """Run every job whose tick has come (the latest tick if several were missed); outcome per job run."""
        now = self.clock()
        outcomes: dict[str, TickOutcome] = {}
        for job in self.jobs:
            due: datetime | None = None
            ticks = croniter(job.cron, self._next_tick[job.name])
            while self._next_tick[job.name] <= now:
                due = self._next_tick[job.name]
                self._next_tick[job.name] = ticks.get_next(datetime)
            if due is not None:
                outcomes[job.name] = self._run_tick(job, due)
        return outcomes

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_pending()
            except Exception:  # the loop outlives anything one tick does; the tick logged what it could
                log.exception("scheduler tick failed")
            self._stop.wait(self.poll_seconds)

    def _run_tick(self, job: Job, due: datetime) -> TickOutcome:
        db = self.services.db
        try:
            with psycopg.connect(db.url, autocommit=True, **connection_kwargs(db.settings)) as lock_conn:
                key = (_JOB_LOCK_NAMESPACE, job.name)
                locked = lock_conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s)) AS locked", key).fetchone()
                if not locked or not locked["locked"]:
                    log.debug("job %s: another replica holds it; skipping the %s tick", job.name, due.isoformat())
                    return "skipped_locked"
                try:
                    return self._run_locked(lock_conn, job, due)
                finally:
                    lock_conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", key)
        except psycopg.Error:
            log.exception("job %s: the database is unreachable; skipping the %s tick", job.name, due.isoformat())
            return "unreachable"

    def _run_locked(self, conn: psycopg.Connection[DictRow], job: Job, due: datetime) -> TickOutcome:
        claimed = conn.execute(_CLAIM, {"name": job.name, "cron": job.cron, "due": due, "runner": self.runner})
        if claimed.fetchone() is None:
            log.debug("job %s: the %s tick was already run by another replica", job.name, due.isoformat())
            return "skipped_done"
        log.info("job %s: running the %s tick", job.name, due.isoformat())
        try:
            summary = dict(job.run(self.services))
        except Exception as exc:  # recorded and logged; one failed run must not stop the schedule
            log.exception("job %s failed", job.name)
            error = "".join(traceback.format_exception(exc))[-_ERROR_LIMIT:]
            conn.execute(_FINISH, {"name": job.name, "status": "failed", "summary": None, "error": error, "failed": 1})
            return "failed"
        conn.execute(
            _FINISH,
            {"name": job.name, "status": "succeeded", "summary": _jsonb(summary), "error": None, "failed": 0},
        )
        log.info("job %s succeeded", job.name, extra={"summary": summary})
        return "succeeded"


def _jsonb(summary: Mapping[str, Any]) -> Jsonb:
    return Jsonb(summary, dumps=partial(json.dumps, default=str))


def last_runs(db: Database) -> list[dict[str, Any]]:
    """Every scheduled job's last run, as recorded by whichever replica ran it."""
    with db.connection() as conn:
        rows = conn.execute("SELECT * FROM scheduled_job ORDER BY name").fetchall()
        conn.commit()
    return list(rows)


def prune_job(services: Services) -> dict[str, Any]:
    """The scheduled checkpoint prune: threads finished longer ago than DOXA_PRUNE_CLOSED_OLDER_THAN."""
    older_than = parse_duration(services.settings.prune_closed_older_than)
    return prune_checkpoints(services.db, older_than).as_dict()


def scheduled_jobs(settings: Settings, *, mining_job: JobFunction | None = None) -> list[Job]:
    """The jobs the settings turn on: pruning on DOXA_PRUNE_SCHEDULE, mining on DOXA_MINING_SCHEDULE."""
    jobs: list[Job] = []
    if settings.prune_schedule:
        jobs.append(Job("prune_checkpoints", settings.prune_schedule, prune_job))
    if settings.mining_schedule:
        if mining_job is None:
            raise ConfigurationError("DOXA_MINING_SCHEDULE is set, but this process was given no mining job to run")
        jobs.append(Job("faq_mining", settings.mining_schedule, mining_job))
    return jobs


def start_scheduler(services: Services, jobs: Iterable[Job], **options: Any) -> Scheduler:
    """A scheduler running `jobs` in a background thread (idle when there are none); call `stop()` at shutdown."""
    scheduler = Scheduler(services, jobs, **options)
    if not scheduler.jobs:
        log.info("no scheduled jobs (DOXA_MINING_SCHEDULE and DOXA_PRUNE_SCHEDULE are unset)")
        return scheduler
    return scheduler.start()
