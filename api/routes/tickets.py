"""Ticket threads: create (sync or async), read, list, resume with feedback."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import Future
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic_core import to_jsonable_python
from starlette.concurrency import run_in_threadpool

from api.deps import RunnerDep, TicketReader, TicketWriter
from api.problems import problem_responses
from api.responses import TicketAccepted, TicketDetails, TicketPage, TicketSummary
from api.schemas import TICKET_ID_PATTERN, FeedbackRequest, TicketRequest
from api.ticket_runner import RunnerBusyError, TicketRunner, outcome_summary
from core.errors import NotFoundError
from graph.outbox import Outbox
from graph.ticket_service import DETAIL_KEYS, TicketOutcome, TicketService
from state.ticket import TicketStatus

router = APIRouter(prefix="/tickets", tags=["tickets"])

ThreadId = Annotated[str, Path(max_length=128, pattern=TICKET_ID_PATTERN, description="The ticket's thread id.")]

_ERRORS = problem_responses(
    401, 403, 422, 500, 503, _401="not authenticated", _403="the caller lacks the role", _503="busy; retry later"
)
_MISSING = problem_responses(404, _404="no such ticket")
_CONFLICT = problem_responses(409, _409="the ticket id is taken, or the thread is not in a state for this")


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
    response_model=TicketSummary,
    responses={
        202: {"model": TicketAccepted, "description": "accepted; the run continues in the background"},
        **_ERRORS,
        **_CONFLICT,
    },
)
async def create_ticket(
    ticket: TicketRequest,
    runner: RunnerDep,
    principal: TicketWriter,
    response: Response,
    run_async: Annotated[
        bool, Query(alias="async", description="Return 202 at once; follow with GET or /events.")
    ] = False,
) -> TicketSummary | JSONResponse:
    """Start the ticket's thread and run it until it ends or waits for feedback (201 with the outcome)."""
    thread_id = ticket.id or f"T-{uuid.uuid4().hex[:12]}"
    future = await _submitted(runner.submit_run, ticket.to_ticket(thread_id))
    location = {"Location": f"/tickets/{thread_id}"}
    if run_async:
        accepted = TicketAccepted(thread_id=thread_id, status="running", events=f"/tickets/{thread_id}/events")
        return JSONResponse(accepted.model_dump(mode="json"), status_code=202, headers=location)
    outcome = await _outcome_of(future)
    response.headers.update(location)
    return TicketSummary.from_outcome(outcome)


@router.post("/{thread_id}/feedback", responses={**_ERRORS, **_MISSING, **_CONFLICT})
async def give_feedback(
    thread_id: ThreadId, feedback: FeedbackRequest, runner: RunnerDep, principal: TicketWriter
) -> TicketSummary:
    """Resume a thread that waits for feedback: close it, retry with the comment, or escalate (409 if not waiting)."""
    future = await _submitted(runner.submit_feedback, thread_id, feedback.to_feedback())
    return TicketSummary.from_outcome(await _outcome_of(future))


@router.get("/{thread_id}", response_model_exclude_unset=True, responses={**_ERRORS, **_MISSING})
async def show_ticket(thread_id: ThreadId, runner: RunnerDep, principal: TicketReader) -> TicketDetails:
    """Where the thread stands: status, path, analysis, classification, e-mails sent and escalation."""
    details = await run_in_threadpool(_details, runner, thread_id)
    return TicketDetails.model_validate(details)


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
) -> TicketPage:
    """Threads, most recent activity first (e.g. `status=awaiting_feedback` or `escalated`: those waiting on people)."""
    rows = await run_in_threadpool(runner.service.list, status, limit=limit, offset=offset)
    return TicketPage.model_validate({"items": rows, "limit": limit, "offset": offset})
