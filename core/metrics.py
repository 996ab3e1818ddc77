"""Doxa's Prometheus metrics that live in the process: counters and histograms any layer may increment.

Figures that derive from the database (tickets by status, escalation and kb_confident ratios, pending FAQ
reviews, scheduled jobs' runs, answers per source) are collected at scrape time, so every replica reports the
same values; `ScheduledJobFigures` and `AnswerSourceFigures` are given a function that reads their rows.

Names follow Prometheus's conventions: a cumulative count is a counter exported as `<name>_total`, a current
value is a gauge, a share is a gauge named `_ratio` (0..1), and units end the name (`_seconds`, `_bytes`).

Example:
    >>> from core.metrics import MINING_TICKETS
    >>> MINING_TICKETS.labels(outcome="staged").inc(12)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# `*_created` series double the output and no dashboard of ours reads them.
disable_created_metrics()
REGISTRY = CollectorRegistry(auto_describe=True)
# The standard process figures every Prometheus client exports (`process_cpu_seconds_total`,
# `process_resident_memory_bytes`, `process_open_fds`, `python_gc_*`, `python_info`): our own registry leaves
# out the ones prometheus_client registers on its default registry, so they are added here.
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)


def counter(name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
    """A counter on Doxa's registry (exported as `<name>_total`)."""
    return Counter(name, documentation, labels, registry=REGISTRY)


def histogram(name: str, documentation: str, buckets: Sequence[float], labels: Sequence[str] = ()) -> Histogram:
    """A histogram on Doxa's registry."""
    return Histogram(name, documentation, labels, buckets=buckets, registry=REGISTRY)


# --- Ticket graph (incremented by the API's run path) -------------------------------------------
TICKET_RUNS = counter(
    "doxa_ticket_runs",
    "Ticket runs and resumes finished by this process, by the status the thread reached.",
    ["kind", "outcome"],
)
TICKET_RUN_FAILURES = counter(
    "doxa_ticket_run_failures", "Ticket runs that raised instead of ending or waiting.", ["kind"]
)
KB_CONFIDENT_RUNS = counter(
    "doxa_ticket_kb_confident_runs",
    "Finished runs that searched the knowledge base, by whether it was confident.",
    ["kb_confident"],
)
NODE_LATENCY = histogram(
    "doxa_ticket_node_seconds",
    "Time one ticket-graph node took, by node.",
    (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    ["node"],
)
NODE_ERRORS = counter("doxa_ticket_node_errors", "Node attempts that raised (retried or failed), by node.", ["node"])
LLM_FALLBACKS = counter("doxa_llm_fallbacks", "LLM calls that fell back to the offline path, by node.", ["node"])

# --- FAQ mining (for the mining graph and its schedule to increment) ------------------------------
MINING_RUNS = counter("doxa_mining_runs", "FAQ-mining runs, by how they ended (ok, failed, skipped).", ["status"])
MINING_TICKETS = counter(
    "doxa_mining_tickets",
    "Resolved tickets the mining graph read, by what became of them (staged, duplicate, redacted, dropped...).",
    ["outcome"],
)
MINING_CANDIDATES = counter(
    "doxa_mining_faq_candidates", "FAQ candidates staged for review, by kind (new, merge).", ["kind"]
)
MINING_RUN_SECONDS = histogram(
    "doxa_mining_run_seconds", "Duration of one FAQ-mining run.", (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)
)


# --- Scheduled jobs (read from Postgres at scrape time: the same on every replica) ----------------
_JOB_STATUSES = ("running", "succeeded", "failed")


class ScheduledJobFigures(Collector):
    """Each scheduled job's run counts and last run (`ops.scheduler.last_runs` rows), labelled by job.

    The counts only grow (`scheduled_job.runs`, `.failures`), so they are counters; the last run's times and
    status are gauges.
    """

    def __init__(self, read_rows: Callable[[], Sequence[Mapping[str, Any]]]) -> None:
        self.read_rows = read_rows

    def collect(self) -> Iterator[Metric]:
        """Read the rows now."""
        runs = CounterMetricFamily(
            "doxa_scheduled_job_runs", "Runs of a scheduled job started, all replicas together.", labels=["job"]
        )
        failures = CounterMetricFamily(
            "doxa_scheduled_job_failures", "Runs of a scheduled job that failed, all replicas together.", labels=["job"]
        )
        started = GaugeMetricFamily(
            "doxa_scheduled_job_last_started_timestamp_seconds", "When the job's last run started.", labels=["job"]
        )
        finished = GaugeMetricFamily(
            "doxa_scheduled_job_last_finished_timestamp_seconds",
            "When the job's last run finished (absent while the first run is in progress).",
            labels=["job"],
        )
        status = GaugeMetricFamily(
            "doxa_scheduled_job_last_status", "1 for the status of the job's last run.", labels=["job", "status"]
        )
        for row in self.read_rows():
            job = str(row["name"])
            runs.add_metric([job], float(row["runs"]))
            failures.add_metric([job], float(row["failures"]))
            for family, column in ((started, "last_started_at"), (finished, "last_finished_at")):
                moment: datetime | None = row[column]
                if moment is not None:
                    family.add_metric([job], moment.timestamp())
            for name in _JOB_STATUSES:
                status.add_metric([job, name], 1.0 if row["last_status"] == name else 0.0)
        yield from (runs, failures, started, finished, status)


# --- Automatic answers per FAQ and article (read from Postgres at scrape time) --------------------
_ANSWER_LABELS = ["kind", "source_id", "title"]


class AnswerSourceFigures(Collector):
    """Automatic answers, verdicts and escalations after them, per FAQ and article (`ops.answer_report` rows).

    The counts are counters: the answer-feedback log only grows. Satisfaction and deflection are the report's
    ratios (0..1), absent for a source no customer has judged yet.
    """

    def __init__(self, read_rows: Callable[[], Sequence[Mapping[str, Any]]]) -> None:
        self.read_rows = read_rows

    def collect(self) -> Iterator[Metric]:
        """Read the rows now: the most used sources (the answer_feedback table holds them all)."""
        answers = CounterMetricFamily(
            "doxa_answers", "Automatic answers built on a FAQ or article, all replicas together.", labels=_ANSWER_LABELS
        )
        confident = CounterMetricFamily(
            "doxa_answers_confident", "Of those, answers sent as confident.", labels=_ANSWER_LABELS
        )
        verdicts = CounterMetricFamily(
            "doxa_answer_verdicts",
            "Customer verdicts on those answers (satisfied or not_satisfied).",
            labels=[*_ANSWER_LABELS, "verdict"],
        )
        escalated = CounterMetricFamily(
            "doxa_answer_escalations_after",
            "Verdicts on those answers that ended with a person (the answer did not deflect the ticket).",
            labels=_ANSWER_LABELS,
        )
        satisfaction = GaugeMetricFamily(
            "doxa_answer_satisfaction_ratio",
            "Share of the verdicts on a source's answers that were satisfied (0..1; absent without verdicts).",
            labels=_ANSWER_LABELS,
        )
        deflection = GaugeMetricFamily(
            "doxa_answer_deflection_ratio",
            "Share of the verdicts on a source's answers that did not end with a person (0..1; absent without"
            " verdicts).",
            labels=_ANSWER_LABELS,
        )
        for row in self.read_rows():
            labels = [str(row["kind"]), str(row["source_id"]), str(row["title"])[:120]]
            answers.add_metric(labels, float(row["answers"]))
            confident.add_metric(labels, float(row["confident_answers"]))
            verdicts.add_metric([*labels, "satisfied"], float(row["satisfied"]))
            verdicts.add_metric([*labels, "not_satisfied"], float(row["not_satisfied"]))
            escalated.add_metric(labels, float(row["escalated_after"]))
            for family, column in ((satisfaction, "satisfaction"), (deflection, "deflection")):
                ratio: float | None = row.get(column)
                if ratio is not None:
                    family.add_metric(labels, ratio)
        yield from (answers, confident, verdicts, escalated, satisfaction, deflection)
