"""`doxa maintenance ...`: checkpoint retention and backups of Doxa's database.

Exit codes: 0 done; 1 the operation failed (database unreachable, pg_dump or pg_restore failed); 2 bad input
(an unreadable duration, an existing dump file, a non-empty schema without --force, a file that is no dump).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from cli.output import EXIT_FAILED, EXIT_USAGE, fail
from core.durations import format_duration, parse_duration
from core.errors import ConflictError, DoxaError, InvalidInputError
from core.settings import get_settings

if TYPE_CHECKING:
    # psycopg and the operations load in the commands, not for `doxa maintenance --help`.
    from ops.backup import BackupReport
    from ops.prune import PruneReport

app = typer.Typer(help="Operations: checkpoint retention, dump and restore.", no_args_is_help=True)
_errors = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a sentence.")]


def _exit_code(error: DoxaError) -> int:
    return EXIT_USAGE if isinstance(error, InvalidInputError | ConflictError) else EXIT_FAILED


@app.command("prune")
def prune(
    closed_older_than: Annotated[
        str,
        typer.Option(
            "--closed-older-than", help="Prune threads finished longer ago than this: 30d, 12h, 90m, 45s, 2w."
        ),
    ] = "30d",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would go; delete nothing.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=100_000, help="Threads per transaction.")] = 500,
    json_output: JsonOption = False,
) -> None:
    """Delete the LangGraph checkpoints of rejected, closed and escalated tickets and finished mining runs.

    Threads still waiting (for feedback, for a review, or mid-run) are never touched; the ticket listing,
    e-mails, escalations and FAQ candidates stay.
    """
    try:
        older_than = parse_duration(closed_older_than)
    except InvalidInputError as exc:
        fail(str(exc), EXIT_USAGE)
    from core.database import Database
    from ops.prune import prune_checkpoints

    try:
        with Database.open(get_settings()) as db:
            report = prune_checkpoints(
                db, older_than, dry_run=dry_run, batch_size=batch_size, on_batch=None if json_output else _batch_done
            )
    except DoxaError as exc:
        fail(str(exc), _exit_code(exc))
    if json_output:
        typer.echo(json.dumps(report.as_dict()))
        return
    typer.echo(_prune_sentence(report, format_duration(older_than)))


def _batch_done(report: PruneReport) -> None:
    _errors.print(f"batch {report.batches}: {report.threads_pruned} threads so far", highlight=False)


def _prune_sentence(report: PruneReport, age: str) -> str:
    verb = "would prune" if report.dry_run else "pruned"
    rows = ", ".join(f"{count} {table}" for table, count in report.rows_deleted.items())
    lines = [
        f"{verb} {report.threads_pruned} threads finished more than {age} ago "
        f"({report.ticket_threads} tickets, {report.mining_threads} mining runs): {rows} rows, "
        f"about {_megabytes(report.bytes_freed_estimate)}"
    ]
    if report.kept_with_pending_writes:
        lines.append(
            f"kept {len(report.kept_with_pending_writes)} finished threads whose last checkpoint still waits: "
            + ", ".join(report.kept_with_pending_writes[:10])
        )
    if report.skipped_busy:
        lines.append(f"skipped {len(report.skipped_busy)} threads being resumed right now; the next run takes them")
    return "\n".join(lines)


@app.command("dump")
def dump(
    file: Annotated[Path, typer.Argument(help="Archive to write (pg_dump custom format); must not exist.")],
    json_output: JsonOption = False,
) -> None:
    """Back up Doxa's schema (tickets, threads, outbox, FAQs, knowledge-base registry) with pg_dump."""
    from core.database import resolve_database_url
    from ops.backup import dump_database

    settings = get_settings()
    report = _with_progress(
        "dumping",
        lambda progress: dump_database(resolve_database_url(settings), settings.db_schema, file, on_progress=progress),
    )
    _print_backup(report, "dumped", json_output)


@app.command("restore")
def restore(
    file: Annotated[Path, typer.Argument(help="Archive written by `doxa maintenance dump`.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a schema that already holds tables (everything in it is lost).")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Restore a dump into the configured database, in one transaction. Stop the API and workers first."""
    from core.database import resolve_database_url
    from ops.backup import restore_database

    settings = get_settings()
    report = _with_progress(
        "restoring",
        lambda progress: restore_database(
            resolve_database_url(settings), settings.db_schema, file, force=force, on_progress=progress
        ),
    )
    _print_backup(report, "restored", json_output)


def _with_progress(label: str, job: Callable[[Callable[[str], None]], BackupReport]) -> BackupReport:
    """Run a dump or restore under a spinner showing the tool's last output line; its errors exit (see cli/output)."""
    try:
        with _errors.status(label, spinner="dots") as status:
            return job(lambda line: status.update(escape(line[:100])))
    except DoxaError as exc:
        fail(str(exc), _exit_code(exc))


def _print_backup(report: BackupReport, verb: str, json_output: bool) -> None:
    if json_output:
        typer.echo(
            json.dumps(
                {
                    "path": str(report.path),
                    "schema": report.schema,
                    "tables": report.tables,
                    "archive_bytes": report.archive_bytes,
                    "seconds": round(report.seconds, 3),
                }
            )
        )
        return
    typer.echo(
        f"{verb} schema {report.schema} ({report.tables} tables) "
        f"{'to' if verb == 'dumped' else 'from'} {report.path}: {_megabytes(report.archive_bytes)} "
        f"in {report.seconds:.1f} s"
    )


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.1f} kB"
