"""The ClickHouse ticket source (chdb) and the PostgreSQL mining watermark."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.clickhouse import ClickHouse
from core.database import Database
from core.errors import ConfigurationError, ConflictError, InvalidInputError
from faq_mining.ticket_source import Cursor, TicketSource
from faq_mining.watermark import WatermarkStore, mining_window
from tests.databases import fresh_ticket_source

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def source(clickhouse: ClickHouse) -> Iterator[TicketSource]:
    """A ticket source on a fresh database of the session's engine, dropped afterwards."""
    with fresh_ticket_source(clickhouse, "ticketing") as ticket_source:
        yield ticket_source


def ticket(ticket_id: str | int, closed_at: datetime, status: str = "Closed", **fields: Any) -> dict[str, Any]:
    return {
        "id": ticket_id,
        "body": fields.pop("body", f"problem {ticket_id}"),
        "closurenotes": fields.pop("closurenotes", f"fix {ticket_id}"),
        "status": status,
        "closed_at": closed_at.isoformat(),
        **fields,
    }


def all_ids(source: TicketSource, page_size: int = 1000) -> list[str]:
    return [t.id for page in source.iter_resolved(None, None, page_size) for t in page.tickets]


def test_reimport_replaces_rows_instead_of_duplicating(source: TicketSource) -> None:
    rows = [ticket(i, NOW - timedelta(hours=i)) for i in range(5)]
    assert source.import_rows(rows).imported == 5
    source.import_rows(rows)
    source.import_rows([ticket(2, NOW - timedelta(hours=2), body="edited problem")])
    ids = all_ids(source)
    assert sorted(ids) == ["0", "1", "2", "3", "4"]
    edited = [t for p in source.iter_resolved(None, None, 10) for t in p.tickets if t.id == "2"]
    assert edited[0].body == "edited problem"
    assert sum(c.tickets for c in source.count_by_status()) == 5
    assert source.name == f"clickhouse:{source.database}.tickets"


def test_duplicate_ids_in_one_batch_keep_the_last_row(source: TicketSource) -> None:
    report = source.import_rows([ticket(7, NOW, body="first"), ticket(7, NOW, body="second")])
    assert (report.rows_read, report.imported, report.duplicate_rows) == (2, 1, 1)
    page = source.fetch_resolved(None, None, 10)
    assert [(t.id, t.body) for t in page.tickets] == [("7", "second")]


def test_bad_rows_are_rejected_with_reasons_and_the_rest_imports(source: TicketSource) -> None:
    rows = [
        ticket(1, NOW),
        {"id": 2, "body": "no closing time", "status": "Closed"},
        ticket(3, NOW, body="   "),
        {"id": 4, "body": "x", "status": "Closed", "closed_at": "next tuesday"},
        ticket(5, NOW),
    ]
    report = source.import_rows(rows)
    assert (report.rows_read, report.imported, report.rejected) == (5, 2, 3)
    assert [example.line for example in report.rejected_examples] == [2, 3, 4]
    assert report.rejected_by_reason["closed_at: not ISO 8601 or an epoch timestamp"] == 1
    assert any(reason.startswith("body:") for reason in report.rejected_by_reason)
    assert sorted(all_ids(source)) == ["1", "5"]


def test_only_resolved_statuses_are_fetched_and_statuses_are_configurable(source: TicketSource) -> None:
    source.import_rows([ticket(1, NOW), ticket(2, NOW, "Resolved"), ticket(3, NOW, "Open"), ticket(4, NOW, "Done")])
    assert sorted(all_ids(source)) == ["1", "2"]
    custom = TicketSource(source.clickhouse, database=source.database, statuses=["Done"])
    assert all_ids(custom) == ["4"]


def test_lookback_window_and_limit_are_honoured(source: TicketSource) -> None:
    source.import_rows([ticket(day, NOW - timedelta(days=day, minutes=1)) for day in range(10)])
    window = mining_window(None, lookback_days=3, now=NOW, ingest_lag=timedelta(0))
    page = source.fetch_resolved(window.since, window.until, limit=100)
    # One import: one arrival time, so arrival order is id order.
    assert [t.id for t in page.tickets] == ["0", "1", "2"]
    assert page.exhausted and page.waiting == 0
    limited = source.fetch_resolved(None, None, limit=4)
    assert [t.id for t in limited.tickets] == ["0", "1", "2", "3"]
    assert not limited.exhausted


def test_tickets_closed_within_the_ingest_lag_wait_and_hold_back_later_arrivals(source: TicketSource) -> None:
    now = datetime.now(UTC)
    source.import_rows([ticket("a", now - timedelta(hours=2))])
    source.import_rows([ticket("b", now - timedelta(minutes=1))])  # closed a minute ago: may still change
    source.import_rows([ticket("c", now - timedelta(hours=3))])  # arrived after b
    lagging = mining_window(None, lookback_days=3, now=now)
    page = source.fetch_resolved(lagging.since, lagging.until, limit=100)
    assert [t.id for t in page.tickets] == ["a"] and page.waiting == 1
    # The cursor stops before b, so a run after the lag reads b and c.
    later = mining_window(page.next_cursor, lookback_days=3, now=now + timedelta(minutes=10))
    rest = source.fetch_resolved(later.since, later.until, limit=100, after=later.after)
    assert [t.id for t in rest.tickets] == ["b", "c"] and rest.waiting == 0


def test_a_ticket_dated_in_the_future_waits_no_longer_than_the_lag_after_it_arrived(source: TicketSource) -> None:
    now = datetime.now(UTC)
    source.import_rows([ticket("future", now + timedelta(days=30)), ticket("old", now - timedelta(hours=1))])
    window = mining_window(None, lookback_days=3, now=now + timedelta(minutes=10))
    assert sorted(t.id for t in source.fetch_resolved(window.since, window.until, limit=10).tickets) == [
        "future",
        "old",
    ]


def test_paging_returns_every_ticket_once_even_with_ties_across_page_boundaries(source: TicketSource) -> None:
    # 23 tickets share five closing times, so most pages end in the middle of a tie.
    rows = [ticket(f"t{i:02d}", NOW - timedelta(seconds=i % 5)) for i in range(23)]
    source.import_rows(rows)
    pages = list(source.iter_resolved(None, None, page_size=4))
    ids = [t.id for page in pages for t in page.tickets]
    assert len(pages) == 6
    assert sorted(ids) == sorted(r["id"] for r in rows)
    assert len(ids) == len(set(ids))
    cursors = [t.cursor for page in pages for t in page.tickets]
    assert cursors == sorted(cursors) and all(t.arrived_at is not None for page in pages for t in page.tickets)
    # Past the end, a page is empty and keeps the cursor, so a caller never rewinds to the start.
    beyond = source.fetch_resolved(None, None, limit=4, after=cursors[-1])
    assert (beyond.tickets, beyond.next_cursor, beyond.exhausted) == ([], cursors[-1], True)


def test_cursor_values_are_bound_not_spliced(source: TicketSource) -> None:
    awkward = ["it's", "back\\slash", "tab\there", "new\nline", "x') OR 1=1 --"]
    source.import_rows([ticket(name, NOW) for name in awkward])
    first = source.fetch_resolved(None, None, limit=2)
    rest = source.fetch_resolved(None, None, limit=10, after=first.next_cursor)
    assert sorted(t.id for t in first.tickets + rest.tickets) == sorted(awkward)


def test_closing_times_round_trip_to_the_microsecond_in_utc(source: TicketSource) -> None:
    sent = ["2024-05-06T07:08:09.123456Z", "2024-05-06T09:08:09+02:00", "2024-05-06 07:08:10"]
    source.import_rows([ticket(i, NOW) | {"closed_at": value} for i, value in enumerate(sent)])
    received = sorted(t.closed_at for t in source.fetch_resolved(None, None, limit=10).tickets)
    assert received == [
        datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
        datetime(2024, 5, 6, 7, 8, 10, tzinfo=UTC),
    ]


def test_short_tickets_can_be_filtered_in_clickhouse(source: TicketSource) -> None:
    source.import_rows([ticket(1, NOW, body="short"), ticket(2, NOW, body="long enough " * 5)])
    strict = TicketSource(source.clickhouse, database=source.database, min_body_chars=30)
    assert all_ids(strict) == ["2"]


def test_invalid_configuration_is_refused(clickhouse: ClickHouse) -> None:
    with pytest.raises(ConfigurationError):
        TicketSource(clickhouse, database="tickets; DROP TABLE x")
    with pytest.raises(ConfigurationError):
        TicketSource(clickhouse, statuses=[])
    with pytest.raises(InvalidInputError):
        TicketSource(clickhouse).fetch_resolved(None, None, limit=0)


def run_once(source: TicketSource, watermarks: WatermarkStore, now: datetime, limit: int) -> list[str]:
    """One scheduled mining run: fetch at most `limit` tickets after the watermark, then advance it."""
    window = mining_window(watermarks.load("tickets"), lookback_days=30, now=now, ingest_lag=timedelta(0))
    page = source.fetch_resolved(window.since, window.until, limit, after=window.after)
    if page.tickets and page.next_cursor is not None:
        with watermarks.db.transaction() as conn:
            watermarks.advance("tickets", page.next_cursor, len(page.tickets), conn=conn)
    return [t.id for t in page.tickets]


def test_watermark_resumes_runs_without_skipping_or_repeating(source: TicketSource, db: Database) -> None:
    watermarks = WatermarkStore(db)
    source.import_rows([ticket(f"a{i}", NOW - timedelta(hours=10) + timedelta(minutes=i // 2)) for i in range(4)])
    first = run_once(source, watermarks, NOW, limit=10)
    assert sorted(first) == ["a0", "a1", "a2", "a3"]
    assert run_once(source, watermarks, NOW, limit=10) == []

    # 25 tickets arrive before the next run, more than its limit of 10, many sharing a closing time.
    later = [ticket(f"b{i:02d}", NOW + timedelta(minutes=i // 3)) for i in range(25)]
    source.import_rows(later)
    now = NOW + timedelta(hours=1)
    runs = [run_once(source, watermarks, now, limit=10) for _ in range(4)]
    assert [len(run) for run in runs] == [10, 10, 5, 0]
    mined = [ticket_id for run in runs for ticket_id in run]
    assert sorted(mined) == sorted(row["id"] for row in later)
    with db.connection() as conn:
        total = conn.execute("SELECT tickets_processed FROM mining_watermark WHERE source = 'tickets'").fetchone()
    assert total == {"tickets_processed": 29}


def test_a_ticket_imported_late_is_read_even_though_it_closed_before_the_last_run(
    source: TicketSource, db: Database
) -> None:
    watermarks = WatermarkStore(db)
    source.import_rows([ticket("on-time", NOW - timedelta(hours=1))])
    assert run_once(source, watermarks, NOW, limit=10) == ["on-time"]
    # Exported late: closed three hours before the ticket the last run stopped at.
    source.import_rows([ticket("late", NOW - timedelta(hours=3))])
    assert run_once(source, watermarks, NOW, limit=10) == ["late"]
    assert run_once(source, watermarks, NOW, limit=10) == []


def test_reimporting_a_ticket_makes_it_arrive_again(source: TicketSource, db: Database) -> None:
    watermarks = WatermarkStore(db)
    source.import_rows([ticket("t1", NOW - timedelta(hours=1)), ticket("t2", NOW - timedelta(hours=1))])
    assert sorted(run_once(source, watermarks, NOW, limit=10)) == ["t1", "t2"]
    source.import_rows([ticket("t1", NOW - timedelta(hours=1), closurenotes="a better fix")])
    assert run_once(source, watermarks, NOW, limit=10) == ["t1"]  # skip_staged drops it if already staged


def test_watermark_refuses_to_move_backwards(db: Database) -> None:
    watermarks = WatermarkStore(db)
    assert watermarks.load("tickets") is None
    ahead = Cursor(NOW, "b")
    watermarks.advance("tickets", ahead, 3)
    watermarks.advance("tickets", ahead, 0)
    with pytest.raises(ConflictError):
        watermarks.advance("tickets", Cursor(NOW, "a"), 1)
    assert watermarks.load("tickets") == ahead
    watermarks.reset("tickets")
    assert watermarks.load("tickets") is None


def test_a_failed_page_does_not_advance_the_watermark(db: Database) -> None:
    watermarks = WatermarkStore(db)
    with pytest.raises(RuntimeError), db.transaction() as conn:
        watermarks.advance("tickets", Cursor(NOW, "x"), 1, conn=conn)
        raise RuntimeError("staging the candidates failed")
    assert watermarks.load("tickets") is None
