"""Reading ticket exports: field maps, closing-time coercion, JSONL and CSV streaming, ticket validation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.errors import InvalidInputError
from faq_mining.ticket_import import parse_closed_at, parse_field_map, read_ticket_rows
from faq_mining.ticket_source import ResolvedTicket

MOMENT = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_field_map_parses_pairs_and_refuses_mistakes() -> None:
    assert parse_field_map(["body=description", " closed_at = resolved "]) == {
        "body": "description",
        "closed_at": "resolved",
    }
    for bad in (["body"], ["=x"], ["body="], ["colour=x"], ["body=a", "body=b"]):
        with pytest.raises(InvalidInputError):
            parse_field_map(bad)


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-06T07:08:09Z",
        "2024-05-06T09:08:09+02:00",
        "2024-05-06 07:08:09",
        MOMENT.timestamp(),
        int(MOMENT.timestamp()),
        str(int(MOMENT.timestamp())),
        int(MOMENT.timestamp() * 1000),
        str(int(MOMENT.timestamp() * 1000)),
        datetime(2024, 5, 6, 9, 8, 9, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_closed_at_accepts_iso_8601_and_epoch_seconds_or_milliseconds(value: object) -> None:
    parsed = parse_closed_at(value)
    assert parsed == MOMENT
    assert parsed.utcoffset() == timedelta(0)


def test_closed_at_reads_a_compact_iso_date_as_a_date_not_an_epoch() -> None:
    assert parse_closed_at("20240506") == datetime(2024, 5, 6, tzinfo=UTC)


@pytest.mark.parametrize("value", [None, "", "  ", "yesterday", "2024-13-45", float("nan"), True, ["2024"]])
def test_closed_at_refuses_what_is_not_a_time(value: object) -> None:
    with pytest.raises(ValueError):
        parse_closed_at(value)


def test_jsonl_rows_are_renamed_and_broken_lines_are_reported(tmp_path: Path) -> None:
    export = tmp_path / "tickets.jsonl"
    lines = [
        json.dumps({"ticket_no": 1, "description": "printer jams", "status": "Closed", "resolved": 1714979289}),
        "",
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"ticket_no": "2", "description": "vpn drops", "subject": None, "status": "Closed"}),
    ]
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = parse_field_map(["id=ticket_no", "body=description", "closed_at=resolved"])
    rows = list(read_ticket_rows(export, mapping))
    assert [row.line for row in rows] == [1, 3, 4, 5]
    assert rows[0].values == {"id": 1, "body": "printer jams", "status": "Closed", "closed_at": 1714979289}
    assert rows[1].values["_error"].startswith("invalid JSON")
    assert rows[2].values == {"_error": "line is not a JSON object"}
    assert "subject" not in rows[3].values


def test_csv_rows_handle_bom_quoted_newlines_and_report_progress(tmp_path: Path) -> None:
    export = tmp_path / "tickets.csv"
    text = (
        "\ufeffKey,Summary,Description,Resolution,State,Closed\r\n"
        'T-1,Printer,"Jams on page 2,\nthen stops",Replaced roller,Closed,2024-05-06T07:08:09Z\r\n'
        "T-2,VPN,Drops hourly,,Resolved,1714979289\r\n"
    )
    export.write_text(text, encoding="utf-8", newline="")
    consumed: list[int] = []
    mapping = parse_field_map(
        ["id=Key", "subject=Summary", "body=Description", "closurenotes=Resolution", "status=State", "closed_at=Closed"]
    )
    rows = list(read_ticket_rows(export, mapping, on_bytes=consumed.append))
    assert sum(consumed) == export.stat().st_size
    assert [row.line for row in rows] == [3, 4]
    assert rows[0].values["body"] == "Jams on page 2,\nthen stops"
    assert rows[0].values["id"] == "T-1"
    assert "closurenotes" not in rows[1].values  # empty cell = absent


def test_csv_without_a_required_column_is_refused_before_reading(tmp_path: Path) -> None:
    export = tmp_path / "tickets.csv"
    export.write_text("id,body,status\n1,x,Closed\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="closed_at"):
        list(read_ticket_rows(export))


def test_unsupported_or_missing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="unsupported"):
        list(read_ticket_rows(tmp_path / "tickets.xlsx"))
    with pytest.raises(InvalidInputError, match="no such file"):
        list(read_ticket_rows(tmp_path / "missing.jsonl"))


def test_ticket_model_normalises_ids_and_refuses_blank_text() -> None:
    ticket = ResolvedTicket.model_validate(
        {"id": 42, "body": " printer jams ", "status": "Closed", "closed_at": "2024-05-06T07:08:09Z", "category": 7}
    )
    assert (ticket.id, ticket.body, ticket.category, ticket.closed_at) == ("42", "printer jams", "7", MOMENT)
    assert ticket.arrived_at is None  # set by the source when read, never by an import
    with pytest.raises(ValueError, match="no arrival position"):
        _ = ticket.cursor
    for blank in ({"body": "   "}, {"id": ""}, {"status": ""}):
        with pytest.raises(ValidationError):
            ResolvedTicket.model_validate({"id": 1, "body": "b", "status": "Closed", "closed_at": MOMENT} | blank)
