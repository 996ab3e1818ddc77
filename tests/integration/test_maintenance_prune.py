"""Checkpoint retention on real ticket threads: finished threads go, waiting ones stay and still resume."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from core.database import Database
from core.errors import InvalidInputError
from core.services import Services
from graph.factory import ticket_context
from graph.ticket_service import TicketService
from ops.prune import CHECKPOINT_TABLES, prune_checkpoints
from state.ticket import CustomerFeedback, TicketInput
from tests.fakes import passage

MONTH = timedelta(days=30)


class PasswordArticleRetriever:
    """One confident passage for every query: which route a ticket takes depends on the ticket itself."""

    def retrieve(self, query: str, keywords: Sequence[str], category: str | None, **options: Any) -> dict[str, Any]:
        reset = passage(
            "c1", "Open Settings > Security and choose 'Reset password'; the link arrives within a minute.", 0.92
        )
        return {
            "results": [reset],
            "metadata": {"mean_similarity": 0.92, "max_similarity": 0.92, "min_similarity": 0.92, "chunk_count": 1,
                         "kb_confident": True,
                         "kb_limit_reached": options["attempt_number"] >= options["max_retrieval_attempts"]},
        }  # fmt: skip


def password_ticket(ticket_id: str, extra: str = "") -> TicketInput:
    body = "I forgot my password and the reset page does not send me any link. How can I log in again?" + extra
    return TicketInput(id=ticket_id, subject="Cannot reset my password", body=body, customer_email="ana@example.com")


@pytest.fixture
def ticket_service(services: Services) -> TicketService:
    """The factory's service (real classifier, outbox, stores, Postgres saver) with a deterministic KB."""
    context = dataclasses.replace(ticket_context(services), retriever=PasswordArticleRetriever(), sections=None)
    return TicketService(context, TicketService.postgres_checkpointer(context.tickets), context.tickets)


@pytest.fixture
def four_threads(ticket_service: TicketService) -> dict[str, str]:
    """One closed, one waiting for feedback, one escalated and one rejected thread; returns id -> status."""
    ticket_service.run(password_ticket("T-closed"))
    ticket_service.feedback("T-closed", CustomerFeedback(satisfied=True))
    ticket_service.run(password_ticket("T-waiting"))
    ticket_service.run(password_ticket("T-escalated", " My card is 4111 1111 1111 1111 if you need it."))
    ticket_service.run(TicketInput(id="T-rejected", subject="help", body="??", customer_email="a@b.co"))
    statuses = {row["id"]: row["status"] for row in ticket_service.list(limit=10)}
    assert statuses == {
        "T-closed": "closed",
        "T-waiting": "answered",
        "T-escalated": "escalated",
        "T-rejected": "rejected",
    }
    return statuses


def checkpoint_rows(db: Database) -> dict[str, dict[str, int]]:
    """thread id -> table -> rows."""
    counts: dict[str, dict[str, int]] = {}
    with db.connection() as conn:
        for table in CHECKPOINT_TABLES:
            for row in conn.execute(f"SELECT thread_id, count(*) AS n FROM {table} GROUP BY thread_id"):
                counts.setdefault(row["thread_id"], dict.fromkeys(CHECKPOINT_TABLES, 0))[table] = row["n"]
    return counts


def backdate(db: Database, *ticket_ids: str, by: timedelta = timedelta(days=45)) -> None:
    with db.transaction() as conn:
        conn.execute("UPDATE ticket SET updated_at = now() - %s::interval WHERE id = ANY(%s)", (by, list(ticket_ids)))


def test_finished_threads_end_their_graph(ticket_service: TicketService, four_threads: dict[str, str]) -> None:
    # The premise of pruning: rejected, closed and escalated threads have nothing left to run.
    for thread_id in ("T-closed", "T-escalated", "T-rejected"):
        snapshot = ticket_service.graph.get_state({"configurable": {"thread_id": thread_id}})
        assert snapshot.next == () and not snapshot.interrupts, thread_id
    waiting = ticket_service.graph.get_state({"configurable": {"thread_id": "T-waiting"}})
    assert waiting.next == ("await_feedback",) and waiting.interrupts


def test_prune_deletes_only_old_finished_threads_and_waiting_ones_still_resume(
    services: Services, ticket_service: TicketService, four_threads: dict[str, str]
) -> None:
    db = services.db
    backdate(db, *four_threads)  # every ticket, the waiting one included, is older than the cutoff
    before = checkpoint_rows(db)
    assert set(before) == set(four_threads)

    report = prune_checkpoints(db, MONTH)

    assert report.threads_pruned == 3 and report.ticket_threads == 3 and report.mining_threads == 0
    after = checkpoint_rows(db)
    assert set(after) == {"T-waiting"}
    assert after["T-waiting"] == before["T-waiting"], "the waiting thread is untouched"
    pruned = ("T-closed", "T-escalated", "T-rejected")
    for table in CHECKPOINT_TABLES:
        assert report.rows_deleted[table] == sum(before[thread][table] for thread in pruned)
    assert report.rows_deleted["checkpoints"] > 0 and report.bytes_freed_estimate > 0

    # The projection stays listable; the waiting thread resumes as if nothing happened.
    assert {row["id"] for row in ticket_service.list(limit=10)} == set(four_threads)
    closed = ticket_service.feedback("T-waiting", CustomerFeedback(satisfied=True))
    assert closed.status == "closed" and closed.path[-3:] == ["handle_feedback", "close", "improve"]

    again = prune_checkpoints(db, MONTH)
    assert again.threads_pruned == 0 and sum(again.rows_deleted.values()) == 0, "idempotent"


def test_recent_threads_and_dry_runs_delete_nothing(services: Services, four_threads: dict[str, str]) -> None:
    db = services.db
    before = checkpoint_rows(db)
    assert prune_checkpoints(db, MONTH).threads_pruned == 0, "nothing is older than 30 days"

    backdate(db, "T-closed", "T-rejected")
    dry = prune_checkpoints(db, MONTH, dry_run=True)
    assert dry.dry_run and dry.threads_pruned == 2
    assert dry.rows_deleted["checkpoints"] == before["T-closed"]["checkpoints"] + before["T-rejected"]["checkpoints"]
    assert checkpoint_rows(db) == before

    small_batches = prune_checkpoints(db, MONTH, batch_size=1)
    assert small_batches.batches == 2 and small_batches.rows_deleted == dry.rows_deleted
    assert set(checkpoint_rows(db)) == {"T-waiting", "T-escalated"}


def test_a_finished_status_with_pending_writes_is_kept(services: Services, four_threads: dict[str, str]) -> None:
    # The projection says closed, but the checkpoint tables say the thread still waits on an interrupt.
    db = services.db
    with db.transaction() as conn:
        conn.execute("UPDATE ticket SET status = 'closed' WHERE id = 'T-waiting'")
    backdate(db, *four_threads)
    report = prune_checkpoints(db, MONTH)
    assert report.kept_with_pending_writes == ["T-waiting"]
    assert set(checkpoint_rows(db)) == {"T-waiting"}


def test_a_thread_being_resumed_is_skipped(services: Services, four_threads: dict[str, str]) -> None:
    db = services.db
    backdate(db, "T-closed")
    with db.connection() as holder:  # what TicketService holds while it resumes a thread
        holder.execute("SELECT pg_advisory_lock(hashtext('T-closed'))")
        report = prune_checkpoints(db, MONTH)
        holder.execute("SELECT pg_advisory_unlock(hashtext('T-closed'))")
        holder.commit()
    assert report.skipped_busy == ["T-closed"] and report.threads_pruned == 0
    assert prune_checkpoints(db, MONTH).threads_pruned == 1


def test_mining_threads_go_only_when_no_candidate_is_pending(services: Services, four_threads: dict[str, str]) -> None:
    db = services.db
    with db.transaction() as conn:
        # Two mining runs' threads: copy a ticket thread's checkpoints under the run ids.
        for run_id in ("run-decided", "run-pending"):
            for table in CHECKPOINT_TABLES:
                columns = [
                    row["column_name"]
                    for row in conn.execute(
                        "SELECT column_name FROM information_schema.columns"
                        " WHERE table_name = %s AND table_schema = current_schema() ORDER BY ordinal_position",
                        (table,),
                    )
                ]
                rest = ", ".join(column for column in columns if column != "thread_id")
                copy = f"INSERT INTO {table} (thread_id, {rest}) SELECT %s, {rest} FROM {table} WHERE thread_id = %s"
                conn.execute(copy, (run_id, "T-closed"))
        for run_id, statuses in (("run-decided", ["APPROVED", "REJECTED"]), ("run-pending", ["APPROVED", "PENDING"])):
            for status in statuses:
                conn.execute(
                    "INSERT INTO faq_staging (action, status, question, answer, question_embedding, embedding_model,"
                    " confidence, source_ticket_ids, run_id, updated_at)"
                    " VALUES ('NEW', %s, 'q', 'a', %s::vector, 'm', 0.9, ARRAY['x'], %s, now() - interval '60 days')",
                    (status, str([0.1, 0.2, 0.3]), run_id),
                )
    report = prune_checkpoints(db, MONTH)
    assert report.mining_threads == 1 and report.ticket_threads == 0
    remaining = set(checkpoint_rows(db))
    assert "run-decided" not in remaining and "run-pending" in remaining


def test_non_positive_age_is_refused(db: Database) -> None:
    with pytest.raises(InvalidInputError):
        prune_checkpoints(db, timedelta(0))


def test_a_database_without_checkpoint_tables_has_nothing_to_prune(db: Database) -> None:
    report = prune_checkpoints(db, MONTH)
    assert report.threads_pruned == 0 and report.batches == 0


def test_cli_prune_reports_in_json_and_words(
    services: Services, four_threads: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cli import maintenance as maintenance_cli

    monkeypatch.setattr(maintenance_cli, "get_settings", lambda: services.settings)
    runner = CliRunner()
    backdate(services.db, "T-closed")

    bad = runner.invoke(maintenance_cli.app, ["prune", "--closed-older-than", "30 days"])
    assert bad.exit_code == 2 and "invalid duration" in bad.output

    dry = runner.invoke(maintenance_cli.app, ["prune", "--closed-older-than", "720h", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    summary = json.loads(dry.stdout)
    assert summary["dry_run"] is True and summary["threads_pruned"] == 1 and summary["rows_deleted"]["checkpoints"] > 0

    done = runner.invoke(maintenance_cli.app, ["prune", "--closed-older-than", "30d"])
    assert done.exit_code == 0, done.output
    assert "pruned 1 threads finished more than 30d ago (1 tickets, 0 mining runs)" in done.stdout
    assert "T-closed" not in checkpoint_rows(services.db)


def test_mining_runs_that_staged_nothing_are_pruned_too(services: Services) -> None:
    from faq_mining.service import MiningService
    from faq_mining.state import MiningRequest

    mining = MiningService.from_services(services, with_source=False)
    empty = mining.mine(MiningRequest(tickets=[]), run_id="run-empty")
    assert empty.staged_ids == [] and "run-empty" in set(checkpoint_rows(services.db))
    assert prune_checkpoints(services.db, MONTH).threads_pruned == 0  # finished just now
    with services.db.transaction() as conn:
        conn.execute("UPDATE mining_run SET finished_at = now() - interval '60 days' WHERE run_id = 'run-empty'")
    report = prune_checkpoints(services.db, MONTH)
    assert report.mining_threads == 1 and "run-empty" not in set(checkpoint_rows(services.db))
