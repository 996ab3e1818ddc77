"""Escalation manager agent: hand the ticket to a team with its full context, and tell both sides."""

from __future__ import annotations

import uuid
from typing import Any

from langgraph.runtime import Runtime

from nodes import email_text
from nodes.compose_response import escalation_opening, greeting
from nodes.context import TicketContext, context_of
from nodes.llm_step import llm_or_offline
from nodes.prompts import HANDOFF
from nodes.send_email import queue_email, thread_id
from state.agents import Email, Escalation, HandoffNote
from state.records import EscalationRecord, OutboxMessage
from state.ticket import TicketState
from text.pii import redact_json

_ESCALATION_NAMESPACE = uuid.UUID("5b0f3c1e-4f7a-4f51-9a43-0d1c6e2b7a10")


def escalation_context(state: TicketState) -> dict[str, Any]:
    """Everything a human needs, as JSON: the ticket, analysis, classification, attempts and what the KB returned."""
    keys = ("validation", "priority", "analysis", "classification", "plan", "solution", "evaluation", "feedback")
    context: dict[str, Any] = {key: state[key].model_dump(mode="json") for key in keys if key in state}  # type: ignore[literal-required]
    context["ticket"] = state["ticket"].model_dump(mode="json", include={"subject", "body"})
    context["attempt"] = state.get("attempt", 1)
    context["clarifications"] = state.get("clarifications", [])
    context["path"] = state.get("path", [])
    return context


def handoff_offline(state: TicketState, reason: str) -> HandoffNote:
    """A summary assembled from the analysis and the attempts; the classifier's skills."""
    ticket, analysis, classification = state["ticket"], state.get("analysis"), state.get("classification")
    problem = analysis.summary if analysis else ticket.subject
    tried = _tried(state)
    clarifications = state.get("clarifications", [])
    added = f" The customer added: {' / '.join(clarifications)}." if clarifications else ""
    summary = f"{problem.rstrip('. ')}. Tried: {tried}.{added} Escalated because {reason}."
    skills = classification.required_skills if classification and classification.required_skills else []
    return HandoffNote(summary=summary[:2000], suggested_skills=skills or ["general-support"])


def _tried(state: TicketState) -> str:
    """What the customer was sent before this escalation: answers counted as sent, not as attempted."""
    sent = len(state.get("answer_digests", []))
    if sent:
        return f"{sent} answer{'s' if sent > 1 else ''} from the knowledge base"
    if "solution" in state:
        return "no answer sent (the knowledge base's was not confident enough)"
    return "no automated answer"


def write_handoff(
    state: TicketState, runtime: Runtime[TicketContext], reason: str, team: str, category: str | None, level: str | None
) -> tuple[HandoffNote, dict[str, Any]]:
    """The hand-off note: the LLM's summary and skills; a team it suggests must be one the routing table knows."""
    policy, ticket = context_of(runtime).policy, state["ticket"]
    teams = sorted(policy.known_teams())

    def unknown_team(note: HandoffNote) -> str | None:
        return None if note.suggested_team in (None, *teams) else f"unknown team {note.suggested_team!r}"

    return llm_or_offline(
        runtime,
        "escalate",
        HANDOFF,
        HandoffNote,
        lambda: handoff_offline(state, reason),
        check=unknown_team,
        system_fields={"teams": ", ".join(teams)},
        subject=ticket.subject,
        body=ticket.body,
        clarifications="".join(f"Clarification: {c}\n" for c in state.get("clarifications", [])),
        reason=reason,
        category=category or "-",
        priority=level or "-",
        attempt=state.get("attempt", 1),
        team=team,
    )


def escalate(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Record the hand-off once, route it by category and priority (the config table), notify team and customer."""
    ticket, ticket_id = state["ticket"], thread_id()
    classification = state.get("classification")
    priority = state.get("priority")
    category = classification.primary_category if classification else None
    level = priority.priority if priority else None
    team = context_of(runtime).policy.team_for(category, level)
    reason = state.get("escalation_reason", "escalated")
    # Written before any side effect, so a retried LLM fault repeats nothing.
    note, fallback = write_handoff(state, runtime, reason, team, category, level)
    skills = list(note.suggested_skills)
    # The record and the team's e-mail are read later by people who are not the customer: they hold the
    # ticket redacted, with the kinds found ("sensitive data" escalations exist because of those values).
    context, pii_kinds = redact_json(
        escalation_context(state) | {"handoff_summary": note.summary, "suggested_team": note.suggested_team}
    )
    context["pii_redacted"] = [str(kind) for kind in pii_kinds]
    record = EscalationRecord(
        id=f"ESC-{uuid.uuid5(_ESCALATION_NAMESPACE, ticket_id).hex[:12]}",
        ticket_id=ticket_id,
        team=team,
        reason=reason,
        priority=level,
        category=category,
        suggested_skills=skills,
        context=context,
    )
    escalation_id = context_of(runtime).tickets.open_escalation(record)
    outbox = context_of(runtime).outbox
    notified = outbox.enqueue(
        OutboxMessage(
            idempotency_key=f"{ticket_id}:escalation:team",
            ticket_id=ticket_id,
            recipient=f"team:{team}",
            subject=f"[{level or 'unscored'}] Escalated ticket {ticket_id}: {context['ticket']['subject']}",
            body=email_text.TEAM_NOTIFICATION.format(
                ticket_id=ticket_id,
                team=team,
                reason=reason,
                priority=level,
                category=category,
                attempt=state.get("attempt", 1),
                skills=", ".join(skills) or "-",
                summary=context["handoff_summary"],
                subject=context["ticket"]["subject"],
                body=context["ticket"]["body"],
            ),
            template="team_notification",
        )
    )
    language = email_text.language_of(f"{ticket.subject} {ticket.body}")
    body = "\n\n".join(
        part
        for part in [
            greeting(ticket, language),
            escalation_opening(state, language) or "",
            email_text.ESCALATION_BODY[language].format(team=team, escalation_id=escalation_id),
            email_text.SIGNATURE[language],
        ]
        if part
    )
    notice = Email(
        template="escalation_notice",
        recipient=ticket.customer_email,
        subject=email_text.SUBJECT["escalation_notice"][language].format(subject=ticket.subject),
        body=body,
    )
    queue_email(outbox, notice, ticket_id, f"{ticket_id}:escalation:customer")
    escalation = Escalation(
        escalation_id=escalation_id,
        team=team,
        reason=reason,
        summary=context["handoff_summary"],
        suggested_skills=skills,
        notification_sent=notified,
    )
    return {"escalation": escalation, "email": notice, "status": "escalated", "path": ["escalate"], **fallback}
