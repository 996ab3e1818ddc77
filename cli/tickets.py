"""`doxa tickets ...`: load resolved tickets into ClickHouse (the FAQ miner's source) and describe them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cli.output import EXIT_FAILED
from core.settings import get_settings
from faq_mining.ticket_import import TICKET_FIELDS, ImportReport, parse_field_map, read_ticket_rows

if TYPE_CHECKING:
    from faq_mining.ticket_source import TicketSource

app = typer.Typer(help="Resolved tickets in ClickHouse, the FAQ miner's source.", no_args_is_help=True)

_MAP_HELP = "field=column: read a ticket field from a differently named column. Fields: " + ", ".join(TICKET_FIELDS)
DatabaseOption = Annotated[str, typer.Option("--database", help="ClickHouse database holding the tickets table.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]


def _ticket_source(database: str) -> TicketSource:
    # The ClickHouse client (chdb or a server's) loads when a command reads tickets, not for `--help`.
    from core.clickhouse import open_clickhouse
    from faq_mining.ticket_source import TicketSource

    source = TicketSource(open_clickhouse(get_settings()), database=database)
    source.ensure_schema()
    return source


@app.command("import")
def import_tickets(
    file: Annotated[Path, typer.Argument(help="Export to load: .jsonl / .ndjson (one object per line) or .csv.")],
    field_map: Annotated[list[str] | None, typer.Option("--map", help=_MAP_HELP)] = None,
    database: DatabaseOption = "ticketing",
    json_output: JsonOption = False,
) -> None:
    """Load tickets from an export; re-importing an id replaces the earlier row, bad rows are reported."""
    mapping = parse_field_map(field_map or [])
    source = _ticket_source(database)
    stderr = Console(stderr=True)
    with Progress(
        TextColumn("importing {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
    ) as progress:
        task = progress.add_task(file.name, total=file.stat().st_size if file.is_file() else None)
        rows = read_ticket_rows(file, mapping, on_bytes=lambda count: progress.advance(task, count))
        report = source.import_rows(rows)
    if json_output:
        typer.echo(json.dumps({"file": str(file), **report.model_dump(mode="json")}, ensure_ascii=False))
    else:
        _print_report(file, report)
    if report.imported == 0 and report.rejected:
        raise typer.Exit(EXIT_FAILED)


def _print_report(file: Path, report: ImportReport) -> None:
    typer.echo(
        f"{file}: read {report.rows_read}, imported {report.imported}, rejected {report.rejected}"
        f" in {report.seconds:.2f} s"
    )
    if report.duplicate_rows:
        typer.echo(f"{report.duplicate_rows} rows repeated an id of the same batch; the later row was kept")
    if report.rejected_by_reason:
        table = Table("rejected", "reason")
        for reason, count in report.rejected_by_reason.items():
            table.add_row(str(count), reason)
        Console().print(table)
        lines = ", ".join(str(example.line) for example in report.rejected_examples)
        typer.echo(f"first rejected lines: {lines}")


@app.command("stats")
def stats(
    database: DatabaseOption = "ticketing",
    json_output: JsonOption = False,
) -> None:
    """Count tickets by status, with the first and last closing time."""
    counts = _ticket_source(database).count_by_status()
    total = sum(count.tickets for count in counts)
    first = min((count.first_closed_at for count in counts), default=None)
    last = max((count.last_closed_at for count in counts), default=None)
    if json_output:
        summary = {
            "tickets": total,
            "first_closed_at": first.isoformat() if first else None,
            "last_closed_at": last.isoformat() if last else None,
            "by_status": [count.model_dump(mode="json") for count in counts],
        }
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    if not counts:
        typer.echo(f"no tickets in {database}.tickets; load some with `doxa tickets import FILE`")
        return
    table = Table("status", "tickets", "first closed", "last closed")
    for count in counts:
        table.add_row(count.status, str(count.tickets), str(count.first_closed_at), str(count.last_closed_at))
    Console().print(table)
    typer.echo(f"{total} tickets closed between {first} and {last}")
