"""The FAQ half of `doxa demo`: mine sample resolved tickets, approve what was mined, answer a ticket from it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from core.services import Services
from faq_mining.review import FaqReview
from faq_mining.review_flow import resume_review
from faq_mining.service import mining_service_for
from faq_mining.state import MiningRequest, ReviewDecision
from faq_mining.ticket_source import TicketSource
from graph.ticket_service import TicketService
from state.ticket import TicketInput

DEMO_REVIEWER = "demo-reviewer"
QUESTION_FOR_THE_FAQ = TicketInput(
    id="DEMO-FAQ-1",
    subject="Invoice PDF",
    body="I click the button to download my invoice as a PDF and nothing is downloaded. How do I get it?",
    customer_email="customer@example.com",
)


def resolved_tickets(path: Path, closed_at: datetime) -> list[dict[str, Any]]:
    """The sample tickets, closed at `closed_at` so that the default lookback window holds them."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row | {"closed_at": (closed_at + timedelta(seconds=i)).isoformat()} for i, row in enumerate(rows)]


def mine_and_review(services: Services, tickets_file: Path, console: Console) -> None:
    """Import, mine (a re-run stages nothing new), approve the pending demo candidates, print the FAQs."""
    settings = services.settings
    source = TicketSource(services.clickhouse, database=settings.mining_database, statuses=settings.mining_statuses)
    source.ensure_schema()
    yesterday = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    imported = source.import_rows(resolved_tickets(tickets_file, yesterday))
    console.print(f"{imported.imported} resolved tickets in ClickHouse ({source.table})")

    run = mining_service_for(services).mine(
        MiningRequest(lookback_days=settings.mining_lookback_days, limit=settings.mining_limit), exclusive=True
    )
    stats = run.stats
    console.print(
        f"mined {stats.processed} tickets: {stats.staged_new} new + {stats.staged_merge} merge candidates "
        f"({stats.staged_tickets} tickets), already staged {stats.skipped_duplicate}, "
        f"unsuitable {stats.skipped_unsuitable}, filtered {stats.skipped_prefilter}, failed {stats.failed}"
    )

    review = FaqReview.from_services(services)
    pending = [c for c in review.list("PENDING", limit=100).items if set(c.source_ticket_ids) & _ids(tickets_file)]
    for candidate in pending:
        record = resume_review(
            services, candidate.id, ReviewDecision(decision="approve", reviewer=DEMO_REVIEWER, note="demo")
        )
        redacted = f" (redacted: {', '.join(candidate.pii_kinds)})" if candidate.pii_kinds else ""
        console.print(
            f"  approved candidate #{candidate.id} -> FAQ #{record.faq_id}: {candidate.question!r} "
            f"from {candidate.source_count} tickets{redacted}"
        )
    if not pending:
        console.print("  nothing waits for review (run it again after `rm -rf .doxa` to see it from scratch)")


def answer_from_the_faq(service: TicketService, console: Console) -> None:
    """A new ticket on a mined problem: the solution finder answers from the approved FAQ."""
    known = service.tickets.exists(QUESTION_FOR_THE_FAQ.id or "")
    outcome = service.show(QUESTION_FOR_THE_FAQ.id or "") if known else service.run(QUESTION_FOR_THE_FAQ)
    answered_by = outcome.answered_by or "-"
    faq = f" #{outcome.faq_id}" if outcome.faq_id else ""
    console.print(f"{outcome.thread_id} -> {outcome.status}, answered by {answered_by}{faq}")
    if outcome.email:
        console.print(outcome.email["body"], markup=False, highlight=False)


def _ids(tickets_file: Path) -> set[str]:
    lines = tickets_file.read_text(encoding="utf-8").splitlines()
    return {str(json.loads(line)["id"]) for line in lines if line.strip()}
