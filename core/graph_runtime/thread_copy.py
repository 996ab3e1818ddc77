"""Copies of a graph thread's checkpoints under a new UUID thread id, for Studio to walk, edit, fork and resume.

LangGraph's dev server (Studio's) only knows UUID thread ids and keeps its own thread registry, so a production
thread (thread id = ticket id or mining run id) is opened in Studio as a copy: every checkpoint, blob and
pending write of the source, copied in one transaction under the source's resume lock (so no half-written
super-step is copied), and recorded in `studio_thread` (migration 0025). What Studio then does to the copy never
reaches the source: its checkpoints are other rows. `prune_copies` deletes copies once they are old.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from psycopg import sql
from psycopg.rows import DictRow

from core.database import Database
from core.errors import ConflictError, NotFoundError

CHECKPOINT_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")


@dataclass(frozen=True)
class ThreadCopy:
    """A copy of a thread: its new id, the graph, and what it copies."""

    thread_id: str
    graph: str
    source_thread_id: str
    source_checkpoint_id: str


def copy_thread(db: Database, source_thread_id: str, graph: str) -> ThreadCopy:
    """Copy every checkpoint row of `source_thread_id` to a new UUID thread, in one transaction.

    NotFoundError when the source has no checkpoint; ConflictError when it is running right now (its resume
    lock is held), since a copy taken mid-step would hold half a super-step.
    """
    copy_id = str(uuid.uuid4())
    with db.transaction() as conn:
        if conn.execute("SELECT to_regclass('checkpoints') IS NOT NULL AS present").fetchone() == {"present": False}:
            raise NotFoundError("no graph has checkpointed a thread in this database yet")
        locked = conn.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s)) AS locked", (source_thread_id,))
        if not (row := locked.fetchone()) or not row["locked"]:
            raise ConflictError(f"thread {source_thread_id} is running; open it in Studio once it waits or ends")
        latest = conn.execute(
            "SELECT max(checkpoint_id) AS checkpoint_id FROM checkpoints WHERE thread_id = %s AND checkpoint_ns = ''",
            (source_thread_id,),
        ).fetchone()
        if latest is None or latest["checkpoint_id"] is None:
            raise NotFoundError(f"thread {source_thread_id} has no checkpoints (never run, or pruned)")
        for table in CHECKPOINT_TABLES:
            _copy_rows(conn, table, source_thread_id, copy_id)
        conn.execute(
            "INSERT INTO studio_thread (thread_id, graph, source_thread_id, source_checkpoint_id)"
            " VALUES (%s, %s, %s, %s)",
            (copy_id, graph, source_thread_id, latest["checkpoint_id"]),
        )
    return ThreadCopy(copy_id, graph, source_thread_id, latest["checkpoint_id"])


def delete_copy(db: Database, thread_id: str) -> None:
    """Delete one copy (a registration the Studio server refused leaves nothing behind)."""
    with db.transaction() as conn:
        _delete(conn, [thread_id])


def prune_copies(db: Database, older_than: timedelta, *, dry_run: bool = False) -> int:
    """Delete the copies made before `now() - older_than` (checkpoints and registration); how many there were."""
    with db.transaction() as conn:
        if conn.execute("SELECT to_regclass('checkpoints') IS NOT NULL AS present").fetchone() == {"present": False}:
            return 0
        rows = conn.execute(
            "SELECT thread_id FROM studio_thread WHERE created_at < now() - %s::interval FOR UPDATE SKIP LOCKED",
            (older_than,),
        ).fetchall()
        thread_ids = [row["thread_id"] for row in rows]
        if thread_ids and not dry_run:
            _delete(conn, thread_ids)
    return len(thread_ids)


def _copy_rows(conn: psycopg.Connection[DictRow], table: str, source: str, copy: str) -> None:
    """INSERT ... SELECT every column of `table`'s source rows, with the copy's thread id (columns read, not listed)."""
    columns = [
        row["column_name"]
        for row in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
            (table,),
        )
    ]
    values = [sql.Placeholder("copy") if name == "thread_id" else sql.Identifier(name) for name in columns]
    conn.execute(
        sql.SQL("INSERT INTO {table} ({columns}) SELECT {values} FROM {table} WHERE thread_id = {source}").format(
            table=sql.Identifier(table),
            columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
            values=sql.SQL(", ").join(values),
            source=sql.Placeholder("source"),
        ),
        {"copy": copy, "source": source},
    )


def _delete(conn: psycopg.Connection[DictRow], thread_ids: list[str]) -> None:
    for table in CHECKPOINT_TABLES:
        conn.execute(sql.SQL("DELETE FROM {} WHERE thread_id = ANY(%s)").format(sql.Identifier(table)), (thread_ids,))
    conn.execute("DELETE FROM studio_thread WHERE thread_id = ANY(%s)", (thread_ids,))
