"""Where FAQ mining stopped: a per-source watermark in PostgreSQL, a position in ARRIVAL order (imported_at, id).

Arrival, not closing time (migration 0020): exports come late and out of order, and a ticket imported after
a run but closed before that run's position must still be read. The lookback window stays on `closed_at`.

A scheduled run loads the watermark, fetches the tickets strictly after it page by page, and advances
it after each page is fully processed, ideally in the same transaction that stores the page's
candidates, so a crash never records progress that did not happen. However many tickets arrive
between two runs, the next run resumes after the last processed one: nothing is skipped, and
`limit` only bounds how much one run does.

Example:
    >>> watermarks = WatermarkStore(db)
    >>> window = mining_window(watermarks.load("tickets"), lookback_days=7, now=datetime.now(UTC))
    >>> page = source.fetch_resolved(window.since, window.until, limit=500, after=window.after)
    >>> with db.transaction() as conn:
    ...     stage_candidates(conn, page.tickets)
    ...     watermarks.advance("tickets", page.next_cursor, len(page.tickets), conn=conn)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import DictRow

from core.database import Database
from core.errors import ConflictError, InvalidInputError
from faq_mining.ticket_source import Cursor

Connection = psycopg.Connection[DictRow]


INGEST_LAG = timedelta(minutes=5)


@dataclass(frozen=True)
class MiningWindow:
    """What one run reads: closed in [since, until), arrived strictly after `after`."""

    since: datetime
    until: datetime
    after: Cursor | None


def mining_window(
    watermark: Cursor | None,
    lookback_days: int,
    now: datetime,
    ingest_lag: timedelta = INGEST_LAG,
) -> MiningWindow:
    """The window of a run: the last `lookback_days`, resumed after the watermark.

    `until` stays `ingest_lag` behind `now`: tickets closed since then wait for a later run (the source
    stops before the first of them, so the watermark never passes them). `lookback_days` is the oldest
    (by closing time) a ticket may be to be mined at all, however late it arrived.
    """
    if lookback_days < 1:
        raise InvalidInputError(f"lookback_days must be at least 1, got {lookback_days}")
    return MiningWindow(since=now - timedelta(days=lookback_days), until=now - ingest_lag, after=watermark)


class WatermarkStore:
    """The `mining_watermark` table (migrations 0005 and 0020)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextmanager
    def _connection(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
            return
        with self.db.transaction() as own:
            yield own

    def load(self, source: str, *, conn: Connection | None = None) -> Cursor | None:
        """The last fully processed position of `source`, or None before its first run.

        A watermark kept on closing times before migration 0020 has no arrival position: None, so the next
        run reads its lookback window once more (already staged tickets stay skipped).
        """
        with self._connection(conn) as active:
            row = active.execute(
                "SELECT arrived_at, ticket_id FROM mining_watermark WHERE source = %s", (source,)
            ).fetchone()
        return None if row is None or row["arrived_at"] is None else Cursor(row["arrived_at"], row["ticket_id"])

    def advance(self, source: str, cursor: Cursor, tickets: int, *, conn: Connection | None = None) -> None:
        """Move `source`'s watermark forward to `cursor`, adding `tickets` to its processed total.

        Pass the transaction that stored the processed tickets' results as `conn`, so both commit or
        neither does. Moving backwards raises ConflictError: it means another run went further, and
        silently rewinding would make the next run mine those tickets again.
        """
        with self._connection(conn) as active:
            row = active.execute(
                "INSERT INTO mining_watermark AS w (source, arrived_at, ticket_id, tickets_processed)"
                " VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (source) DO UPDATE SET arrived_at = EXCLUDED.arrived_at,"
                " ticket_id = EXCLUDED.ticket_id,"
                " tickets_processed = w.tickets_processed + EXCLUDED.tickets_processed, updated_at = now()"
                " WHERE w.arrived_at IS NULL"
                " OR (w.arrived_at, w.ticket_id) <= (EXCLUDED.arrived_at, EXCLUDED.ticket_id)"
                " RETURNING source",
                (source, cursor.arrived_at, cursor.ticket_id, tickets),
            ).fetchone()
        if row is None:
            current = self.load(source, conn=conn)
            raise ConflictError(f"watermark of {source!r} is at {current}; refusing to move it back to {cursor}")

    def reset(self, source: str, *, conn: Connection | None = None) -> None:
        """Forget `source`'s watermark, so the next run starts from its lookback window again."""
        with self._connection(conn) as active:
            active.execute("DELETE FROM mining_watermark WHERE source = %s", (source,))
