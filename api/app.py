"""The FastAPI application factory: engines opened once in the lifespan, routes per resource."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from api.auth.dependencies import Authenticator, check_auth_settings
from api.auth.tokens import JwksFetcher
from api.deps import KbRetrieverSlot
from api.docs import install_docs
from api.event_broker import EventBroker
from api.limits import BodySizeLimit
from api.problems import install_problem_handlers
from api.request_context import RequestContext
from api.routes import auth_login, console, faq, health, knowledge_base, metrics, ticket_events, tickets
from api.routes.metrics import database_registry
from api.ticket_runner import RunnerBusyError, TicketRunner
from core.database import release_embedded_server
from core.errors import ConflictError
from core.services import Services
from core.settings import Settings, get_settings
from faq_mining.service import mining_job
from graph.recovery import RunRecovery
from graph.ticket_service import TicketService
from kb.calibration_store import forget_refresher, start_answer_refits
from ops.scheduler import Clock, Scheduler, scheduled_jobs, start_scheduler

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    services: Services | None = None,
    *,
    ticket_service: TicketService | None = None,
    jwks_fetcher: JwksFetcher | None = None,
    scheduler_clock: Clock | None = None,
) -> FastAPI:
    """Build the app; tests may pass settings, open services, a ticket service, a JWKS source, a scheduler clock."""
    settings = settings or get_settings()
    check_auth_settings(settings)  # production refuses unsafe auth before anything starts

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services or Services.open(settings)
        # The serving process restarts an embedded PostgreSQL that dies under it (core/embedded_postgres.py).
        app.state.services.db.supervise(settings.embedded_pg_watch_s)
        # Load the model before serving, so the first request does not pay for it.
        await asyncio.to_thread(app.state.services.embedder.warm_up)
        app.state.authenticator = Authenticator.from_settings(settings, app.state.services.db, jwks_fetcher)
        app.state.metrics_registry = database_registry(app.state.services.db)
        app.state.kb_retriever = KbRetrieverSlot(app.state.services)
        if ticket_service is None:
            runner_service = await asyncio.to_thread(_open_ticket_service, app.state.services)
        else:
            runner_service = ticket_service
        app.state.ticket_runner = TicketRunner(
            runner_service,
            EventBroker(),
            workers=settings.api_run_workers,
            max_pending=settings.api_max_pending_runs,
        )
        app.state.scheduler = _start_schedules(app.state.services, scheduler_clock)
        # kb_confident's answer model is refitted in the background when the KB or the FAQs change.
        start_answer_refits(app.state.services)
        # Threads a killed process left mid-run continue in the background (graph/recovery.py).
        recovery = RunRecovery(runner_service, _recovery_submitter(app.state.ticket_runner))
        recovery.start()
        try:
            yield
        finally:
            await asyncio.to_thread(recovery.stop)
            await asyncio.to_thread(forget_refresher, app.state.services)
            if app.state.scheduler is not None:
                await asyncio.to_thread(app.state.scheduler.stop)
            # Runs already accepted (202) finish before the engines close.
            await asyncio.to_thread(app.state.ticket_runner.shutdown)
            if owned:
                app.state.services.close()
                if app.state.services.db.embedded is not None:
                    release_embedded_server(settings)

    app = FastAPI(
        title="Doxa",
        version="0.1.0",
        description="AI help desk: ticket resolution and FAQ mining over one knowledge store.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        # FastAPI's pages load Swagger UI and ReDoc from a CDN; api/docs.py serves /docs from local assets.
        docs_url=None,
        redoc_url=None,
    )
    install_docs(app, enabled=settings.api_docs)
    app.state.settings = settings
    install_problem_handlers(app)
    app.add_middleware(
        BodySizeLimit,
        default_limit=settings.api_max_body_bytes,
        # multipart framing adds a little to the file itself
        limits_by_path={"/kb/documents": settings.max_file_bytes + 65_536, "/process": settings.api_max_process_bytes},
    )

    # Outermost of Doxa's middlewares: a 413 from the size limit carries the request id too.
    app.add_middleware(RequestContext)

    app.include_router(health.router)
    app.include_router(knowledge_base.router)
    app.include_router(tickets.router)
    app.include_router(ticket_events.router)
    app.include_router(metrics.router)
    app.include_router(faq.router)
    app.include_router(auth_login.router)
    app.include_router(console.router)
    return app


def _operation_id(route: APIRoute) -> str:
    """The handler's name (`create_ticket`, `review_candidate`): what generated clients call the operation."""
    return route.name


def _start_schedules(services: Services, clock: Clock | None) -> Scheduler | None:
    """Scheduled mining and pruning in this replica, when configured and not turned off here."""
    settings = services.settings
    jobs = scheduled_jobs(settings, mining_job=mining_job)
    if not jobs:
        return None
    if not settings.scheduler_enabled:
        log.info("schedules configured but DOXA_SCHEDULER_ENABLED=false: another replica runs them")
        return None
    return start_scheduler(services, jobs, **({"clock": clock} if clock is not None else {}))


def _recovery_submitter(runner: TicketRunner) -> Callable[[str], bool]:
    def submit(thread_id: str) -> bool:
        try:
            runner.submit_recovery(thread_id)
        except RunnerBusyError:
            return False  # offered again once runs finish
        except ConflictError:
            pass  # already running in this process
        return True

    return submit


def _open_ticket_service(services: Services) -> TicketService:
    from graph.factory import open_ticket_service

    return open_ticket_service(services)
