"""`doxa kb ingest` and `doxa kb status`: fill the knowledge base and report its state.

Exit codes: 0 when the run worked, even if some files failed (they are listed with their reasons);
1 when there was nothing to ingest or every file failed; 2 for a missing path or a configuration
error such as a collection built with another embedding model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli import kb_calibrate
from cli.output import EXIT_FAILED, EXIT_USAGE, fail
from core.errors import DoxaError
from core.settings import get_settings

if TYPE_CHECKING:
    # The ingestor and the engines (parsers, numpy, psycopg, the model) load in the commands, not for `--help`.
    from kb.ingest import IngestReport, KnowledgeBaseIngestor

PathsArgument = Annotated[
    list[Path], typer.Argument(metavar="PATH...", help="Files or directories to ingest (Markdown, plain text, PDF).")
]
PruneOption = Annotated[
    bool, typer.Option("--prune", help="Remove documents whose files are gone from the given directories.")
]
CategoryOption = Annotated[
    str | None,
    typer.Option(
        "--category",
        help="Category stored with every chunk of these files, for filtered search (omitted: kept as it was).",
    ),
]
RebuildOption = Annotated[
    bool,
    typer.Option(
        "--rebuild",
        help="First drop the vector collection and re-embed every stored chunk (after changing the model).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]

_console = Console()
_errors = Console(stderr=True)


def ingest(
    paths: PathsArgument,
    prune: PruneOption = False,
    category: CategoryOption = None,
    rebuild: RebuildOption = False,
    json_output: JsonOption = False,
) -> None:
    """Ingest files or directories into the knowledge base; unchanged files are not touched."""
    missing = [str(path) for path in paths if not path.expanduser().exists()]
    if missing:  # checked before the engines start, so a typo fails fast
        fail(f"path not found: {', '.join(missing)}", EXIT_USAGE)
    from core.services import Services
    from kb.ingest import KnowledgeBaseIngestor
    from kb.vector_store.factory import discard_vector_store

    services = Services.open(get_settings())
    try:
        if rebuild:
            discard_vector_store(services)
        ingestor = KnowledgeBaseIngestor.from_services(services)
        report = _run_with_progress(ingestor, paths, prune, category, rebuild, show=not json_output)
        if _changed(report):
            # A new KB state needs its own answer model; a running service would refit it in the background.
            stored = kb_calibrate.refit_now(services)
            _errors.print(f"answer model refitted: {stored.model.kind}, threshold {stored.model.threshold:.2f}")
    except DoxaError as exc:
        fail(str(exc), EXIT_USAGE)
    finally:
        services.close()
    if json_output:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_report(report)
    nothing_found = not (report.files_read or report.failed)
    if nothing_found or (report.failed and report.files_read == 0):
        if not json_output:
            _errors.print("[red]nothing was ingested[/red]" + (": no supported files found" if nothing_found else ""))
        raise typer.Exit(EXIT_FAILED)


def status(json_output: JsonOption = False) -> None:
    """Show the knowledge base's documents, sections, chunks, revision and vector store health."""
    from core.services import Services
    from kb.status import knowledge_base_status

    with Services.open(get_settings()) as services:
        summary = knowledge_base_status(services)
    health = summary["vector_store"]
    if json_output:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    table = Table("knowledge base", "value", title="doxa kb status")
    for name in ("documents", "sections", "chunks", "revision", "updated_at", "embedding_model", "embedding_dim"):
        table.add_row(name.replace("_", " "), str(summary[name]))
    for name, value in health.items():
        table.add_row(f"vector store {name.replace('_', ' ')}", str(value))
    answer = summary.get("answer_model", {})
    table.add_row(
        "answer model",
        f"{answer.get('kind')} (threshold {answer.get('threshold')})"
        + (", stale: refits in the background" if answer.get("stale") else ""),
    )
    _console.print(table)
    if "note" in answer:
        _console.print(f"[yellow]answer model: {answer['note']}[/yellow]")
    if "hint" in summary:
        _console.print(f"[yellow]{summary['hint']}[/yellow]")


def _changed(report: IngestReport) -> bool:
    return bool(
        report.documents_added or report.documents_updated or report.documents_removed or report.vectors_rebuilt
    )


def _run_with_progress(
    ingestor: KnowledgeBaseIngestor,
    paths: list[Path],
    prune: bool,
    category: str | None,
    rebuild: bool,
    *,
    show: bool,
) -> IngestReport:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=_errors, transient=True, disable=not show) as progress:
        task = progress.add_task("ingesting", total=None)

        def advance(done: int, total: int, path: Path) -> None:
            progress.update(task, completed=done, total=total, description=path.name[:40])

        return ingestor.run(paths, prune=prune, category=category, progress=advance, rebuild=rebuild)


def _print_report(report: IngestReport) -> None:
    table = Table("ingest", "count", title="doxa kb ingest")
    rows = [
        ("files read", report.files_read),
        ("files failed", len(report.failed)),
        ("files skipped (unsupported type)", len(report.skipped)),
        ("documents added", report.documents_added),
        ("documents updated", report.documents_updated),
        ("documents unchanged", report.documents_unchanged),
        ("documents removed", report.documents_removed),
        ("chunks added", report.chunks_added),
        ("chunks updated", report.chunks_updated),
        ("chunks removed", report.chunks_removed),
        ("chunks unchanged", report.chunks_unchanged),
    ]
    if report.vectors_rebuilt:
        rows.append(("vectors rebuilt", report.vectors_rebuilt))
    for name, value in rows:
        table.add_row(name, str(value))
    table.add_row("seconds", f"{report.seconds:.2f}")
    _console.print(table)
    if report.failed:
        failures = Table("file", "reason", title="files not ingested", title_style="red")
        for failure in report.failed:
            failures.add_row(failure.path, failure.reason)
        _console.print(failures)
    for path, pages in report.pages_without_text.items():
        _console.print(f"[yellow]no text layer[/yellow] on page(s) {', '.join(map(str, pages))} of {path}")
