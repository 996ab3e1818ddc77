"""The ticket checkpointer makes one transaction per super-step and keeps every write a reader may need."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import Checkpoint, empty_checkpoint

from core.database import Database
from core.graph_runtime import checkpoints
from core.graph_runtime.checkpoints import StepCommitSaver
from graph.ticket_service import TicketService
from graph.ticket_store import TicketStore


def transaction_ids(db: Database, table: str, thread_id: str) -> set[str]:
    with db.connection() as conn:
        rows = conn.execute(f"SELECT xmin::text AS xid FROM {table} WHERE thread_id = %s", (thread_id,)).fetchall()
        conn.commit()
    return {row["xid"] for row in rows}


def written_channels(db: Database, thread_id: str) -> list[str]:
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT channel FROM checkpoint_writes WHERE thread_id = %s ORDER BY channel", (thread_id,)
        ).fetchall()
        conn.commit()
    return [row["channel"] for row in rows]


def step(
    saver: StepCommitSaver, config: RunnableConfig, values: dict[str, Any], version: int = 1
) -> tuple[Checkpoint, RunnableConfig]:
    """Put one checkpoint holding `values` (each at `version`) after `config`'s; return it and its config."""
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = values
    versions: Any = dict.fromkeys(values, version)
    checkpoint["channel_versions"] = versions
    return checkpoint, saver.put(config, checkpoint, {"source": "loop", "step": 1}, versions)


def ticket_saver(db: Database) -> StepCommitSaver:
    saver = TicketService.postgres_checkpointer(TicketStore(db))
    assert isinstance(saver, StepCommitSaver)
    return saver


THREAD: Any = {"configurable": {"thread_id": "T-tx", "checkpoint_ns": ""}}


def test_a_checkpoint_its_blobs_and_the_writes_of_its_step_are_one_transaction(db: Database) -> None:
    saver = ticket_saver(db)
    _, first = step(saver, THREAD, {"path": ["validate"], "clarifications": ["a"]})
    saver.put_writes(first, [("path", ["score"]), ("status", "running")], "task-1")
    assert written_channels(db, "T-tx") == [], "a node's writes wait for its step's checkpoint"

    step(saver, first, {"path": ["validate", "score"], "clarifications": ["a"]}, version=2)
    assert written_channels(db, "T-tx") == ["path", "status"]
    writes = transaction_ids(db, "checkpoint_writes", "T-tx")
    assert len(writes) == 1 and writes < transaction_ids(db, "checkpoints", "T-tx")
    assert writes < transaction_ids(db, "checkpoint_blobs", "T-tx")


def test_a_read_of_the_thread_sees_the_writes_held_for_its_latest_checkpoint(db: Database) -> None:
    saver = ticket_saver(db)
    _, first = step(saver, THREAD, {"clarifications": ["a"]})
    saver.put_writes(first, [("path", ["score"]), ("fallbacks", ["score"])], "task-1")

    loaded = saver.get_tuple(THREAD)
    assert loaded is not None and loaded.checkpoint["channel_values"]["clarifications"] == ["a"]
    assert sorted(channel for _, channel, _ in loaded.pending_writes or []) == ["fallbacks", "path"]
    assert written_channels(db, "T-tx") == ["fallbacks", "path"]


def test_interrupts_and_writes_to_an_older_checkpoint_are_committed_at_once(db: Database) -> None:
    saver = ticket_saver(db)
    _, first = step(saver, THREAD, {"clarifications": ["a"]})
    saver.put_writes(first, [("path", ["feedback"])], "task-1")
    saver.put_writes(first, [("__interrupt__", {"value": "rate the answer"})], "task-1")
    assert written_channels(db, "T-tx") == ["__interrupt__", "path"], "the interrupt takes the held write along"

    step(saver, first, {"clarifications": ["a", "b"]}, version=2)
    saver.put_writes(first, [("status", "forked")], "task-2")  # first is no longer the thread's latest
    assert "status" in written_channels(db, "T-tx")
    unknown: Any = {"configurable": {"thread_id": "T-other", "checkpoint_ns": "", "checkpoint_id": "c-1"}}
    saver.put_writes(unknown, [("status", "running")], "task-3")  # a checkpoint this process did not write
    assert written_channels(db, "T-other") == ["status"]


def test_only_a_bounded_number_of_threads_hold_writes(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpoints, "_REMEMBERED_THREADS", 1)
    saver = ticket_saver(db)
    for thread_id in ("T-a", "T-b"):
        config: Any = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
        _, first = step(saver, config, {"clarifications": ["a"]})
        saver.put_writes(first, [("path", ["score"])], "task-1")
    assert written_channels(db, "T-a") == [], "the first thread holds its write"
    assert written_channels(db, "T-b") == ["path"], "the second commits at once: no room left to hold"


def test_a_process_that_dies_before_its_step_commits_leaves_the_previous_checkpoint_whole(db: Database) -> None:
    saver = ticket_saver(db)
    _, first = step(saver, THREAD, {"clarifications": ["a"]})
    saver.put_writes(first, [("path", ["score"])], "task-1")  # the node ended; the process dies here

    restarted = ticket_saver(db)
    loaded = restarted.get_tuple(THREAD)
    assert loaded is not None and loaded.checkpoint["channel_values"] == {"clarifications": ["a"]}
    assert not loaded.pending_writes, "the node runs again on resume, as after a death during the node"


def test_the_checkpoint_writes_skip_the_wal_flush_only_inside_their_own_transaction(db: Database) -> None:
    saver = ticket_saver(db)
    with saver._cursor(pipeline=True) as cur:
        cur.execute("SELECT current_setting('synchronous_commit') AS mode")
        inside = cur.fetchone()
    with saver._cursor() as cur:
        cur.execute("SELECT current_setting('synchronous_commit') AS mode")
        after = cur.fetchone()
    assert inside and inside["mode"] == "off"
    assert after and after["mode"] == "on", "the setting ends with the write's transaction"
