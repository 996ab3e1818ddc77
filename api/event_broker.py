"""Node updates of the ticket runs in this process: an in-process broker for /events, and the recorder feeding it.

The recorder is a LangChain callback handler attached through a configure hook (a context variable), so the
API observes every node of `TicketService.run/feedback` — its update, its latency, its LLM fallbacks —
without changing how the service invokes the graph.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.tracers.context import register_configure_hook
from langgraph.errors import GraphBubbleUp
from pydantic_core import to_jsonable_python

from core.metrics import LLM_FALLBACKS, NODE_ERRORS, NODE_LATENCY

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TicketEvent:
    """One server-sent event: `node` (a node finished, with its update), `end` (ended or waits) or `error`."""

    event: str
    data: dict[str, Any]


@dataclass
class _Channel:
    history: list[TicketEvent] = field(default_factory=list)
    subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[TicketEvent]]] = field(default_factory=list)


class EventBroker:
    """Fans the events of runs in this process out to subscribers; a late subscriber first gets what it missed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channels: dict[str, _Channel] = {}

    def open(self, thread_id: str) -> None:
        """A run of this thread starts in this process."""
        with self._lock:
            self._channels[thread_id] = _Channel()

    def publish(self, thread_id: str, event: TicketEvent) -> None:
        """Send an event to the thread's subscribers (callable from any thread)."""
        with self._lock:
            channel = self._channels.get(thread_id)
            if channel is None:
                return
            channel.history.append(event)
            subscribers = list(channel.subscribers)
        for loop, queue in subscribers:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, event)
            except RuntimeError:  # the subscriber's event loop is closed: it is gone
                self._drop(thread_id, queue)

    def close(self, thread_id: str, final: TicketEvent) -> None:
        """The run is over: send `final` and forget the channel (later subscribers read the checkpoint)."""
        self.publish(thread_id, final)
        with self._lock:
            self._channels.pop(thread_id, None)

    def running(self, thread_id: str) -> bool:
        """Whether a run of this thread is in progress in this process."""
        with self._lock:
            return thread_id in self._channels

    @contextmanager
    def subscribe(self, thread_id: str) -> Iterator[AsyncIterator[TicketEvent] | None]:
        """The run's events up to and including its last one; None when no run of the thread is in this process."""
        queue: asyncio.Queue[TicketEvent] = asyncio.Queue()
        with self._lock:
            channel = self._channels.get(thread_id)
            if channel is not None:
                for event in channel.history:
                    queue.put_nowait(event)
                channel.subscribers.append((asyncio.get_running_loop(), queue))
        if channel is None:
            yield None
            return

        async def events() -> AsyncIterator[TicketEvent]:
            while True:
                event = await queue.get()
                yield event
                if event.event in ("end", "error"):
                    return

        try:
            yield events()
        finally:
            self._drop(thread_id, queue)

    def _drop(self, thread_id: str, queue: asyncio.Queue[TicketEvent]) -> None:
        with self._lock:
            channel = self._channels.get(thread_id)
            if channel is not None:
                channel.subscribers = [(loop, q) for loop, q in channel.subscribers if q is not queue]


class NodeEventRecorder(BaseCallbackHandler):
    """Publishes each node's update of one run and records node latency, errors and LLM fallbacks."""

    def __init__(self, thread_id: str, broker: EventBroker) -> None:
        self.thread_id = thread_id
        self.broker = broker
        self._lock = threading.Lock()
        self._graph_runs: set[UUID] = set()
        self._nodes: dict[UUID, tuple[str, float]] = {}

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Note when a node (a direct child of the graph run, tagged with its step) starts."""
        with self._lock:
            if parent_run_id is None:
                self._graph_runs.add(run_id)
                return
            node = (metadata or {}).get("langgraph_node")
            is_step = any(tag.startswith("graph:step:") for tag in tags or [])
            if parent_run_id in self._graph_runs and is_step and isinstance(node, str):
                self._nodes[run_id] = (node, time.perf_counter())

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """A node finished: observe its latency, count its fallbacks, publish its update."""
        finished = self._finished_node(run_id)
        if finished is None:
            return
        node, seconds = finished
        NODE_LATENCY.labels(node=node).observe(seconds)
        update = outputs if isinstance(outputs, dict) else {}
        for fallback in update.get("fallbacks") or []:
            LLM_FALLBACKS.labels(node=str(fallback)).inc()
        data = {"node": node, "seconds": round(seconds, 4), "update": to_jsonable_python(update, fallback=str)}
        self._publish("node", data)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """A node raised: an interrupt means it waits; anything else is counted (a retry may follow)."""
        finished = self._finished_node(run_id)
        if finished is None:
            return
        node, seconds = finished
        if isinstance(error, GraphBubbleUp):
            self._publish("node", {"node": node, "seconds": round(seconds, 4), "waiting": True})
            return
        NODE_ERRORS.labels(node=node).inc()
        self._publish("node_error", {"node": node, "error": error.__class__.__name__})

    def _finished_node(self, run_id: UUID) -> tuple[str, float] | None:
        """The node this run was and the seconds it took; None when the run is not a node's."""
        with self._lock:
            started = self._nodes.pop(run_id, None)
        if started is None:
            return None
        node, since = started
        return node, time.perf_counter() - since

    def _publish(self, event: str, data: dict[str, Any]) -> None:
        self.broker.publish(self.thread_id, TicketEvent(event, data))


_current_recorder: ContextVar[NodeEventRecorder | None] = ContextVar("doxa_node_event_recorder", default=None)
register_configure_hook(_current_recorder, inheritable=True)


@contextmanager
def recording(recorder: NodeEventRecorder) -> Iterator[None]:
    """Attach `recorder` to every graph run started in this context (this thread)."""
    token = _current_recorder.set(recorder)
    try:
        yield
    finally:
        _current_recorder.reset(token)
