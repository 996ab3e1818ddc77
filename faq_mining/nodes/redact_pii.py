"""redact_pii: personal data and secrets leave the tickets before any embedding or LLM call."""

from __future__ import annotations

import dataclasses
from typing import Any

from langgraph.runtime import Runtime

from faq_mining.nodes.context import MiningContext, mining_context
from faq_mining.state import MinedTicket, MiningFailure, MiningState, MiningStats
from text.pii import RedactionResult
from text.pii import redact_pii as redact_text


def redacted_ticket(ticket: MinedTicket, seen: dict[str, RedactionResult] | None = None) -> MinedTicket:
    """The ticket with every finding replaced by its placeholder, and the kinds found (never the values).

    `seen` holds the redactions of texts met before in the run: redaction is a function of the text alone,
    and a batch repeats texts (templated closure notes, empty subjects), so each distinct text is scanned once.
    """
    seen = {} if seen is None else seen
    subject, body, notes = (_redacted(text, seen) for text in (ticket.subject, ticket.body, ticket.closurenotes))
    kinds = sorted({str(kind) for result in (subject, body, notes) for kind in result.kinds})
    return dataclasses.replace(
        ticket, subject=subject.text, body=body.text, closurenotes=notes.text, pii_kinds=tuple(kinds)
    )


def _redacted(text: str, seen: dict[str, RedactionResult]) -> RedactionResult:
    result = seen.get(text)
    if result is None:
        result = seen[text] = redact_text(text)
    return result


def redact_pii(state: MiningState, runtime: Runtime[MiningContext]) -> dict[str, Any]:
    """Redact every ticket; in `skip` mode a ticket holding any PII is dropped and counted as skipped_pii."""
    skip_mode = mining_context(runtime).policy.pii_mode == "skip"
    kept: list[MinedTicket] = []
    stats = MiningStats()
    seen: dict[str, RedactionResult] = {}
    for ticket in state.get("tickets", []):
        try:
            redacted = redacted_ticket(ticket, seen)
        # One unreadable ticket must not abort the batch; it is counted with its reason instead.
        except Exception as exc:  # noqa: BLE001
            stats.failed += 1
            stats.failures.append(MiningFailure(ticket_id=ticket.id, reason=f"PII redaction failed: {exc}"))
            continue
        if skip_mode and redacted.pii_kinds:
            stats.skipped_pii += 1
            continue
        kept.append(redacted)
    return {"tickets": kept, "stats": stats}
