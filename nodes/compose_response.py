"""Response composer agent: the answer e-mail, citing the knowledge-base sources it used."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from nodes import email_text
from nodes.context import TicketContext
from nodes.find_solution import CITED_PASSAGES, source_key
from nodes.llm_step import llm_or_offline
from nodes.prompts import COMPOSE
from state.agents import Citation, Email, EmailTemplate, Solution
from state.ticket import TicketInput, TicketState
from text.markdown_text import shorten, to_plain_text

_ANSWER_CHARS = 1500
_PUBLIC_ADDRESS = re.compile(r"^https?://\S+$", re.IGNORECASE)
NOTHING_NEW_REASON = "the knowledge base has nothing new to propose after the customer said the answer did not help"


class ComposedAnswer(BaseModel):
    """What the LLM writes: the explanation part of the reply (greeting and sources are added by Doxa)."""

    answer: str = Field(min_length=1, description="The explanation and steps, in the customer's language.")
    passages_used: list[int] = Field(
        default_factory=list, description="The numbers [n] of the passages the answer draws on; empty: all of them."
    )


def greeting(ticket: TicketInput, language: email_text.Language) -> str:
    """'Hello Ana,' or a neutral greeting when the name is unknown."""
    name = (ticket.customer_name or email_text.ANONYMOUS[language]).strip()
    return email_text.GREETING[language].format(name=name).replace(" ,", ",")


def citation_line(citation: Citation, language: email_text.Language) -> str:
    """One source as a customer can use it: its title and section, and its public address when it has one.

    A source that is not an http(s) address (a path on the server, an internal id) is never printed.
    """
    if citation.kind == "faq":
        return f"- {email_text.FAQ_LABEL[language]}: {citation.section or citation.title}"
    # Section paths start with the document title ("Title > Section"); print the title once.
    section = citation.section.removeprefix(citation.title).removeprefix(" > ")
    where = f" > {section}" if section else ""
    # The address on its own line: titles end with "?" or "." too, and mail clients link a bare URL best.
    address = f"\n  {citation.source}" if _PUBLIC_ADDRESS.match(citation.source) else ""
    return f"- {citation.title}{where}{address}"


def sources_block(citations: Sequence[Citation], language: email_text.Language) -> str:
    """The citation list that ends every answer (each source once)."""
    lines = list(dict.fromkeys(citation_line(citation, language) for citation in citations))
    return "\n".join([email_text.SOURCES[language], *lines]) if lines else ""


def citations_used(solution: Solution, passage_numbers: Sequence[int]) -> list[Citation]:
    """The citations of the passages an answer draws on (numbered from 1 as the composer saw them).

    A reply cites what it says, not every passage retrieved beside it; with no usable number (an LLM that
    named none, or only numbers it was not shown) every citation stays.
    """
    shown = solution.results[:CITED_PASSAGES]
    used = {source_key(shown[n - 1]) for n in passage_numbers if 1 <= n <= len(shown)}
    kept = [citation for citation in solution.citations if (citation.source, citation.section) in used]
    return kept or list(solution.citations)


def top_passage_url(solution: Solution) -> str | None:
    """The public address of the document the answer's first passage comes from, if it has one."""
    metadata = solution.results[0].get("metadata") if solution.results else None
    url = metadata.get("url") if isinstance(metadata, dict) else None
    return str(url) if url and _PUBLIC_ADDRESS.match(str(url)) else None


def answer_text(solution: Solution, answer: str) -> str:
    """The answer as e-mail text: Markdown removed, relative links resolved against the document's URL."""
    return shorten(to_plain_text(answer, base_url=top_passage_url(solution)), _ANSWER_CHARS)


def offline_answer(solution: Solution) -> str:
    """The KB text as the answer, led by its section's heading when the text does not already start with it.

    A section deep in an article ("Common log error #3: Failed to complete TLS handshake") often starts
    with a log excerpt or a list; its heading tells the customer what they are reading. A section whose last
    line introduces what its subsections hold ("look for the following lines:") ends before them, so that
    line is dropped rather than left pointing at nothing.
    """
    text = without_trailing_lead_in(solution.solution_text.strip("\n"))
    metadata = solution.results[0].get("metadata") if solution.results else None
    path = str(metadata.get("section") or "") if isinstance(metadata, dict) else ""
    title = str(metadata.get("title") or "") if isinstance(metadata, dict) else ""
    heading = path.rsplit(" > ", 1)[-1].strip() if " > " in path else ""
    if not heading or heading == title or heading.lower() in text[: len(heading) + 20].lower():
        return text
    return f"{heading}\n\n{text}"


def without_trailing_lead_in(text: str) -> str:
    """The text without final lines that end with ':' (kept when nothing else is left)."""
    lines = text.rstrip().split("\n")
    while len(lines) > 1 and lines[-1].rstrip().endswith(":"):
        lines.pop()
        while len(lines) > 1 and not lines[-1].strip():
            lines.pop()
    return "\n".join(lines)


def composer_passages(solution: Solution) -> str:
    """The passages the composer is shown, numbered from 1; the first as the solution finder widened it.

    The retrieved chunk is cut by length; the solution text is its whole section or the whole blocks around
    it (`nodes.find_solution.section_answer`), so the LLM does not stop where the chunk did.
    """
    texts = [str(result["chunk_text"]) for result in solution.results[:CITED_PASSAGES]]
    if texts and solution.solution_text.strip():
        texts[0] = solution.solution_text
    return "\n\n".join(f"[{number}] {text}" for number, text in enumerate(texts, start=1))


def answer_digest(text: str) -> str:
    """A fingerprint of an answer's wording (case and spacing ignored), to never send the same text twice."""
    return hashlib.sha256(" ".join(text.lower().split()).encode()).hexdigest()[:32]


def answer_email(
    ticket: TicketInput,
    citations: Sequence[Citation],
    answer: str,
    template: EmailTemplate,
    *,
    retry: bool = False,
) -> Email:
    """Assemble greeting, intro, answer, closing question and sources in the ticket's language."""
    language = email_text.language_of(f"{ticket.subject} {ticket.body}")
    parts = [
        greeting(ticket, language),
        email_text.intro_for(
            email_text.RETRY_INTRO[language] if retry else email_text.INTRO[template][language], language, answer
        ),
        answer.strip("\n").rstrip(),  # a first line's indent may open a code block
        email_text.CLOSING[template][language],
        sources_block(citations, language),
        email_text.SIGNATURE[language],
    ]
    return Email(
        template=template,
        recipient=ticket.customer_email,
        subject=email_text.SUBJECT[template][language].format(subject=ticket.subject),
        body="\n\n".join(p for p in parts if p),
    )


def escalation_opening(state: TicketState, language: email_text.Language) -> str | None:
    """What the escalation notice says first when the knowledge base is why a person takes over.

    The customer is told plainly that the KB has no answer (or nothing new after a retry), rather than
    a vague "needs a specialist"; other escalations (sensitive data, anger, a critical plan) say nothing.
    """
    if state.get("repeats_earlier_answer"):
        return email_text.ESCALATION_KB_OPENING["nothing_new"][language]
    solution, evaluation = state.get("solution"), state.get("evaluation")
    if solution is None or evaluation is None or not evaluation.escalate:
        return None
    if evaluation.sensitive or evaluation.negative_sentiment or (solution.solution_text and solution.kb_confident):
        return None
    kind = "nothing_new" if state.get("attempt", 1) > 1 else "no_answer"
    return email_text.ESCALATION_KB_OPENING[kind][language]


def compose_response(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Write the answer; never the same text twice in a thread (then escalate, saying there is nothing new).

    "We are confident" is said only of a first answer the KB is confident in; a retry follows the
    customer's "that did not help" and offers the new content more modestly.
    """
    ticket, solution, attempt = state["ticket"], state["solution"], state.get("attempt", 1)
    template: EmailTemplate = "auto_confident" if solution.kb_confident and attempt == 1 else "solution"
    composed, fallback = llm_or_offline(
        runtime,
        "compose_response",
        COMPOSE,
        ComposedAnswer,
        lambda: ComposedAnswer(answer=offline_answer(solution), passages_used=[1]),
        subject=ticket.subject,
        body=ticket.body,
        passages=composer_passages(solution),
    )
    text = answer_text(solution, composed.answer)
    digest = answer_digest(text)
    if not text or digest in state.get("answer_digests", []):
        return {
            "repeats_earlier_answer": True,
            "escalation_reason": NOTHING_NEW_REASON,
            "path": ["compose_response"],
            **fallback,
        }
    citations = citations_used(solution, composed.passages_used)
    email = answer_email(ticket, citations, text, template, retry=attempt > 1)
    return {
        "email": email,
        "answer_digests": [digest],
        "repeats_earlier_answer": False,
        "path": ["compose_response"],
        **fallback,
    }
