"""GET /metrics: Prometheus text format — this process's counters plus figures read from the database at scrape time.

Figures derived from Postgres (threads by status, escalation and kb_confident ratios, pending FAQ reviews, scheduled
jobs, answers per source) are the same whichever replica is scraped; the counters and histograms of `core.metrics`
and the process collectors are per process, so Prometheus scrapes each replica (deploy/prometheus.yml).
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool

from api.deps import MetricsRegistryDep
from api.problems import problem_responses
from core.database import Database
from core.metrics import REGISTRY, AnswerSourceFigures, ScheduledJobFigures
from ops.answer_report import answers_by_source
from ops.scheduler import last_runs

router = APIRouter(tags=["operations"])
# The most used answer sources exported per scrape (labels per FAQ and article stay bounded).
ANSWER_SOURCES_EXPORTED = 200

_TICKET_FIGURES = (
    "SELECT count(*) AS total,"
    " count(*) FILTER (WHERE EXISTS (SELECT 1 FROM escalation e WHERE e.ticket_id = t.id)) AS escalated,"
    " count(kb_confident) AS searched, count(*) FILTER (WHERE kb_confident) AS confident"
    " FROM ticket t"
)


class DatabaseFigures(Collector):
    """Collects ticket and FAQ-review figures from Postgres on every scrape."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        """Read the figures now."""
        with self.db.connection() as conn:
            by_status = conn.execute("SELECT status, count(*) AS count FROM ticket GROUP BY status").fetchall()
            figures = conn.execute(_TICKET_FIGURES).fetchone()
            pending = conn.execute("SELECT count(*) AS count FROM faq_staging WHERE status = 'PENDING'").fetchone()
        tickets = GaugeMetricFamily("doxa_tickets", "Ticket threads by current status.", labels=["status"])
        for row in by_status:
            tickets.add_metric([str(row["status"])], float(row["count"]))
        yield tickets
        assert figures is not None and pending is not None  # aggregates always return one row
        total, searched = int(figures["total"]), int(figures["searched"])
        yield GaugeMetricFamily(
            "doxa_ticket_escalation_ratio",
            "Share of ticket threads handed to a human (escalation record), over all threads (0..1).",
            value=int(figures["escalated"]) / total if total else 0.0,
        )
        yield GaugeMetricFamily(
            "doxa_ticket_kb_confident_ratio",
            "Share of threads whose last knowledge-base search was confident, over threads that searched it (0..1).",
            value=int(figures["confident"]) / searched if searched else 0.0,
        )
        yield GaugeMetricFamily(
            "doxa_faq_pending_reviews", "FAQ candidates waiting for a reviewer.", value=float(pending["count"])
        )


def database_registry(db: Database) -> CollectorRegistry:
    """A registry of one app's database-derived figures (one per app, so tests can build several apps)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseFigures(db))
    registry.register(ScheduledJobFigures(lambda: last_runs(db)))
    registry.register(
        AnswerSourceFigures(
            lambda: [row.model_dump() for row in answers_by_source(db, None, top=ANSWER_SOURCES_EXPORTED)]
        )
    )
    return registry


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
            "description": "Prometheus text exposition format",
        },
        **problem_responses(500, 503, _503="the database is unavailable; retry shortly"),
    },
)
async def metrics(registry: MetricsRegistryDep) -> Response:
    """Ticket outcomes, escalation and kb_confident ratios, node latency, LLM fallbacks, mining, process figures."""
    text = await run_in_threadpool(lambda: generate_latest(REGISTRY) + generate_latest(registry))
    return Response(text, media_type=CONTENT_TYPE_LATEST)
