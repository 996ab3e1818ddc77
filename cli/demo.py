"""`doxa demo`: the whole job on embedded engines — ingest a help centre, answer questions, run tickets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from core.settings import get_settings
from state.ticket import CustomerFeedback, TicketInput

if TYPE_CHECKING:
    from core.services import Services

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DOCS = REPO_ROOT / "examples" / "helpcentre" / "articles"
DEFAULT_TICKETS = REPO_ROOT / "examples" / "tickets"
DEFAULT_RESOLVED = REPO_ROOT / "examples" / "resolved-tickets" / "tickets.jsonl"
QUESTIONS = [
    "Tor Browser says the proxy server is refusing connections",
    "How can I connect to Tor from China?",
    "Should I use Orbot or Tor Browser on Android?",
]

console = Console()


def demo(
    docs: Annotated[
        Path, typer.Option(help="Help-centre folder to ingest.", exists=True, file_okay=False)
    ] = DEFAULT_DOCS,
    tickets: Annotated[Path, typer.Option(help="Folder of sample tickets (*.json).", exists=True)] = DEFAULT_TICKETS,
    resolved: Annotated[
        Path, typer.Option(help="Resolved tickets (JSON Lines) to mine FAQs from.", exists=True, dir_okay=False)
    ] = DEFAULT_RESOLVED,
) -> None:
    """Ingest the help centre, answer questions, run tickets through the agents, mine and approve FAQs."""
    from cli.demo_faq import answer_from_the_faq, mine_and_review
    from core.services import Services
    from graph.factory import open_ticket_service
    from kb.ingest import KnowledgeBaseIngestor
    from kb.retrieval import HybridRetriever

    with Services.open(get_settings()) as services:
        console.rule("1. Ingest the help centre")
        report = KnowledgeBaseIngestor.from_services(services).run([docs], prune=True)
        console.print(
            f"{report.files_read} files: {report.chunks_added} chunks added, {report.chunks_unchanged} unchanged, "
            f"{report.chunks_removed} removed, {len(report.failed)} failed, {report.seconds:.1f}s"
            " (run it again: nothing is re-embedded)"
        )
        _fit_answer_model(services)

        console.rule("2. Ask the knowledge base")
        retriever = HybridRetriever.from_services(services)
        for question in QUESTIONS:
            found = retriever.retrieve(question, top_k=3)
            signals = found["metadata"]
            best = found["results"][0] if found["results"] else None
            where = f"{best['metadata']['title']} > {best['metadata']['section']}" if best else "nothing found"
            console.print(
                f"[bold]{question}[/bold]\n  best: {where}\n  max cosine {signals['max_similarity']:.2f}, "
                f"kb_confident={signals['kb_confident']}"
            )

        console.rule("3. Run tickets through the eleven agents")
        console.print(
            "A confident answer, an honest 'not in our knowledge base' escalation (DEMO-5 asks about Tor Browser,"
            " but no article covers it), and a retry after 'not satisfied' that proposes different content."
        )
        service = open_ticket_service(services)
        for path in sorted(tickets.glob("*.json")):
            ticket = TicketInput.model_validate(json.loads(path.read_text(encoding="utf-8")))
            outcome = (
                service.show(ticket.id) if ticket.id and service.tickets.exists(ticket.id) else service.run(ticket)
            )
            _show(outcome.thread_id, outcome.status, outcome.path, outcome.email)
            if outcome.waiting_for_feedback:
                console.print("  customer: not satisfied, 'I still get the error after restarting'")
                retried = service.feedback(
                    outcome.thread_id,
                    CustomerFeedback(satisfied=False, comment="I still get the error after restarting."),
                )
                _show(retried.thread_id, retried.status, retried.path[-8:], retried.email)
                if outcome.email and retried.email:
                    same = outcome.email["body"] == retried.email["body"]
                    console.print(f"  the retry {'repeats' if same else 'does not repeat'} the first reply")
                if retried.waiting_for_feedback:
                    console.print("  customer: satisfied")
                    closed = service.feedback(outcome.thread_id, CustomerFeedback(satisfied=True))
                    _show(closed.thread_id, closed.status, closed.path[-3:], None)

        console.rule("4. Mine FAQs from resolved tickets, and approve them as a reviewer")
        mine_and_review(services, resolved, console)
        _fit_answer_model(services)  # approved FAQs are a new KB state, as `doxa serve` would refit in the background

        console.rule("5. A new ticket on a mined problem is answered from the approved FAQ")
        answer_from_the_faq(service, console)
        console.rule("Done")
        console.print(
            "Try: doxa kb search 'onion sites' · doxa ticket list · doxa faq list · doxa faq search 'invoice pdf'"
            " · doxa serve (then /console) · doxa --help"
        )


def _fit_answer_model(services: Services) -> None:
    """Fit the answer model on the KB as it is now (a no-op when the stored one is current), as the service does."""
    from cli.kb_calibrate import refit_now

    stored = refit_now(services)
    fitted_on = stored.model.fitted_on
    console.print(
        f"answer model: {stored.model.kind}, threshold {stored.model.threshold:.2f}"
        f" ({fitted_on.get('positives', 0)} answerable probes, {fitted_on.get('negatives', 0)} left-out questions;"
        " `doxa kb calibrate` shows the curve)"
    )


_MEANING = {
    "auto_confident": "confident answer",
    "solution": "suggested answer, asks whether it helped",
    "escalation_notice": "handed to a person",
    "rejection": "asks for details",
}


def _show(thread_id: str, status: str, path: list[str], email: dict[str, str] | None) -> None:
    meaning = f" ({_MEANING.get(email['template'], email['template'])})" if email else ""
    console.print(Text(f"{thread_id} -> {status}{meaning}   {' -> '.join(path)}", style="bold"))
    if email:
        title = Text(f"{email['template']}: {email['subject']}")
        console.print(Panel(Text(email["body"]), title=title, expand=False))
