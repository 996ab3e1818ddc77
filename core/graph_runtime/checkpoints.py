"""Checkpoints of both graphs: the serializer with its allow-list, and the Postgres saver.

Checkpoints hold our pydantic models; the serializer rebuilds only the types a graph lists, so a tampered or
foreign checkpoint cannot make msgpack import and build arbitrary classes.

The ticket graph's saver, `StepCommitSaver`, makes one commit per super-step and does not wait for it to reach
the disk. Upstream's saver commits twice per super-step (`put_writes` when the node ends, `put` when the step
ends), and each commit is a round trip to a server on the same cores (and, synchronous, a WAL flush: 3 ms on
the development VM against 0.1 ms without). Those commits were most of the checkpointer's share of a ticket.

1. **No WAL flush** (`synchronous_commit = off` for its own transactions only). It only matters when the
   Postgres *server* or its machine crashes; a crash of a Doxa process loses no committed checkpoint (the WAL
   is in the server's memory and is written within 3 x wal_writer_delay). WAL is one sequence, and a
   synchronous commit flushes everything before it: every side effect of the graph is a synchronous commit
   through the main pool (an outbox e-mail, an escalation record, a KB gap), and `TicketService` saves the
   ticket row synchronously after every `accept`, `run` and `feedback`, before it answers. So whenever a
   customer or a caller has seen something, every checkpoint written before it is on disk.
2. **A node's writes ride with its step's checkpoint.** Writes to ordinary channels of the thread's latest
   checkpoint are held in memory and committed in the transaction of the next `put` (same rows, same keys).
   Writes LangGraph needs on their own are committed at once, with anything held: interrupts, resumes,
   errors, writes to an older checkpoint (`update_state`, a fork), and every write when a read of the thread
   (`get_tuple`, `list`) or `delete_thread` comes first.

What either can cost is the work since the thread's last committed checkpoint: a process that dies between a
node's end and its step's commit (upstream: during the node), or a server crash inside a run after its last
side effect, resumes from the previous checkpoint and runs the node again, and nodes are written to be run
again (outbox keys, escalation ids, gap rows). Each commit is also one transaction, as upstream's pipeline
makes it: the pipeline of an autocommit connection is one implicit transaction (one round trip, where
BEGIN ... COMMIT around it would be three).

The saver routes its writes through `_cursor(pipeline=True)`, a private method; the tests in
`tests/integration/test_ticket_checkpointer.py` check the behaviour and fail if a LangGraph release changes it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import WRITES_IDX_MAP, ChannelVersions, Checkpoint, CheckpointMetadata, CheckpointTuple
from langgraph.checkpoint.postgres import PostgresSaver, _internal
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from psycopg import Cursor
from psycopg.rows import DictRow, dict_row
from pydantic import BaseModel

# (INSERT or UPSERT statement, its rows) for one put_writes call
_Statement = tuple[str, list[tuple[Any, ...]]]
_Statements = list[_Statement]  # (the class below has a method named `list`)
# threads whose latest checkpoint this process remembers; an older thread's writes are committed at once
_REMEMBERED_THREADS = 4096


def checkpoint_serializer(types: Sequence[type[BaseModel]]) -> JsonPlusSerializer:
    """The checkpoint serializer, restricted to one graph's own state types."""
    return JsonPlusSerializer(allowed_msgpack_modules=list(types))


class StepCommitSaver(PostgresSaver):
    """A PostgresSaver with one unflushed commit per super-step (see the module)."""

    def __init__(self, conn: _internal.Conn, serde: JsonPlusSerializer | None = None) -> None:
        super().__init__(conn, serde=serde)
        self._held_lock = threading.Lock()
        self._held: dict[tuple[str, str], _Statements] = {}
        self._latest: OrderedDict[tuple[str, str], str] = OrderedDict()  # (thread, ns) -> its last checkpoint id
        self._riding = threading.local()  # held statements the current thread's `put` commits first

    def put_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        """Hold ordinary writes to the thread's latest checkpoint for its next `put`; commit others now."""
        configurable = config["configurable"]
        thread = (configurable["thread_id"], configurable["checkpoint_ns"])
        checkpoint_id = configurable["checkpoint_id"]
        special = [channel in WRITES_IDX_MAP for channel, _ in writes]
        query = self.UPSERT_CHECKPOINT_WRITES_SQL if all(special) else self.INSERT_CHECKPOINT_WRITES_SQL
        statement = (query, self._dump_writes(*thread, checkpoint_id, task_id, task_path, writes))
        with self._held_lock:
            # Bounded: a run that stopped with neither a put nor an error write holds its writes until read.
            holding = thread in self._held or len(self._held) < _REMEMBERED_THREADS
            if not any(special) and self._latest.get(thread) == checkpoint_id and holding:
                self._held.setdefault(thread, []).append(statement)
                return
            statements = [*self._held.pop(thread, []), statement]
        self._commit(statements)

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Commit the checkpoint and the writes held for its thread in one transaction."""
        thread = (config["configurable"]["thread_id"], config["configurable"]["checkpoint_ns"])
        with self._held_lock:
            held = self._held.pop(thread, [])
            self._latest[thread] = checkpoint["id"]
            self._latest.move_to_end(thread)
            while len(self._latest) > _REMEMBERED_THREADS:
                self._latest.popitem(last=False)
        self._riding.statements = held
        try:
            return super().put(config, checkpoint, metadata, new_versions)
        finally:
            self._riding.statements = []

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """Upstream's read, after the thread's held writes are committed."""
        self._commit_held(config["configurable"]["thread_id"])
        return super().get_tuple(config)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Upstream's listing, after the held writes of the thread (of every thread: no config) are committed."""
        self._commit_held(config["configurable"]["thread_id"] if config else None)
        return super().list(config, filter=filter, before=before, limit=limit)

    def delete_thread(self, thread_id: str) -> None:
        """Upstream's delete, with nothing of the thread left held to be committed after it."""
        self._commit_held(thread_id)
        super().delete_thread(thread_id)

    def _commit_held(self, thread_id: str | None) -> None:
        """Commit the writes held for one thread (every thread: None) before something reads them."""
        with self._held_lock:
            threads = [thread for thread in self._held if thread_id is None or thread[0] == thread_id]
            statements = [statement for thread in threads for statement in self._held.pop(thread)]
        if statements:
            self._commit(statements)

    def _commit(self, statements: _Statements) -> None:
        with self._cursor(pipeline=True) as cur:
            for query, rows in statements:
                cur.executemany(query, rows)

    @contextmanager
    def _cursor(self, *, pipeline: bool = False) -> Iterator[Cursor[DictRow]]:
        """Writes (pipeline=True): one implicit transaction, synchronous_commit off, held writes first."""
        if not pipeline or self.pipe is not None:
            with super()._cursor(pipeline=pipeline) as cur:
                yield cur
            return
        riding: _Statements = getattr(self._riding, "statements", [])
        with (
            self.lock,
            _internal.get_connection(self.conn) as conn,
            conn.pipeline(),
            conn.cursor(binary=True, row_factory=dict_row) as cur,
        ):
            cur.execute("SELECT set_config('synchronous_commit', 'off', true)")
            for query, rows in riding:
                cur.executemany(query, rows)
            yield cur


def postgres_saver(pool: _internal.Conn, serde: JsonPlusSerializer, *, step_commits: bool) -> PostgresSaver:
    """A Postgres saver on an autocommit pool, with its tables set up.

    `step_commits` picks `StepCommitSaver` (for a graph whose side effects commit synchronously and whose nodes
    can run again, as the module argues for the ticket graph); False keeps upstream's saver, whose every write
    is its own synchronous commit.
    """
    saver = (StepCommitSaver if step_commits else PostgresSaver)(pool, serde=serde)
    saver.setup()
    return saver
