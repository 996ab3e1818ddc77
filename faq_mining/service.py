"""Run the FAQ-mining graph: one LangGraph thread per run (thread id = run id), checkpointed in Postgres.

A run goes from fetch to stage in one call and then waits, one `interrupt()` per staged candidate, until
reviewers decide (`faq_mining.review_flow.resume_review`). The CLI, the API and the scheduler all go
through `MiningService`.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.graph.state import CompiledStateGraph
from pydantic import BaseModel

from core.database import Database
from core.errors import ConflictError
from core.graph_runtime import checkpoints
from core.llm import build_chat_model
from core.metrics import MINING_CANDIDATES, MINING_RUN_SECONDS, MINING_RUNS, MINING_TICKETS
from core.services import Services
from faq_mining.faq_store import FaqStore
from faq_mining.graph import build_mining_graph
from faq_mining.nodes.context import MiningContext, MiningPolicy
from faq_mining.review import FaqReview
from faq_mining.state import CHECKPOINT_TYPES, MiningRequest, MiningStats, ReviewRequest
from faq_mining.ticket_source import TicketSource
from faq_mining.watermark import WatermarkStore

StepCallback = Callable[[str], None]


class MiningRun(BaseModel):
    """What one run did, as the CLI and the API report it."""

    run_id: str
    stats: MiningStats
    staged_ids: list[int]
    waiting_reviews: int
    watermark_advanced: bool
    seconds: float


class PendingReview(BaseModel):
    """A candidate whose run waits for a reviewer."""

    run_id: str
    interrupt_id: str
    request: ReviewRequest


def mining_context_from_services(services: Services, *, with_source: bool = True) -> MiningContext:
    """The configured ticket source, stores, embedder, LLM (or none) and thresholds."""
    settings = services.settings
    store = FaqStore.from_services(services)
    # Ticket vectors are used once per run: caching them in Postgres would only add 10,000 inserts a run.
    embedder = services.embedder.with_cache(None)
    source = None
    if with_source:
        source = TicketSource(services.clickhouse, database=settings.mining_database, statuses=settings.mining_statuses)
        source.ensure_schema()
    return MiningContext(
        source=source,
        watermarks=WatermarkStore(services.db),
        store=store,
        review=FaqReview(services.db, services.embedder, store),
        embedder=embedder,
        chat_model=build_chat_model(settings),
        policy=MiningPolicy.from_settings(settings),
        llm_max_attempts=settings.llm_max_retries + 1,
    )


class MiningService:
    """Start mining runs and read the reviews they wait for, on one compiled graph."""

    def __init__(self, context: MiningContext, checkpointer: BaseCheckpointSaver[Any], db: Database) -> None:
        self.context = context
        self.db = db
        self.graph: CompiledStateGraph[Any, Any, Any, Any] = build_mining_graph().compile(checkpointer=checkpointer)

    @classmethod
    def from_services(cls, services: Services, *, with_source: bool = True) -> MiningService:
        """A service on the configured context and the Postgres checkpointer."""
        return cls(
            mining_context_from_services(services, with_source=with_source), postgres_saver(services.db), services.db
        )

    @staticmethod
    def config(run_id: str) -> RunnableConfig:
        """The LangGraph config of a run's thread."""
        return {"configurable": {"thread_id": run_id}}

    def mine(
        self,
        request: MiningRequest,
        *,
        run_id: str | None = None,
        exclusive: bool = False,
        on_step: StepCallback | None = None,
    ) -> MiningRun:
        """Run fetch..stage for one batch; returns once every staged candidate waits for review.

        `exclusive` makes a second concurrent ClickHouse run refuse to start (ConflictError) instead of
        racing the first one: the claims would keep it from staging anything twice, but it would redo the
        same work. Errors of the run itself (ClickHouse or Postgres down) propagate.
        """
        run_id = run_id or f"mine-{uuid.uuid4().hex[:12]}"
        started = time.perf_counter()
        lock = self._exclusive_run() if exclusive and request.tickets is None else _no_lock()
        with lock, _failed_runs_counted():
            for chunk in self.graph.stream(
                {"request": request.model_copy(update={"tickets": None})},  # the run id is the thread id
                self.config(run_id),
                # Inline tickets ride in the run's context: the graph's input is checkpointed, the context is not.
                context=replace(self.context, inline_tickets=request.tickets),
                durability="sync",
                stream_mode="updates",
            ):
                for step in chunk:
                    if on_step is not None and step != "__interrupt__":
                        on_step(step)
        snapshot = self.graph.get_state(self.config(run_id))
        values = snapshot.values
        staged: list[ReviewRequest] = values.get("staged", [])
        run = MiningRun(
            run_id=run_id,
            stats=values.get("stats", MiningStats()),
            staged_ids=[request.staging_id for request in staged],
            waiting_reviews=len(snapshot.interrupts),
            watermark_advanced=bool(values.get("watermark_advanced", False)),
            seconds=round(time.perf_counter() - started, 3),
        )
        record_mining_metrics(run)
        self._record_run(run)
        return run

    def _record_run(self, run: MiningRun) -> None:
        """Note the finished run, so pruning finds its thread even when it staged nothing (migration 0021)."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO mining_run (run_id, processed, staged) VALUES (%s, %s, %s)"
                " ON CONFLICT (run_id) DO UPDATE SET finished_at = now(), processed = EXCLUDED.processed,"
                " staged = EXCLUDED.staged",
                (run.run_id, run.stats.processed, len(run.staged_ids)),
            )

    def pending_reviews(self, run_id: str | None = None) -> list[PendingReview]:
        """The review interrupts waiting in one run, or in every run that has a PENDING candidate."""
        if run_id is not None:
            run_ids = [run_id]
        else:
            with self.db.connection() as conn:
                rows = conn.execute(
                    "SELECT DISTINCT run_id FROM faq_staging WHERE status = 'PENDING' AND run_id IS NOT NULL"
                    " ORDER BY run_id"
                ).fetchall()
                conn.rollback()
            run_ids = [row["run_id"] for row in rows]
        pending = []
        for thread_id in run_ids:
            for waiting in self.graph.get_state(self.config(thread_id)).interrupts:
                request = ReviewRequest.model_validate(waiting.value)
                pending.append(PendingReview(run_id=thread_id, interrupt_id=waiting.id, request=request))
        return pending

    @contextmanager
    def _exclusive_run(self) -> Iterator[None]:
        source = self.context.source.name if self.context.source is not None else "inline"
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT pg_try_advisory_lock(hashtext(%s)) AS locked", (f"doxa-faq-mining:{source}",)
            ).fetchone()
            conn.commit()
            if not row or not row["locked"]:
                raise ConflictError(f"another FAQ-mining run of {source} is in progress; this one did nothing")
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (f"doxa-faq-mining:{source}",))
                conn.commit()


@contextmanager
def _no_lock() -> Iterator[None]:
    yield


@contextmanager
def _failed_runs_counted() -> Iterator[None]:
    # A refused exclusive run is counted as skipped by its caller, not as a failure.
    try:
        yield
    except ConflictError:
        raise
    except Exception:
        MINING_RUNS.labels(status="failed").inc()
        raise


# Ticket outcomes of MiningStats, as the `outcome` label of doxa_mining_tickets.
_TICKET_OUTCOMES = {
    "staged": "staged_tickets",
    "prefilter": "skipped_prefilter",
    "duplicate": "skipped_duplicate",
    "identical": "skipped_identical",
    "unsuitable": "skipped_unsuitable",
    "pii": "skipped_pii",
    "failed": "failed",
    "joined_pending": "joined_pending",
}


def record_mining_metrics(run: MiningRun) -> None:
    """Add one finished run's statistics to this process's Prometheus counters."""
    MINING_RUNS.labels(status="ok").inc()
    MINING_RUN_SECONDS.observe(run.seconds)
    for outcome, field in _TICKET_OUTCOMES.items():
        MINING_TICKETS.labels(outcome=outcome).inc(getattr(run.stats, field))
    MINING_CANDIDATES.labels(kind="new").inc(run.stats.staged_new)
    MINING_CANDIDATES.labels(kind="merge").inc(run.stats.staged_merge)


def postgres_saver(db: Database) -> PostgresSaver:
    """A Postgres checkpointer on its own autocommit pool, with its tables set up; every write waits for the flush."""
    serde = checkpoints.checkpoint_serializer(CHECKPOINT_TYPES)
    return checkpoints.postgres_saver(db.autocommit_pool(), serde, step_commits=False)


_SERVICES: dict[tuple[int, bool], tuple[Services, MiningService]] = {}
_SERVICES_LOCK = threading.Lock()


def mining_service_for(services: Services, *, with_source: bool = True) -> MiningService:
    """The process's MiningService on these services, built once (each build opens a checkpointer pool).

    Reviews need no ticket source: `with_source=False` spares them opening ClickHouse.
    """
    key = (id(services), with_source)
    with _SERVICES_LOCK:
        known = _SERVICES.get(key)
        if known is None or known[0] is not services:
            known = (services, MiningService.from_services(services, with_source=with_source))
            _SERVICES[key] = known
        return known[1]


def mining_job(services: Services) -> dict[str, Any]:
    """The scheduler's mining job: one exclusive run over the default window; its summary as a dict."""
    settings = services.settings
    service = mining_service_for(services)
    request = MiningRequest(lookback_days=settings.mining_lookback_days, limit=settings.mining_limit)
    try:
        run = service.mine(request, exclusive=True)
    except ConflictError as exc:
        MINING_RUNS.labels(status="skipped").inc()
        return {"skipped": str(exc)}
    return run.model_dump(mode="json", exclude={"stats": {"failures"}}) | {"failures": len(run.stats.failures)}
