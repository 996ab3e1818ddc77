"""`doxa faq mine`: one mining run over resolved tickets in ClickHouse, with progress and statistics.

Safe from cron: a run that finds another one in progress does nothing and says so (exit 0), and even
two runs that overlap never stage a ticket twice. The exit code is non-zero only when the run itself
failed (ClickHouse or PostgreSQL unreachable, bad configuration); bad tickets are counted, not fatal.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cli.services import open_services
from core.durations import match_duration
from core.errors import ConflictError
from faq_mining.ticket_import import parse_closed_at

if TYPE_CHECKING:
    from faq_mining.service import MiningRun

STEPS = (
    "fetch",
    "prefilter",
    "skip_staged",
    "redact_pii",
    "cluster",
    "compare",
    "analyze",
    "validate",
    "stage",
    "advance_watermark",
)


def mine(
    lookback_days: Annotated[
        int | None, typer.Option("--lookback-days", min=1, help="Oldest ticket age in days (default: settings).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, max=100_000, help="Most tickets this run reads (default: settings).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run's statistics as JSON.")] = False,
    rewind: Annotated[
        bool,
        typer.Option(
            "--rewind", help="Re-read the whole lookback window, ignoring the watermark (staged tickets stay skipped)."
        ),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Re-read tickets imported since then: a duration back from now (2d, 12h) or an ISO date; "
            "staged tickets stay skipped.",
        ),
    ] = None,
) -> None:
    """Mine resolved tickets into FAQ candidates that wait for review (`doxa faq list --status PENDING`)."""
    stderr = Console(stderr=True)
    if rewind and since is not None:
        raise typer.BadParameter("--rewind and --since both say where to start reading: give one", param_hint="--since")
    reread_since = _moment(since) if since is not None else None
    # The graph (LangGraph, the model's stack) loads here, not when `doxa --help` lists this command.
    from faq_mining.service import MiningService
    from faq_mining.state import MiningRequest

    with open_services() as services:
        settings = services.settings
        request = MiningRequest(
            lookback_days=lookback_days or settings.mining_lookback_days,
            limit=limit or settings.mining_limit,
            rewind=rewind,
            reread_since=reread_since,
        )
        service = MiningService.from_services(services)
        with Progress(
            TextColumn("[bold]mining[/bold] {task.description:<18}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} steps"),
            TimeElapsedColumn(),
            console=stderr,
            transient=True,
            disable=not stderr.is_terminal,
        ) as progress:
            task = progress.add_task(STEPS[0], total=len(STEPS))

            def advance(step: str) -> None:
                following = STEPS.index(step) + 1 if step in STEPS else len(STEPS)
                description = STEPS[following] if following < len(STEPS) else "done"
                progress.update(task, completed=following, description=description)

            try:
                run = service.mine(request, exclusive=True, on_step=advance)
            except ConflictError as exc:
                # Another run holds the lock: nothing to do, and not a failure (cron stays quiet).
                if as_json:
                    typer.echo(json.dumps({"skipped": str(exc)}))
                else:
                    stderr.print(str(exc))
                return
    typer.echo(run.model_dump_json(indent=2) if as_json else _report(run))


def _moment(text: str) -> datetime:
    """`--since`: a duration back from now (`2d`) or an ISO 8601 date or time (naive: UTC)."""
    duration = match_duration(text)
    if duration is not None:
        return datetime.now(UTC) - duration
    try:
        return parse_closed_at(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r}: expected a duration such as 2d or 12h, or an ISO date", param_hint="--since"
        ) from None


def _report(run: MiningRun) -> str:
    stats = run.stats
    lines = [
        f"run {run.run_id}: {stats.processed} ticket(s) in {run.seconds:.1f} s",
        f"  staged       {stats.staged_new} new, {stats.staged_merge} merge ({stats.staged_tickets} ticket(s))",
        f"  skipped      prefilter {stats.skipped_prefilter}, already staged {stats.skipped_duplicate}, "
        f"identical {stats.skipped_identical}, unsuitable {stats.skipped_unsuitable}, PII {stats.skipped_pii}",
        f"  joined       {stats.joined_pending} ticket(s) to pending candidates asking the same question",
        f"  failed       {stats.failed}",
        f"  waiting      {run.waiting_reviews} review(s); watermark {'advanced' if run.watermark_advanced else 'kept'}",
    ]
    if stats.waiting_lag:
        from faq_mining.watermark import INGEST_LAG

        minutes = round(INGEST_LAG.total_seconds() / 60)
        lines.append(f"  {stats.waiting_lag} ticket(s) closed in the last {minutes} minutes wait for the next run")
    lines.extend(f"    {failure.ticket_id}: {failure.reason}" for failure in stats.failures[:20])
    if len(stats.failures) > 20:
        lines.append(f"    ... and {len(stats.failures) - 20} more (see --json)")
    return "\n".join(lines)
