"""The in-service scheduler on the test's Postgres, with a hand-driven clock: no waiting for real minutes."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.errors import ConfigurationError, ConflictError
from core.services import Services
from ops.scheduler import Job, Scheduler, last_runs, scheduled_jobs, start_scheduler

START = datetime(2025, 3, 1, 9, 0, 30, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand; shared by several schedulers like the wall clock of two replicas."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self.now += delta


class CountingJob:
    """Counts its runs; holds on a little so two replicas really overlap."""

    def __init__(self, hold_s: float = 0.05) -> None:
        self.hold_s = hold_s
        self.runs = 0
        self._lock = threading.Lock()

    def __call__(self, services: Services) -> Mapping[str, Any]:
        with self._lock:
            self.runs += 1
            run = self.runs
        time.sleep(self.hold_s)
        return {"run": run, "at": datetime.now(UTC)}  # a datetime: summaries need not be plain JSON


def job_row(services: Services, name: str) -> dict[str, Any]:
    return next(row for row in last_runs(services.db) if row["name"] == name)


def test_two_replicas_run_each_tick_exactly_once(services: Services) -> None:
    clock = FakeClock()
    job = CountingJob()
    replicas = [Scheduler(services, clock=clock, runner=f"replica-{n}") for n in (1, 2)]
    for replica in replicas:
        replica.register_job("count", "* * * * *", job)

    outcomes: list[str] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for minute in range(1, 9):
            clock.advance(timedelta(minutes=1))
            ticks = list(pool.map(lambda replica: replica.run_pending(), replicas))
            outcomes += [tick["count"] for tick in ticks]
            assert job.runs == minute, f"tick {minute}: {ticks}"
            assert sorted(tick["count"] for tick in ticks)[1] == "succeeded"

    assert outcomes.count("succeeded") == 8
    assert set(outcomes) - {"succeeded"} <= {"skipped_locked", "skipped_done"}

    # A replica that reaches a tick after another one finished it (the lock is free again) skips it as well.
    clock.advance(timedelta(minutes=1))
    assert replicas[0].run_pending() == {"count": "succeeded"}
    assert replicas[1].run_pending() == {"count": "skipped_done"}
    assert job.runs == 9

    row = job_row(services, "count")
    assert row["runs"] == 9 and row["failures"] == 0 and row["last_status"] == "succeeded"
    assert row["last_scheduled_for"] == datetime(2025, 3, 1, 9, 9, tzinfo=UTC)
    assert row["last_summary"]["run"] == 9 and row["last_runner"] == "replica-1"


def test_nothing_runs_before_its_tick_and_missed_ticks_collapse_into_one(services: Services) -> None:
    clock = FakeClock()
    job = CountingJob(hold_s=0)
    scheduler = Scheduler(services, [Job("hourly", "0 * * * *", job)], clock=clock)
    assert scheduler.next_tick("hourly") == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    clock.advance(timedelta(minutes=20))
    assert scheduler.run_pending() == {} and job.runs == 0
    clock.advance(timedelta(hours=5))  # the process slept through five ticks
    assert scheduler.run_pending() == {"hourly": "succeeded"} and job.runs == 1
    assert job_row(services, "hourly")["last_scheduled_for"] == datetime(2025, 3, 1, 14, 0, tzinfo=UTC)
    assert scheduler.next_tick("hourly") == datetime(2025, 3, 1, 15, 0, tzinfo=UTC)


def test_a_failing_job_is_recorded_and_the_schedule_goes_on(services: Services) -> None:
    clock = FakeClock()
    healthy = CountingJob(hold_s=0)

    def broken(services: Services) -> Mapping[str, Any]:
        raise ValueError("the mining source is gone")

    scheduler = Scheduler(
        services, [Job("broken", "* * * * *", broken), Job("healthy", "* * * * *", healthy)], clock=clock
    )
    for _ in range(2):
        clock.advance(timedelta(minutes=1))
        assert scheduler.run_pending() == {"broken": "failed", "healthy": "succeeded"}

    row = job_row(services, "broken")
    assert row["last_status"] == "failed" and row["failures"] == 2 and row["runs"] == 2
    assert "ValueError: the mining source is gone" in row["last_error"] and "Traceback" in row["last_error"]
    assert row["last_finished_at"] is not None and row["last_summary"] is None
    assert healthy.runs == 2 and job_row(services, "healthy")["last_error"] is None


def test_the_background_thread_runs_due_jobs_and_stops(services: Services) -> None:
    clock = FakeClock()
    job = CountingJob(hold_s=0)
    scheduler = start_scheduler(services, [Job("count", "*/5 * * * *", job)], clock=clock, poll_seconds=0.01)
    try:
        assert scheduler.running
        time.sleep(0.1)
        assert job.runs == 0, "09:00:30 is before the 09:05 tick"
        clock.advance(timedelta(minutes=5))
        deadline = time.monotonic() + 10
        while job.runs == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert job.runs == 1
    finally:
        scheduler.stop()
    assert not scheduler.running
    clock.advance(timedelta(minutes=5))
    time.sleep(0.1)
    assert job.runs == 1, "a stopped scheduler runs nothing"


def test_registry_refuses_bad_cron_and_duplicate_names(services: Services) -> None:
    scheduler = Scheduler(services, clock=FakeClock())
    scheduler.register_job("prune", "30 3 * * 0", CountingJob())
    with pytest.raises(ConflictError):
        scheduler.register_job("prune", "* * * * *", CountingJob())
    with pytest.raises(ConfigurationError, match="not a cron expression"):
        scheduler.register_job("other", "every day", CountingJob())


def test_settings_choose_the_jobs(services: Services) -> None:
    settings = services.settings
    assert scheduled_jobs(settings) == []
    assert not start_scheduler(services, []).running

    configured = settings.model_copy(update={"prune_schedule": "30 3 * * *", "mining_schedule": "0 2 * * *"})
    with pytest.raises(ConfigurationError, match="no mining job"):
        scheduled_jobs(configured)
    mine = CountingJob()
    jobs = scheduled_jobs(configured, mining_job=mine)
    assert [(job.name, job.cron) for job in jobs] == [("prune_checkpoints", "30 3 * * *"), ("faq_mining", "0 2 * * *")]
    assert jobs[1].run is mine


def test_the_prune_job_records_its_report(services: Services) -> None:
    clock = FakeClock()
    scheduler = Scheduler(
        services, scheduled_jobs(services.settings.model_copy(update={"prune_schedule": "* * * * *"})), clock=clock
    )
    clock.advance(timedelta(minutes=1))
    assert scheduler.run_pending() == {"prune_checkpoints": "succeeded"}
    summary = job_row(services, "prune_checkpoints")["last_summary"]
    assert summary["threads_pruned"] == 0 and summary["dry_run"] is False and "cutoff" in summary
