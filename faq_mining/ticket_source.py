"""Resolved tickets in ClickHouse (`ticketing.tickets`): the schema, validated imports, keyset paging.

The table is a ReplacingMergeTree ordered by ticket id, versioned by `imported_at`: importing a ticket
again replaces it (the latest import wins), and every read uses FINAL, so a re-import never shows up as
a duplicate even before ClickHouse merges the parts.

Reads page by keyset on (imported_at, id), the order in which tickets ARRIVED: a page asks for tickets
strictly after the last one it saw, so tickets sharing an import time are never lost or repeated at a page
boundary, and a stored cursor (see `faq_mining.watermark`) lets the next run resume exactly where the last
one stopped. Arrival order, not closing order, because exports arrive late and out of order: a ticket
imported after a run but closed before that run's position would otherwise never be read. The lookback
window still applies to `closed_at` (how old a ticket may be to be mined at all).

Example:
    >>> source = TicketSource(open_clickhouse(settings))
    >>> source.ensure_schema()
    >>> page = source.fetch_resolved(since=None, until=None, limit=500)
    >>> while page.tickets:
    ...     handle(page.tickets)
    ...     page = source.fetch_resolved(since=None, until=None, limit=500, after=page.next_cursor)
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from core.clickhouse import ClickHouse
from core.errors import ConfigurationError, InvalidInputError
from faq_mining.ticket_import import TICKET_FIELDS, ImportReport, SourceRow, parse_closed_at

DEFAULT_STATUSES = ("Closed", "Resolved")
IMPORT_BATCH_ROWS = 5_000
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# Microseconds, like Python's datetime and PostgreSQL's timestamptz, so cursors round-trip exactly.
_TIME = "DateTime64(6, 'UTC')"

UtcDatetime = Annotated[datetime, BeforeValidator(parse_closed_at)]

_TABLE_DDL = """
CREATE TABLE IF NOT EXISTS {database}.tickets (
    id           String,
    subject      String,
    body         String,
    closurenotes String,
    category     LowCardinality(String),
    subcategory1 LowCardinality(String),
    status       LowCardinality(String),
    closed_at    {time},
    imported_at  {time},
    INDEX closed_at_minmax closed_at TYPE minmax GRANULARITY 4
) ENGINE = ReplacingMergeTree(imported_at)
ORDER BY id
"""


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in arrival order, (imported_at, ticket id): everything up to and including it has been read."""

    arrived_at: datetime
    ticket_id: str


class ResolvedTicket(BaseModel):
    """One closed ticket as the FAQ miner sees it."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=256, description="The ticketing system's ticket id.")
    subject: str = Field(default="", description="The ticket's subject line.")
    body: str = Field(min_length=1, description="What the customer wrote.")
    closurenotes: str = Field(default="", description="How the agent resolved it.")
    category: str = Field(default="", description="Ticket category.")
    subcategory1: str = Field(default="", description="First-level subcategory.")
    status: str = Field(min_length=1, description="Ticket status, e.g. Closed or Resolved.")
    closed_at: UtcDatetime = Field(description="When the ticket was closed (UTC).")
    arrived_at: UtcDatetime | None = Field(
        default=None, description="When it reached the source (ClickHouse's imported_at); set on read, never imported."
    )

    @field_validator("id", "subject", "category", "subcategory1", "status", mode="before")
    @classmethod
    def _numbers_as_text(cls, value: object) -> object:
        # JSON exports often carry numeric ids and category codes; they are labels, not numbers.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("id", "body", "status", mode="after")
    @classmethod
    def _strip(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is blank")
        return value.strip()

    @property
    def cursor(self) -> Cursor:
        """The ticket's position in arrival order; only a ticket read from a source has one."""
        if self.arrived_at is None:
            raise ValueError(f"ticket {self.id!r} was not read from a source: it has no arrival position")
        return Cursor(self.arrived_at, self.id)


class TicketPage(BaseModel):
    """One page of resolved tickets in arrival order."""

    tickets: list[ResolvedTicket]
    next_cursor: Cursor | None = Field(description="Pass as `after` for the next page; None when empty.")
    exhausted: bool = Field(description="Fewer tickets than the limit came back: nothing more to read now.")
    waiting: int = Field(
        default=0,
        description="Resolved tickets after `after` closed at or after `until` (the ingest lag): not read yet, and "
        "the page stops before the first of them so that a later run still reads them.",
    )


class StatusCount(BaseModel):
    """Tickets of one status and the span of their closing times."""

    status: str
    tickets: int
    first_closed_at: UtcDatetime
    last_closed_at: UtcDatetime


class TicketSource:
    """The `tickets` table of one ClickHouse database (default `ticketing`).

    `statuses` are the statuses that count as resolved; `min_body_chars` and `min_closure_notes_chars`
    drop tickets too short to teach anything before they leave ClickHouse (0 keeps them all).
    """

    def __init__(
        self,
        clickhouse: ClickHouse,
        *,
        database: str = "ticketing",
        statuses: Sequence[str] = DEFAULT_STATUSES,
        min_body_chars: int = 0,
        min_closure_notes_chars: int = 0,
    ) -> None:
        if not _IDENTIFIER.match(database):
            raise ConfigurationError(f"ClickHouse database name {database!r} must match {_IDENTIFIER.pattern}")
        if not statuses:
            raise ConfigurationError("TicketSource needs at least one resolved status")
        self.clickhouse = clickhouse
        self.database = database
        self.table = f"{database}.tickets"
        self.statuses = tuple(statuses)
        self.min_body_chars = min_body_chars
        self.min_closure_notes_chars = min_closure_notes_chars

    @property
    def name(self) -> str:
        """A stable name for this source, e.g. for its mining watermark: `clickhouse:ticketing.tickets`."""
        return f"clickhouse:{self.table}"

    def ensure_schema(self) -> None:
        """Create the database and table if they do not exist."""
        self.clickhouse.command(f"CREATE DATABASE IF NOT EXISTS {self.database}")
        self.clickhouse.command(_TABLE_DDL.format(database=self.database, time=_TIME))

    def import_rows(self, rows: Iterable[SourceRow | Mapping[str, Any]]) -> ImportReport:
        """Validate rows and insert the valid ones; invalid rows are counted with a reason, never inserted.

        Rows are inserted in batches of IMPORT_BATCH_ROWS, one INSERT each. A batch is far below
        ClickHouse's max_insert_block_size (about a million rows) and the table is unpartitioned, so each
        batch is written as one block, atomically: it lands whole or not at all. An interrupted import
        therefore leaves whole batches behind, and running it again is safe because a re-imported id
        replaces the earlier row. Within a batch the last row of an id wins.
        """
        started = time.perf_counter()
        report = ImportReport()
        batch: dict[str, ResolvedTicket] = {}
        for ordinal, row in enumerate(rows, start=1):
            line, values = (row.line, row.values) if isinstance(row, SourceRow) else (ordinal, row)
            report.rows_read += 1
            try:
                ticket = _validate(values)
            except InvalidInputError as exc:
                report.reject(line, str(exc))
                continue
            if batch.pop(ticket.id, None) is not None:
                report.duplicate_rows += 1
            batch[ticket.id] = ticket
            if len(batch) >= IMPORT_BATCH_ROWS:
                report.imported += self._insert(list(batch.values()))
                batch.clear()
        report.imported += self._insert(list(batch.values()))
        report.rejected_by_reason = dict(sorted(report.rejected_by_reason.items(), key=lambda item: -item[1]))
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _insert(self, tickets: list[ResolvedTicket]) -> int:
        if not tickets:
            return 0
        # Aware datetimes: clickhouse-connect would read naive ones (and strings) in the local time zone.
        imported_at = datetime.now(UTC)
        columns = [*TICKET_FIELDS, "imported_at"]
        rows = [[*(getattr(t, field) for field in TICKET_FIELDS), imported_at] for t in tickets]
        self.clickhouse.insert(self.table, rows, columns)
        return len(tickets)

    def fetch_resolved(
        self,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        after: Cursor | None = None,
    ) -> TicketPage:
        """Resolved tickets closed at or after `since` and arrived strictly after `after`, in arrival order.

        At most `limit` of them.

        `until` is the ingest lag's bound (`now - lag` on scheduled runs): a ticket closed at or after it is
        not read yet, and neither is anything that arrived after it, so that the cursor never passes a
        ticket a later run must still read; the page counts them in `waiting`. A ticket counts as closed no
        later than it arrived, so one dated in the future cannot hold the rest back beyond the lag.
        """
        if limit < 1:
            raise InvalidInputError(f"limit must be at least 1, got {limit}")
        conditions, params = self._resolved_conditions(since, after)
        waiting = 0
        if until is not None:
            params["until"] = _clickhouse_time(until)
            waiting, first_waiting = self._first_waiting(conditions, params)
            conditions = [*conditions, f"least(closed_at, imported_at) < {{until:{_TIME}}}"]
            if first_waiting is not None:
                conditions.append(f"(imported_at, id) < ({{hold_at:{_TIME}}}, {{hold_id:String}})")
                params["hold_at"] = _clickhouse_time(first_waiting.arrived_at)
                params["hold_id"] = first_waiting.ticket_id
        params["limit"] = limit
        statement = (
            f"SELECT {', '.join(TICKET_FIELDS)}, imported_at AS arrived_at FROM {self.table} FINAL"
            f" WHERE {' AND '.join(conditions)} ORDER BY imported_at, id LIMIT {{limit:UInt32}}"
        )
        tickets = [ResolvedTicket.model_validate(row) for row in self.clickhouse.query(statement, params)]
        return TicketPage(
            tickets=tickets,
            next_cursor=tickets[-1].cursor if tickets else after,
            exhausted=len(tickets) < limit,
            waiting=waiting,
        )

    def _resolved_conditions(self, since: datetime | None, after: Cursor | None) -> tuple[list[str], dict[str, Any]]:
        status_names = [f"status_{i}" for i in range(len(self.statuses))]
        params: dict[str, Any] = dict(zip(status_names, self.statuses, strict=True))
        conditions = [f"status IN ({', '.join(f'{{{name}:String}}' for name in status_names)})"]
        if self.min_body_chars:
            conditions.append("lengthUTF8(body) >= {min_body:UInt32}")
            params["min_body"] = self.min_body_chars
        if self.min_closure_notes_chars:
            conditions.append("lengthUTF8(closurenotes) >= {min_notes:UInt32}")
            params["min_notes"] = self.min_closure_notes_chars
        if since is not None:
            conditions.append(f"closed_at >= {{since:{_TIME}}}")
            params["since"] = _clickhouse_time(since)
        if after is not None:
            conditions.append(f"(imported_at, id) > ({{after_at:{_TIME}}}, {{after_id:String}})")
            params["after_at"] = _clickhouse_time(after.arrived_at)
            params["after_id"] = after.ticket_id
        return conditions, params

    def _first_waiting(self, conditions: list[str], params: dict[str, Any]) -> tuple[int, Cursor | None]:
        """How many readable tickets the ingest lag holds back, and the first of them in arrival order."""
        (row,) = self.clickhouse.query(
            "SELECT count() AS waiting, min(imported_at) AS first_at, argMin(id, (imported_at, id)) AS first_id"
            f" FROM {self.table} FINAL WHERE {' AND '.join(conditions)}"
            f" AND least(closed_at, imported_at) >= {{until:{_TIME}}}",
            params,
        )
        waiting = int(row["waiting"])
        if not waiting:
            return 0, None
        return waiting, Cursor(parse_closed_at(row["first_at"]), str(row["first_id"]))

    def iter_resolved(
        self, since: datetime | None, until: datetime | None, page_size: int, after: Cursor | None = None
    ) -> Iterator[TicketPage]:
        """Every page from `after` to the end of the range, one query per page."""
        while True:
            page = self.fetch_resolved(since, until, page_size, after)
            if page.tickets:
                yield page
            if page.exhausted:
                return
            after = page.next_cursor

    def count_by_status(self) -> list[StatusCount]:
        """Tickets per status (every status, not only the resolved ones), most frequent first."""
        rows = self.clickhouse.query(
            "SELECT status, count() AS tickets, min(closed_at) AS first_closed_at,"
            f" max(closed_at) AS last_closed_at FROM {self.table} FINAL GROUP BY status ORDER BY tickets DESC, status"
        )
        return [StatusCount.model_validate({**row, "tickets": int(row["tickets"])}) for row in rows]


def _validate(values: Mapping[str, Any]) -> ResolvedTicket:
    if "_error" in values:
        raise InvalidInputError(str(values["_error"]))
    try:
        return ResolvedTicket.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "row"
        message = first["msg"].removeprefix("Value error, ")
        raise InvalidInputError(f"{field}: {message}") from exc


def _clickhouse_time(moment: datetime) -> str:
    """Render a datetime as ClickHouse DateTime64(6, 'UTC') text (naive values are taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
