"""fetch: the run's tickets, from inline input or from ClickHouse after the watermark, page by page."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from core.errors import ConfigurationError
from core.graph_runtime.edge import thread_id, validated
from faq_mining.nodes.context import MiningContext, mining_context, now_utc
from faq_mining.state import InlineTicket, MinedTicket, MiningRequest, MiningState, MiningStats
from faq_mining.ticket_source import Cursor, ResolvedTicket
from faq_mining.watermark import mining_window


def fetch(state: MiningState, runtime: Runtime[MiningContext]) -> dict[str, Any]:
    """Read at most `limit` tickets closed in the lookback window, in arrival order, resuming after the watermark.

    Inline tickets (the API's POST /process) bypass ClickHouse and leave the watermark alone. ClickHouse
    errors propagate: a source that cannot be read fails the run, it does not look like an empty one.
    The request may come as JSON (Studio) and is validated here, where the run starts; the run's id is its
    thread's id.
    """
    context = mining_context(runtime)
    request = validated(MiningRequest, state.get("request", {}), "the mining request")
    started = {"request": request, "run_id": thread_id() or state.get("run_id")}
    inline = context.inline_tickets if context.inline_tickets is not None else request.tickets
    if inline is not None:
        tickets = [_from_inline(ticket, context) for ticket in inline]
        return started | {"tickets": tickets, "watermark_target": None, "stats": MiningStats(processed=len(tickets))}
    if context.source is None:
        raise ConfigurationError("this mining run has no ticket source; pass tickets inline")
    source = context.source
    window = mining_window(
        _start(request, context.watermarks.load(source.name)), request.lookback_days, now_utc(context)
    )
    fetched: list[ResolvedTicket] = []
    after = window.after
    waiting = 0
    while len(fetched) < request.limit:
        page_size = min(context.policy.page_size, request.limit - len(fetched))
        page = source.fetch_resolved(window.since, window.until, page_size, after)
        fetched.extend(page.tickets)
        after = page.next_cursor
        waiting = page.waiting
        if page.exhausted:
            break
    tickets = [_from_source(ticket) for ticket in fetched]
    return started | {
        "tickets": tickets,
        "watermark_target": after if fetched else None,
        "stats": MiningStats(processed=len(tickets), waiting_lag=waiting),
    }


def _start(request: MiningRequest, watermark: Cursor | None) -> Cursor | None:
    """Where this run starts reading: after the watermark, or earlier when the request asks to re-read."""
    if request.rewind:
        return None
    if request.reread_since is not None:
        return Cursor(request.reread_since, "")  # every id sorts after "": tickets of that very moment are read
    return watermark


def _from_source(ticket: ResolvedTicket) -> MinedTicket:
    return MinedTicket(**ticket.model_dump(exclude={"arrived_at"}))


def _from_inline(ticket: InlineTicket, context: MiningContext) -> MinedTicket:
    return MinedTicket(**ticket.model_dump(exclude={"closed_at"}), closed_at=ticket.closed_at or now_utc(context))
