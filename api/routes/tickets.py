"""Ticket threads: create (sync or async), read, list, resume with feedback."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import Future
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic_core import to_jsonable_python
from starlette.concurrency import run_in_threadpool

from api.auth.dependencies import require
from api.auth.principal import Principal
from api.schemas import TICKET_ID_PATTERN, FeedbackRequest, TicketRequest
from api.ticket_runner import RunnerBusyError, TicketRunner, outcome_summary
from core.errors import NotFoundError
from graph.outbox import Outbox
from graph.ticket_service import TicketOutcome, TicketService
from state.ticket import TicketStatus

router = APIRouter(prefix="/tickets", tags=["tickets"])

TicketWriter = Annotated[Principal, Depends(require("agent", "service"))]
TicketReader = Annotated[Principal, Depends(require("agent", "service", "reviewer"))]
ThreadId = Annotated[str, Path(max_length=128, pattern=TICKET_ID_PATTERN, description="The ticket's thread id.")]

# The state parts GET /tickets/{id} shows, besides the outcome summary.
DETAIL_KEYS = (
    "ticket",
    "validation",
    "priority",
    "analysis",
    "classification",
    "plan",
    "solution",
    "evaluation",
    "feedback",
    "feedback_decision",
    "escalation",
    "escalation_reason",
    "clarifications",
)
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not authenticated"},
    403: {"description": "the caller lacks the role"},
}


def runner_of(request: Request) -> TicketRunner:
    """The app's ticket runner (opened in the lifespan)."""
    runner: TicketRunner = request.app.state.ticket_runner
    return runner


RunnerDep = Annotated[TicketRunner, Depends(runner_of)]


async def _submitted(submit: Any, *args: Any) -> Future[TicketOutcome]:
    try:
        future: Future[TicketOutcome] = await run_in_threadpool(submit, *args)
    except RunnerBusyError as exc:
        raise HTTPException(status_code=503, detail=str(exc), headers={"Retry-After": "5"}) from exc
    return future


async def _outcome_of(future: Future[TicketOutcome]) -> TicketOutcome:
    # shield: a client that disconnects cancels this coroutine, never the run itself.
    return await asyncio.shield(asyncio.wrap_future(future))


@router.post(
    "",
    status_code=201,
    responses={**_ERRORS, 202: {"description": "accepted; the run continues in the background"}, 409: {}, 503: {}},
)
async def create_ticket(
    ticket: TicketRequest,
    runner: RunnerDep,
    principal: TicketWriter,
    run_async: Annotated[
        bool, Query(alias="async", description="Return 202 at once; follow with GET or /events.")
    ] = False,
) -> JSONResponse:
    """Start the ticket's thread and run it until it ends or waits for feedback (201 with the outcome)."""
    thread_id = ticket.id or f"T-{uuid.uuid4().hex[:12]}"
    future = await _submitted(runner.submit_run, ticket.to_ticket(thread_id))
    location = {"Location": f"/tickets/{thread_id}"}
    if run_async:
        body = {"thread_id": thread_id, "status": "running", "events": f"/tickets/{thread_id}/events"}
        return JSONResponse(body, status_code=202, headers=location)
    outcome = await _outcome_of(future)
    return JSONResponse(outcome_summary(outcome), status_code=201, headers=location)


@router.post("/{thread_id}/feedback", responses={**_ERRORS, 404: {}, 409: {}, 503: {}})
async def give_feedback(
    thread_id: ThreadId, feedback: FeedbackRequest, runner: RunnerDep, principal: TicketWriter
) -> dict[str, Any]:
    """Resume a thread that waits for feedback: close it, retry with the comment, or escalate (409 if not waiting)."""
    future = await _submitted(runner.submit_feedback, thread_id, feedback.to_feedback())
    return outcome_summary(await _outcome_of(future))


@router.get("/{thread_id}", responses={**_ERRORS, 404: {}})
async def show_ticket(thread_id: ThreadId, runner: RunnerDep, principal: TicketReader) -> dict[str, Any]:
    """Where the thread stands: status, path, analysis, classification, e-mails sent and escalation."""
    return await run_in_threadpool(_details, runner, thread_id)


def _details(runner: TicketRunner, thread_id: str) -> dict[str, Any]:
    service = runner.service
    try:
        outcome = service.show(thread_id)
    except NotFoundError:
        # Accepted (202) or started elsewhere, but no checkpoint yet: it exists and is running.
        if runner.broker.running(thread_id) or service.tickets.exists(thread_id):
            return {"thread_id": thread_id, "status": "running", "waiting_for_feedback": False, "running": True}
        raise
    running = runner.broker.running(thread_id) or _running_elsewhere(service, thread_id)
    details = outcome_summary(outcome) | {"running": running}
    details |= {key: to_jsonable_python(outcome.values.get(key), fallback=str) for key in DETAIL_KEYS}
    details["emails"] = to_jsonable_python(Outbox(service.tickets.db).list(ticket_id=thread_id, limit=100))
    record = service.tickets.escalation(outcome.escalation_id) if outcome.escalation_id else None
    if record is not None:
        keep = ("id", "team", "reason", "status", "resolution", "resolved_by", "created_at", "resolved_at")
        details["escalation_record"] = to_jsonable_python({key: record.get(key) for key in keep})
    return details


def _running_elsewhere(service: TicketService, thread_id: str) -> bool:
    """Whether another replica runs the thread: its checkpoint has tasks to go and no interrupt waits.

    Tasks, not `next`: `next` leaves out a task whose writes are saved before the step's checkpoint is.
    """
    snapshot = service.graph.get_state({"configurable": {"thread_id": thread_id}})
    return bool(snapshot.tasks) and not snapshot.interrupts


@router.get("", responses=_ERRORS)
async def list_tickets(
    runner: RunnerDep,
    principal: TicketReader,
    status: Annotated[TicketStatus | None, Query(description="Only threads in this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Rows per page.")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")] = 0,
) -> dict[str, Any]:
    """Threads, most recent activity first (e.g. `status=awaiting_feedback` or `escalated`: those waiting on people)."""
    rows = await run_in_threadpool(runner.service.list, status, limit=limit, offset=offset)
    return {"items": to_jsonable_python(rows), "limit": limit, "offset": offset}
