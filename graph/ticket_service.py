"""Run ticket threads: start one per ticket, resume it with feedback, read it back.

Every ticket is one LangGraph thread (thread id = ticket id) checkpointed in Postgres, so a process that
restarts continues every thread from its last checkpoint. The CLI and the API both go through this class.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, Durability
from psycopg import Connection
from psycopg.rows import DictRow
from psycopg_pool import ConnectionPool
from pydantic import BaseModel

from core.errors import ConflictError, NotFoundError
from core.graph_runtime.checkpoints import checkpoint_serializer, postgres_saver
from graph.ticket_graph import build_ticket_graph
from graph.ticket_store import TicketRow, TicketStore
from nodes.context import TicketContext
from state import agents
from state.ticket import CustomerFeedback, TicketInput, TicketState

# Checkpoints hold our pydantic models; only these types may be rebuilt when a checkpoint is read.
CHECKPOINT_TYPES: list[type[BaseModel]] = [
    TicketInput,
    CustomerFeedback,
    agents.Validation,
    agents.Priority,
    agents.Entities,
    agents.QueryAnalysis,
    agents.Classification,
    agents.QueryPlan,
    agents.Citation,
    agents.Solution,
    agents.Evaluation,
    agents.Email,
    agents.FeedbackDecision,
    agents.Escalation,
    agents.KnowledgeGapSuggestion,
]


# The node a new thread starts with: `accept` checkpoints the input and stops before it.
FIRST_NODE = "validate"
RECOVERY_PAGE = 1000
# Each step's checkpoint is written before the next step starts. "async" (written while the next step runs;
# invoke still returns only once all are written) keeps RELIABILITY.md's promises too, but measured slower on
# 2 cores: the writer thread competes with the nodes for the GIL (BENCHMARKS.md, "Ticket graph").
RUN_DURABILITY: Durability = "sync"
# The state parts a thread's details show besides its outcome (GET /tickets/{id}, `doxa ticket show --json`).
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


class TicketOutcome(BaseModel):
    """Where a thread stands, as the CLI and the API report it."""

    thread_id: str
    status: str
    waiting_for_feedback: bool
    priority: str | None = None
    category: str | None = None
    kb_confident: bool | None = None
    answered_by: str | None = None
    faq_id: int | None = None
    attempt: int = 1
    email: dict[str, Any] | None = None
    escalation_id: str | None = None
    path: list[str] = []
    fallbacks: list[str] = []
    values: dict[str, Any] = {}


class TicketService:
    """Start, resume and read ticket threads on one compiled graph."""

    def __init__(self, context: TicketContext, checkpointer: BaseCheckpointSaver[Any], tickets: TicketStore) -> None:
        self.context = context
        self.tickets = tickets
        self._locks: ConnectionPool[Connection[DictRow]] | None = None
        self._lock_pool_guard = threading.Lock()
        self.graph: CompiledStateGraph[Any, Any, Any, Any] = build_ticket_graph(
            llm_backoff_s=context.llm_backoff_s
        ).compile(checkpointer=checkpointer)

    @staticmethod
    def postgres_checkpointer(tickets: TicketStore) -> PostgresSaver:
        """A Postgres saver, one unflushed commit per step (core/graph_runtime/checkpoints.py says why), own pool."""
        return postgres_saver(tickets.db.autocommit_pool(), checkpoint_serializer(CHECKPOINT_TYPES), step_commits=True)

    def _config(self, thread_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": thread_id}}

    def run(self, ticket: TicketInput) -> TicketOutcome:
        """Start the thread of a new ticket and run it until it ends or waits for feedback."""
        thread_id = self.accept(ticket)
        with self._exclusive(thread_id):
            # Accepted just now, so its checkpoint holds the input with the first node next: no state to read
            # first (`continue_run` reads it). Should a recovering replica have run the whole thread between the
            # two lines, invoking from its last checkpoint runs nothing more and returns its state.
            final = self.graph.invoke(None, self._config(thread_id), context=self.context, durability=RUN_DURABILITY)
        return self._project(thread_id, final)

    def accept(self, ticket: TicketInput) -> str:
        """Record a new ticket durably without working on it yet: its row, and a checkpoint holding its input.

        Once this returns, a crash cannot lose the ticket: `continue_run` (or the start-up recovery) picks it up
        from that checkpoint. Returns the thread id; ConflictError when it is taken.
        """
        thread_id = ticket.id or f"T-{uuid.uuid4().hex[:12]}"
        # One INSERT decides: two replicas accepting the same id at once cannot both start its thread.
        if not self.tickets.create(
            TicketRow(thread_id, ticket.subject, ticket.customer_email, "running", None, None, 1, None, None)
        ):
            raise ConflictError(f"ticket {thread_id} already exists")
        # interrupt_before the first node: only the input step runs, and its checkpoint is written.
        self.graph.invoke(
            {"ticket": ticket.model_copy(update={"id": thread_id})},
            self._config(thread_id),
            context=self.context,
            durability="sync",
            interrupt_before=[FIRST_NODE],
        )
        # Saved again after the checkpoint: the checkpointer commits without waiting for the WAL flush, and this
        # synchronous commit flushes it, so a Postgres crash after the caller's answer cannot lose the ticket.
        self.tickets.save(
            TicketRow(thread_id, ticket.subject, ticket.customer_email, "running", None, None, 1, None, None)
        )
        return thread_id

    def continue_run(self, thread_id: str) -> TicketOutcome:
        """Run an accepted or interrupted thread from its last checkpoint until it ends or waits for feedback.

        Holds the thread's resume lock, so a recovering replica never runs a thread another process is running
        (ConflictError). A thread that already ended or waits for feedback is returned as it stands.
        """
        with self._exclusive(thread_id):
            snapshot = self.graph.get_state(self._config(thread_id))
            if not snapshot.values:
                raise NotFoundError(f"no ticket {thread_id}")
            # `tasks`, not `next`: a task whose writes were saved before the kill is no longer in `next`, yet the
            # run must still go on from it (invoke applies those writes and continues).
            if not snapshot.tasks or snapshot.interrupts:
                return self._project(thread_id, {**snapshot.values, "__interrupt__": snapshot.interrupts})
            final = self.graph.invoke(None, self._config(thread_id), context=self.context, durability=RUN_DURABILITY)
        return self._project(thread_id, final)

    def interrupted_runs(self) -> list[str]:
        """Threads whose run stopped between checkpoints (a crash, a kill): their row still says `running`."""
        found: list[str] = []
        while page := self.tickets.list("running", limit=RECOVERY_PAGE, offset=len(found)):
            found.extend(str(row["id"]) for row in page)
            if len(page) < RECOVERY_PAGE:
                break
        return found

    def feedback(self, thread_id: str, feedback: CustomerFeedback) -> TicketOutcome:
        """Resume a thread that waits for the customer's feedback; ConflictError if it does not wait."""
        with self._exclusive(thread_id):
            waiting = self.show(thread_id)
            if not waiting.waiting_for_feedback:
                raise ConflictError(f"ticket {thread_id} is not waiting for feedback")
            # `running` until the resume ends: a crash in between leaves the thread to the start-up recovery.
            self._save_row(thread_id, waiting.model_copy(update={"status": "running"}))
            final = self.graph.invoke(
                Command(resume=feedback.model_dump()),
                self._config(thread_id),
                context=self.context,
                durability=RUN_DURABILITY,
            )
        return self._project(thread_id, final)

    def show(self, thread_id: str) -> TicketOutcome:
        """The thread's current state; NotFoundError for an unknown id."""
        snapshot = self.graph.get_state(self._config(thread_id))
        if not snapshot.values:
            raise NotFoundError(f"no ticket {thread_id}")
        return outcome_from_state(thread_id, snapshot.values, waiting=bool(snapshot.interrupts))

    def list(self, status: str | None = None, *, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """Threads by most recent activity, optionally of one status."""
        return self.tickets.list(status, limit=limit, offset=offset)

    def _project(self, thread_id: str, final: dict[str, Any]) -> TicketOutcome:
        """Summarise what invoke returned (its values, plus `__interrupt__` when it paused) and save the row."""
        values = {key: value for key, value in final.items() if key != "__interrupt__"}
        outcome = outcome_from_state(thread_id, values, waiting=bool(final.get("__interrupt__")))
        self._save_row(thread_id, outcome)
        return outcome

    def _save_row(self, thread_id: str, outcome: TicketOutcome) -> None:
        ticket: TicketInput = outcome.values["ticket"]
        self.tickets.save(
            TicketRow(
                thread_id,
                ticket.subject,
                ticket.customer_email,
                outcome.status,
                outcome.priority,
                outcome.category,
                outcome.attempt,
                outcome.kb_confident,
                outcome.escalation_id,
            )
        )

    def _lock_pool(self) -> ConnectionPool[Connection[DictRow]]:
        """The pool resume locks are held on, opened on the first resume."""
        with self._lock_pool_guard:
            if self._locks is None:
                self._locks = self.tickets.db.autocommit_pool(max_size=self.tickets.db.settings.db_pool_max)
            return self._locks

    @contextmanager
    def _exclusive(self, thread_id: str) -> Iterator[None]:
        """One resume at a time per thread, across processes (a session-level Postgres advisory lock).

        The lock lives as long as the resume, so its connection does too. It comes from a pool of its own: taken
        from the pools the nodes and the checkpointer write through, N concurrent resumes would hold N of their
        connections idle while their own nodes wait for one (pool starvation). At most `db_pool_max` resumes
        hold a lock at once; more wait for a lock connection, never for the pools the work needs.
        """
        with self._lock_pool().connection() as conn:
            row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s)) AS locked", (thread_id,)).fetchone()
            if not row or not row["locked"]:
                raise ConflictError(f"ticket {thread_id} is already being resumed")
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (thread_id,))


def outcome_from_state(thread_id: str, values: TicketState | dict[str, Any], *, waiting: bool) -> TicketOutcome:
    """Summarise a thread's state values."""
    status = values.get("status", "running")
    priority = values.get("priority")
    classification = values.get("classification")
    solution = values.get("solution")
    email = values.get("email")
    escalation = values.get("escalation")
    return TicketOutcome(
        thread_id=thread_id,
        status=status,
        waiting_for_feedback=waiting,
        priority=priority.priority if priority else None,
        category=classification.primary_category if classification else None,
        kb_confident=solution.kb_confident if solution else None,
        answered_by=solution.answered_by if solution else None,
        faq_id=solution.faq_id if solution else None,
        attempt=values.get("attempt", 1),
        email=email.model_dump(include={"template", "subject", "body", "recipient"}) if email else None,
        escalation_id=escalation.escalation_id if escalation else None,
        path=list(values.get("path", [])),
        fallbacks=list(values.get("fallbacks", [])),
        values=dict(values),
    )
