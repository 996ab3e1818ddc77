"""The ticket checkpointer stores each checkpoint write in one transaction, and threads survive a restart."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import empty_checkpoint

from core.database import Database
from core.graph_runtime.checkpoints import UnflushedCommitSaver
from graph.ticket_service import TicketService
from graph.ticket_store import TicketStore


def transaction_ids(db: Database, table: str, thread_id: str) -> set[str]:
    with db.connection() as conn:
        rows = conn.execute(f"SELECT xmin::text AS xid FROM {table} WHERE thread_id = %s", (thread_id,)).fetchall()
        conn.commit()
    return {row["xid"] for row in rows}


def test_a_checkpoint_and_its_blobs_are_written_in_one_transaction(db: Database) -> None:
    saver = TicketService.postgres_checkpointer(TicketStore(db))
    assert isinstance(saver, UnflushedCommitSaver)
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"path": ["validate"], "clarifications": ["a"], "fallbacks": ["score"]}
    versions: Any = {"path": 1, "clarifications": 1, "fallbacks": 1}
    checkpoint["channel_versions"] = versions
    config: Any = {"configurable": {"thread_id": "T-tx", "checkpoint_ns": ""}}
    saved = saver.put(config, checkpoint, {"source": "loop", "step": 1}, versions)

    blobs = transaction_ids(db, "checkpoint_blobs", "T-tx")
    assert len(blobs) == 1 and blobs == transaction_ids(db, "checkpoints", "T-tx")

    saver.put_writes(saved, [("path", ["score"]), ("fallbacks", ["score"]), ("status", "running")], "task-1")
    writes = transaction_ids(db, "checkpoint_writes", "T-tx")
    assert len(writes) == 1 and writes != blobs

    loaded = saver.get_tuple(config)
    assert loaded is not None and loaded.checkpoint["channel_values"]["clarifications"] == ["a"]
    assert sorted(channel for _, channel, _ in loaded.pending_writes or []) == ["fallbacks", "path", "status"]


def test_the_checkpoint_writes_skip_the_wal_flush_only_inside_their_own_transaction(db: Database) -> None:
    saver = TicketService.postgres_checkpointer(TicketStore(db))
    with saver._cursor(pipeline=True) as cur:
        cur.execute("SELECT current_setting('synchronous_commit') AS mode")
        inside = cur.fetchone()
    with saver._cursor() as cur:
        cur.execute("SELECT current_setting('synchronous_commit') AS mode")
        after = cur.fetchone()
    assert inside and inside["mode"] == "off"
    assert after and after["mode"] == "on", "SET LOCAL ends with the write's transaction"
