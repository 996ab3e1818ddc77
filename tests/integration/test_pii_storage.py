"""Nothing stored for later reading holds raw personal data: escalation records, team e-mails, kb_gap rows.

The adversarial test found a card number and an IBAN repeated in a team notification, and
`doxa improve report` printing a full card number from a knowledge-gap row.
"""

from __future__ import annotations

import json

from core.services import Services
from graph.ticket_store import TicketStore
from ops.improvement import improvement_report
from state.records import KbGap
from tests.fakes import CannedRetriever
from tests.integration.test_ticket_graph import PASSWORD_TICKET, make_service

CARD, IBAN, PHONE = "4111.1111.1111.1111", "FR76 3000 6000 0112 3456 7890 189", "06.12.34.56.78"


def test_an_escalation_stores_and_mails_the_ticket_redacted(services: Services) -> None:
    service = make_service(services, CannedRetriever(similarity=0.95))
    body = f"{PASSWORD_TICKET.body} Card {CARD}, refund to IBAN {IBAN}, call {PHONE}. Jeanne Dupont"
    outcome = service.run(PASSWORD_TICKET.model_copy(update={"id": "T-PII-1", "body": body}))
    assert outcome.status == "escalated" and outcome.escalation_id

    record = TicketStore(services.db).escalation(outcome.escalation_id)
    assert record is not None
    stored = json.dumps(record["context"], ensure_ascii=False)
    for value in (CARD, IBAN, PHONE, "Jeanne Dupont"):
        assert value not in stored
    assert "[CARD]" in record["context"]["ticket"]["body"]
    assert {"card_number", "iban", "phone"} <= set(record["context"]["pii_redacted"])

    with services.db.connection() as conn:
        team_mail = conn.execute(
            "SELECT subject, body FROM outbox WHERE ticket_id = 'T-PII-1' AND template = 'team_notification'"
        ).fetchone()
    assert team_mail is not None
    for value in (CARD, IBAN, PHONE):
        assert value not in team_mail["body"] and value not in team_mail["subject"]
    assert "[IBAN]" in team_mail["body"]


def test_knowledge_gaps_are_stored_redacted_with_the_kinds_found(services: Services) -> None:
    store = TicketStore(services.db)
    store.record_gap(
        KbGap(
            ticket_id="T-PII-2",
            attempt=1,
            category="facturation",
            reformulation=f"Why was my card {CARD} charged twice?",
            max_similarity=0.3,
            outcome="escalated",
            suggested_title=f"Refunds to {IBAN}",
            suggested_outline=["Explain: jane.doe at orange dot fr"],
        )
    )
    with services.db.connection() as conn:
        row = conn.execute("SELECT * FROM kb_gap WHERE ticket_id = 'T-PII-2'").fetchone()
    assert row is not None
    assert row["reformulation"] == "Why was my card [CARD] charged twice?"
    assert row["suggested_title"] == "Refunds to [IBAN]"
    assert row["suggested_outline"] == ["Explain: [EMAIL]"]
    assert sorted(row["pii_kinds"]) == ["card_number", "email", "iban"]


def test_the_improvement_report_never_prints_a_raw_gap(services: Services) -> None:
    # A row written before gaps were redacted on the way in.
    with services.db.transaction() as conn:
        conn.execute(
            "INSERT INTO kb_gap (ticket_id, attempt, category, reformulation, outcome, suggested_title)"
            " VALUES ('T-PII-3', 1, 'facturation', %s, 'escalated', %s)",
            (f"card {CARD} refused", f"Cards like {CARD}"),
        )
    report = improvement_report(services.db, since=None)
    text = report.to_markdown() + report.model_dump_json()
    assert CARD not in text and "[CARD]" in text
