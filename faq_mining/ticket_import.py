"""Reading ticket exports (JSONL or CSV) as a stream of rows keyed by Doxa's ticket fields.

An export names its columns its own way; `--map field=column` says which column feeds which of Doxa's
fields (`closed_at=resolved_date`), and unmapped fields are read from the column of the same name.
Files are read line by line, so a multi-gigabyte export never sits in memory; the byte count read so
far is reported through a callback for progress bars. `ImportReport` is what an import tells its caller.

Example:
    >>> mapping = parse_field_map(["body=description", "closurenotes=resolution"])
    >>> for row in read_ticket_rows(Path("export.csv"), mapping):
    ...     print(row.line, row.values["id"])
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from core.errors import InvalidInputError

TICKET_FIELDS = ("id", "subject", "body", "closurenotes", "category", "subcategory1", "status", "closed_at")
REQUIRED_FIELDS = ("id", "body", "status", "closed_at")
SUPPORTED_SUFFIXES = (".jsonl", ".ndjson", ".csv")

MAX_REJECTED_EXAMPLES = 20
# Epoch values at or above this are milliseconds: 1e11 seconds would be the year 5138.
_EPOCH_MILLISECONDS_FROM = 100_000_000_000


class RejectedRow(BaseModel):
    """A row that was not imported, and why."""

    line: int
    reason: str


class ImportReport(BaseModel):
    """What an import did: rows read, imported, rejected (counted by reason, first few with line numbers)."""

    rows_read: int = 0
    imported: int = 0
    duplicate_rows: int = Field(default=0, description="Rows whose id came again later in the same batch.")
    rejected: int = 0
    rejected_by_reason: dict[str, int] = Field(default_factory=dict)
    rejected_examples: list[RejectedRow] = Field(default_factory=list)
    seconds: float = 0.0

    def reject(self, line: int, reason: str) -> None:
        """Count a rejected row under its reason; keep the first few as examples."""
        self.rejected += 1
        self.rejected_by_reason[reason] = self.rejected_by_reason.get(reason, 0) + 1
        if len(self.rejected_examples) < MAX_REJECTED_EXAMPLES:
            self.rejected_examples.append(RejectedRow(line=line, reason=reason))


@dataclass(frozen=True)
class SourceRow:
    """One record of an export: its line number (where it ends) and its values under Doxa's field names."""

    line: int
    values: dict[str, Any]


def parse_field_map(pairs: Iterable[str]) -> dict[str, str]:
    """Parse `field=column` pairs into {field: column}; unknown fields and malformed pairs are refused."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or not field or not column:
            raise InvalidInputError(f"--map expects field=column, got {pair!r}")
        if field not in TICKET_FIELDS:
            raise InvalidInputError(f"--map: unknown field {field!r}; fields are {', '.join(TICKET_FIELDS)}")
        if field in mapping:
            raise InvalidInputError(f"--map: field {field!r} is mapped twice")
        mapping[field] = column
    return mapping


def parse_closed_at(value: object) -> datetime:
    """A timezone-aware UTC datetime from ISO 8601 text, epoch seconds or milliseconds, or a datetime.

    Naive values are taken as UTC (exports rarely say otherwise, and ClickHouse stores UTC).
    Raises ValueError with a short reason, which import reports count by.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError("missing")
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float):
        moment = _from_epoch(float(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("missing")
        # ISO first, so a basic-format date such as 20240506 is a date, not 1970-08-23 in epoch seconds.
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            try:
                moment = _from_epoch(float(text))
            except ValueError:
                raise ValueError("not ISO 8601 or an epoch timestamp") from None
    else:
        raise ValueError(f"unsupported type {type(value).__name__}")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _from_epoch(seconds_or_millis: float) -> datetime:
    if not math.isfinite(seconds_or_millis):
        raise ValueError("not a finite number")
    seconds = seconds_or_millis
    if abs(seconds) >= _EPOCH_MILLISECONDS_FROM:
        seconds /= 1000.0
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError):
        raise ValueError("epoch timestamp out of range") from None


def read_ticket_rows(
    path: Path,
    field_map: Mapping[str, str] | None = None,
    *,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[SourceRow]:
    """Stream the records of a JSONL or CSV export, renamed to Doxa's fields.

    Fields absent from a record are left out (the ticket model says which are required); CSV's empty
    cells count as absent. `on_bytes(n)` is called with the bytes consumed since the last call.
    A JSONL line that is not a JSON object yields a row whose values hold only `_error`, so the
    importer can reject it with a reason and go on.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InvalidInputError(f"{path}: unsupported export format; use one of {', '.join(SUPPORTED_SUFFIXES)}")
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    columns = {field: (field_map or {}).get(field, field) for field in TICKET_FIELDS}
    lines = _decoded_lines(path, on_bytes)
    if suffix == ".csv":
        yield from _csv_rows(lines, columns, path)
    else:
        yield from _jsonl_rows(lines, columns)


def _decoded_lines(path: Path, on_bytes: Callable[[int], None] | None) -> Iterator[str]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if on_bytes is not None:
                on_bytes(len(raw))
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInputError(f"{path}:{number}: not UTF-8 ({exc.reason})") from exc
            yield text.removeprefix("\ufeff") if number == 1 else text


def _jsonl_rows(lines: Iterable[str], columns: Mapping[str, str]) -> Iterator[SourceRow]:
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            yield SourceRow(number, {"_error": f"invalid JSON ({exc.msg})"})
            continue
        if not isinstance(record, dict):
            yield SourceRow(number, {"_error": "line is not a JSON object"})
            continue
        values = {field: record[column] for field, column in columns.items() if record.get(column) is not None}
        yield SourceRow(number, values)


def _csv_rows(lines: Iterable[str], columns: Mapping[str, str], path: Path) -> Iterator[SourceRow]:
    reader = csv.DictReader(lines)
    if reader.fieldnames is None:
        return
    header = set(reader.fieldnames)
    missing = [f"{field} (column {columns[field]!r})" for field in REQUIRED_FIELDS if columns[field] not in header]
    if missing:
        raise InvalidInputError(f"{path}: the header has no column for {', '.join(missing)}; use --map field=COLUMN")
    for record in reader:
        values = {field: record[column] for field, column in columns.items() if record.get(column) not in (None, "")}
        yield SourceRow(reader.line_num, values)
