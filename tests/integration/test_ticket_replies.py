"""A retry after "not satisfied" never sends the same reply again, and no reply shows a server path."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from core.services import Services
from graph.outbox import Outbox
from state.ticket import CustomerFeedback
from tests.fakes import CannedRetriever
from tests.integration.test_ticket_graph import PASSWORD_TICKET, make_service

SECTION = "Open Settings > Security and choose 'Reset password'.\n\nIf no e-mail arrives, check the spam folder."


@dataclass
class Section:
    text: str


class OneSection:
    """Every chunk belongs to the same short section, which an answer shows whole."""

    def fetch_section(self, section_id: str) -> Section | None:
        return Section(SECTION) if section_id == "s1" else None


class SectionRetriever(CannedRetriever):
    """Two chunks of one section (server paths as sources), and optionally a chunk of another article."""

    def __init__(self, *, other_article: bool) -> None:
        super().__init__(similarity=0.9)
        self.other_article = other_article

    def retrieve(self, query: str, keywords: Any, category: str | None, **options: Any) -> dict[str, Any]:
        context = super().retrieve(query, keywords, category, **options)
        for result in context["results"]:
            result["metadata"] |= {"section_id": "s1", "source": "/srv/doxa/help/account.md"}
        if self.other_article:
            context["results"].append(
                {
                    "chunk_text": "Sign in with a one-time code from the [login page](../login/) instead.",
                    "similarity_score": 0.8,
                    "metadata": {
                        "doc_id": "d2",
                        "chunk_id": "c9",
                        "section_id": "s9",
                        "section": "Login > Codes",
                        "title": "Login",
                        "source": "https://help.example.com/account/codes/",
                        "url": "https://help.example.com/account/codes/",
                    },
                }
            )
        return context


def test_a_retry_proposes_another_article_not_the_same_section(services: Services) -> None:
    service = make_service(services, SectionRetriever(other_article=True))
    service.context = replace(service.context, sections=OneSection())
    first = service.run(PASSWORD_TICKET)
    assert first.email and "spam folder" in first.email["body"], "the whole section is shown"
    second = service.feedback("T-100", CustomerFeedback(satisfied=False, comment="No e-mail, even in spam."))
    assert second.email and second.email["body"] != first.email["body"]
    assert "one-time code" in second.email["body"] and "spam folder" not in second.email["body"]
    assert "We are confident" not in second.email["body"], "a retry does not claim confidence again"
    assert "login page (https://help.example.com/account/login/)" in second.email["body"], "relative link resolved"
    for body in (first.email["body"], second.email["body"]):
        assert "/srv/doxa" not in body and "account.md" not in body


def test_with_nothing_new_the_retry_escalates_and_says_so(services: Services) -> None:
    service = make_service(services, SectionRetriever(other_article=False))
    service.context = replace(service.context, sections=OneSection())
    first = service.run(PASSWORD_TICKET)
    second = service.feedback("T-100", CustomerFeedback(satisfied=False, comment="No e-mail, even in spam."))
    assert second.status == "escalated"
    assert second.email and second.email["template"] == "escalation_notice"
    assert "nothing new" in second.email["body"]
    answers = [
        m for m in Outbox(services.db).list(ticket_id="T-100") if m["template"] in {"auto_confident", "solution"}
    ]
    assert len(answers) == 1 and first.email, "only the first answer was sent"
