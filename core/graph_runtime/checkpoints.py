"""Checkpoints of both graphs: the serializer with its allow-list, and the Postgres saver.

Checkpoints hold our pydantic models; the serializer rebuilds only the types a graph lists, so a tampered or
foreign checkpoint cannot make msgpack import and build arbitrary classes.

The ticket graph's saver commits its checkpoint writes without waiting for the WAL flush. Each super-step of a
ticket writes twice (`put_writes` after the node, `put` after the step), each in its own transaction: 22
commits for an average ticket of the graph benchmark, and every synchronous commit waits for the WAL to reach
the disk (3 ms on the development VM against 0.1 ms without the wait, more than the rest of a write). Those
flushes were most of the checkpointer's share of a ticket.

`UnflushedCommitSaver` commits its checkpoint writes with `synchronous_commit = off` (for those transactions
only: `SET LOCAL`). Why that loses nothing the service has promised:
- It only matters when the Postgres *server* or its machine crashes; a crash of a Doxa process loses no
  committed checkpoint (the WAL is in the server's memory and is written within 3 x wal_writer_delay).
- WAL is one sequence: a synchronous commit flushes everything before it. Every side effect of the graph is
  a synchronous commit made through the main pool (an outbox e-mail, an escalation record, a KB gap), and
  `TicketService` saves the ticket row synchronously after every `accept`, `run` and `feedback`, before it
  answers. So whenever a customer or a caller has seen something, every checkpoint written before it is on
  disk.
- What a server crash can take is the checkpoints written after the last of those commits inside a run that
  was still going: the same as a process dying mid-run, which resumes from the previous checkpoint and
  re-runs nodes whose side effects are idempotent (outbox keys, escalation ids, gap rows).
Each write is also one transaction (blobs, checkpoint row and writes together), as upstream's pipeline makes it.

The saver routes all of its writes through `_cursor(pipeline=True)`, a private method; the tests in
`tests/integration/test_ticket_checkpointer.py` check the behaviour and fail if a LangGraph release changes it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from langgraph.checkpoint.postgres import PostgresSaver, _internal
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from psycopg import Cursor
from psycopg.rows import DictRow, dict_row
from pydantic import BaseModel


def checkpoint_serializer(types: Sequence[type[BaseModel]]) -> JsonPlusSerializer:
    """The checkpoint serializer, restricted to one graph's own state types."""
    return JsonPlusSerializer(allowed_msgpack_modules=list(types))


class UnflushedCommitSaver(PostgresSaver):
    """A PostgresSaver whose checkpoint writes commit without waiting for the WAL flush (see the module)."""

    @contextmanager
    def _cursor(self, *, pipeline: bool = False) -> Iterator[Cursor[DictRow]]:
        """Writes (pipeline=True) run in one pipelined transaction with synchronous_commit off; reads as upstream."""
        if not pipeline or self.pipe is not None:
            with super()._cursor(pipeline=pipeline) as cur:
                yield cur
            return
        with (
            self.lock,
            _internal.get_connection(self.conn) as conn,
            conn.transaction(),
            conn.pipeline(),
            conn.cursor(binary=True, row_factory=dict_row) as cur,
        ):
            cur.execute("SET LOCAL synchronous_commit TO off")
            yield cur


def postgres_saver(pool: _internal.Conn, serde: JsonPlusSerializer, *, skip_wal_flush: bool) -> PostgresSaver:
    """A Postgres saver on an autocommit pool, with its tables set up.

    `skip_wal_flush` picks `UnflushedCommitSaver` (for a graph whose side effects commit synchronously, as the
    module argues for the ticket graph); False keeps upstream's saver, whose every write waits for the flush.
    """
    saver = (UnflushedCommitSaver if skip_wal_flush else PostgresSaver)(pool, serde=serde)
    saver.setup()
    return saver
