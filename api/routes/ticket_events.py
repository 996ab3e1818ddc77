"""GET /tickets/{id}/events: server-sent events of a thread's node updates until it ends or waits.

A run in this process streams from the in-process broker; a run elsewhere (another replica) is followed by
polling its checkpoint, which yields the nodes it passed through without their updates.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import RunnerDep, SettingsDep, TicketReader
from api.event_broker import TicketEvent
from api.problems import problem_responses
from api.routes.tickets import ThreadId
from api.ticket_runner import TicketRunner
from core.errors import NotFoundError
from core.settings import Settings
from graph.ticket_service import outcome_from_state

router = APIRouter(prefix="/tickets", tags=["tickets"])

# OpenAPI 3.1 has no `itemSchema`: a text/event-stream's `schema` describes one event, as `_sse` writes it.
_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["node", "node_error", "end", "error", "timeout"]},
        "id": {"type": "string", "description": "The event's number in this stream, from 1."},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"type": "object"},
            "description": "`node`: the node, its update and seconds; `end`: the ticket's summary; others: detail.",
        },
    },
}


def _sse(event: TicketEvent, sequence: int) -> str:
    return f"id: {sequence}\nevent: {event.event}\ndata: {json.dumps(event.data, default=str)}\n\n"


def _checkpoint(runner: TicketRunner, thread_id: str) -> tuple[list[str], TicketEvent | None]:
    """The nodes the thread passed through, and its `end` event when it no longer runs."""
    snapshot = runner.service.graph.get_state({"configurable": {"thread_id": thread_id}})
    if not snapshot.values:
        return [], None
    waiting = bool(snapshot.interrupts)
    path = list(snapshot.values.get("path", []))
    # `next` leaves out a task whose writes are saved before the step's checkpoint is: mid-run it can be empty
    # for a moment. Tasks are only absent once the thread has ended.
    if snapshot.tasks and not waiting:
        return path, None
    outcome = outcome_from_state(thread_id, snapshot.values, waiting=waiting)
    return path, TicketEvent("end", outcome.model_dump(mode="json", exclude={"values"}))


async def _polled(
    request: Request, runner: TicketRunner, app_settings: Settings, thread_id: str
) -> AsyncIterator[TicketEvent]:
    deadline = time.monotonic() + app_settings.api_events_timeout_s
    seen = 0
    while time.monotonic() < deadline:
        path, end = await run_in_threadpool(_checkpoint, runner, thread_id)
        for node in path[seen:]:
            yield TicketEvent("node", {"node": node, "source": "checkpoint"})
        seen = max(seen, len(path))
        if end is not None:
            yield end
            return
        if await request.is_disconnected():
            return
        await asyncio.sleep(app_settings.api_events_poll_s)
    yield TicketEvent("timeout", {"thread_id": thread_id, "detail": "the stream's time limit was reached"})


@router.get(
    "/{thread_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": _EVENT_SCHEMA}},
            "description": "`node`, `node_error`, `end`, `error` or `timeout` events",
        },
        **problem_responses(401, 403, 404, 422, 500, 503, _404="no such ticket"),
    },
)
async def ticket_events(
    thread_id: ThreadId, request: Request, runner: RunnerDep, settings: SettingsDep, principal: TicketReader
) -> StreamingResponse:
    """Events `node` (a node finished, with its update), then `end` (the outcome) or `error`."""
    if not runner.broker.running(thread_id) and not await run_in_threadpool(runner.service.tickets.exists, thread_id):
        raise NotFoundError(f"no ticket {thread_id}")

    async def stream() -> AsyncIterator[str]:
        sequence = 0
        with runner.broker.subscribe(thread_id) as live:
            events = live if live is not None else _polled(request, runner, settings, thread_id)
            async for event in events:
                sequence += 1
                yield _sse(event, sequence)

    headers: dict[str, Any] = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
