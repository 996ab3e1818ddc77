"""Response composer agent: the answer e-mail, citing the knowledge-base sources it used."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from nodes import email_text
from nodes.context import TicketContext
from nodes.llm_step import llm_or_offline
from nodes.prompts import COMPOSE
from state.agents import Email, EmailTemplate, Solution
from state.ticket import TicketInput, TicketState

_ANSWER_CHARS = 1500


class ComposedAnswer(BaseModel):
    """What the LLM writes: the explanation part of the reply (greeting and sources are added by Doxa)."""

    answer: str = Field(min_length=1, description="The explanation and steps, in the customer's language.")


def greeting(ticket: TicketInput, language: email_text.Language) -> str:
    """'Hello Ana,' or a neutral greeting when the name is unknown."""
    name = (ticket.customer_name or email_text.ANONYMOUS[language]).strip()
    return email_text.GREETING[language].format(name=name).replace(" ,", ",")


def sources_block(solution: Solution, language: email_text.Language) -> str:
    """The citation list that ends every answer."""
    lines = [email_text.SOURCES[language]]
    for citation in solution.citations:
        # Section paths start with the document title ("Title > Section"); print the title once.
        section = citation.section.removeprefix(citation.title).removeprefix(" > ")
        where = f" > {section}" if section else ""
        lines.append(f"- {citation.title}{where} ({citation.source})")
    return "\n".join(lines) if solution.citations else ""


def answer_email(ticket: TicketInput, solution: Solution, answer: str, template: EmailTemplate) -> Email:
    """Assemble greeting, intro, answer, closing question and sources in the ticket's language."""
    language = email_text.language_of(f"{ticket.subject} {ticket.body}")
    parts = [
        greeting(ticket, language),
        email_text.INTRO[template][language],
        answer.strip()[:_ANSWER_CHARS],
        email_text.CLOSING[template][language],
        sources_block(solution, language),
        email_text.SIGNATURE[language],
    ]
    return Email(
        template=template,
        recipient=ticket.customer_email,
        subject=email_text.SUBJECT[template][language].format(subject=ticket.subject),
        body="\n\n".join(p for p in parts if p),
    )


def compose_response(state: TicketState, runtime: Runtime[TicketContext]) -> dict[str, Any]:
    """Write the answer: confident answers need no feedback request, the others ask for it."""
    ticket, solution = state["ticket"], state["solution"]
    template: EmailTemplate = "auto_confident" if solution.kb_confident else "solution"
    passages = "\n\n".join(f"[{i + 1}] {r['chunk_text']}" for i, r in enumerate(solution.results[:3]))
    composed, fallback = llm_or_offline(
        runtime,
        "compose_response",
        COMPOSE,
        ComposedAnswer,
        lambda: ComposedAnswer(answer=solution.solution_text),
        subject=ticket.subject,
        body=ticket.body,
        passages=passages,
    )
    email = answer_email(ticket, solution, composed.answer, template)
    return {"email": email, "path": ["compose_response"], **fallback}
