"""Wire the ticket graph's runtime context from the process's services."""

from __future__ import annotations

from core.llm import build_chat_model
from core.services import Services
from graph.outbox import Outbox
from graph.ticket_service import TicketService
from graph.ticket_store import TicketStore
from kb.answer_feedback import AnswerFeedbackStore
from kb.faq_retriever import FaqRetriever
from kb.repository import KnowledgeBaseRepository
from kb.retrieval import HybridRetriever
from nodes.context import TicketContext
from nodes.policy import TicketPolicy


def ticket_context(services: Services) -> TicketContext:
    """The configured LLM (or none), KB retriever, classifier, outbox, stores and policy."""
    from text.classifier import load_or_fit_default

    settings = services.settings
    # The analyzer, classifier and retriever embed the same ticket text and reformulation: compute each once.
    embedder = services.embedder.remembering()
    classifier = load_or_fit_default(settings, embedder)
    return TicketContext(
        chat_model=build_chat_model(settings),
        embedder=embedder,
        retriever=HybridRetriever.from_services(services, embedder=embedder),
        classifier=classifier,
        categories=list(classifier.labels),
        sections=KnowledgeBaseRepository(services.db),
        faqs=FaqRetriever.from_services(services, embedder=embedder),
        outbox=Outbox(services.db),
        tickets=TicketStore(services.db),
        answers=AnswerFeedbackStore(services.db),
        policy=TicketPolicy.from_settings(settings),
        llm_max_attempts=settings.llm_max_retries + 1,
    )


def open_ticket_service(services: Services) -> TicketService:
    """A TicketService on the configured context and the Postgres checkpointer."""
    context = ticket_context(services)
    tickets = TicketStore(services.db)
    return TicketService(context, TicketService.postgres_checkpointer(tickets), tickets)
