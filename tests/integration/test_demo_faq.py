"""The demo's FAQ half on the real engines: sample resolved tickets become approved FAQs that answer a ticket."""

from __future__ import annotations

from rich.console import Console

from cli.demo import DEFAULT_RESOLVED
from cli.demo_faq import QUESTION_FOR_THE_FAQ, answer_from_the_faq, mine_and_review
from core.services import Services
from faq_mining.review import FaqReview
from graph.factory import open_ticket_service


def test_sample_tickets_become_one_faq_per_problem_and_answer_a_new_ticket(services: Services) -> None:
    console = Console(record=True, width=200)

    mine_and_review(services, DEFAULT_RESOLVED, console)
    approved = FaqReview.from_services(services).list("APPROVED").items
    mine_and_review(services, DEFAULT_RESOLVED, console)  # a second demo run stages and approves nothing new

    stats = FaqReview.from_services(services).stats()
    assert stats.by_status["PENDING"] == 0 and stats.by_status["APPROVED"] == len(approved) >= 3
    sources = sorted(sorted(c.source_ticket_ids) for c in approved)
    # Each recurring problem is one candidate (English and French phrasings may stay apart); no noise ticket made one.
    assert all({ticket[:3] for ticket in group} in ({"R-1"}, {"R-2"}, {"R-3"}) for group in sources)
    assert {"R-2001", "R-2002", "R-2003", "R-2004"} in [set(group) for group in sources]
    assert not any({"R-4001", "R-4002"} & set(group) for group in sources)
    signed = next(c for c in approved if "R-1004" in c.source_ticket_ids)
    assert {"email", "phone", "person_name"} <= set(signed.pii_kinds)
    assert "marie" not in (signed.question + signed.answer).lower()

    answer_from_the_faq(open_ticket_service(services), console)
    outcome = open_ticket_service(services).show(QUESTION_FOR_THE_FAQ.id or "")
    assert outcome.answered_by == "faq" and outcome.faq_id is not None
    assert "pop-up blocker" in (outcome.email or {}).get("body", "")
    assert "answered by faq" in console.export_text()
