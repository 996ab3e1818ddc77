"""FaqRetriever on the real database and model, and the ticket graph answering from approved FAQs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from core.database import Database
from core.embeddings import Embedder
from core.errors import EmbeddingModelMismatch, InvalidInputError
from core.services import Services
from faq_mining.faq_store import FaqStore
from faq_mining.review import FaqReview
from graph.outbox import Outbox
from graph.ticket_service import TicketService
from graph.ticket_store import TicketStore
from kb.faq_retriever import FaqRetriever
from nodes.context import TicketContext
from nodes.policy import TicketPolicy
from state.ticket import CustomerFeedback, TicketInput
from tests.fakes import Prediction
from tests.faq_candidates import stage_candidate

PASSWORD_Q = "How do I reset my password?"
PASSWORD_A = "Open Settings > Security, choose 'Reset password' and follow the link we e-mail you."
INVOICE_Q = "Where can I download my invoices?"


def approve(review: FaqReview, embedder: Embedder, question: str, answer: str, ticket: str) -> int:
    staging_id = stage_candidate(review.store, embedder, [ticket], question, answer=answer, tags=["test"], metadata={})
    faq_id = review.decide(staging_id, "approve", reviewer="alice").faq_id
    assert faq_id is not None
    return faq_id


@pytest.fixture
def review(db: Database, embedder: Embedder) -> FaqReview:
    return FaqReview(db, embedder, FaqStore(db, embedder.model_name, embedder.dimension))


def test_search_ranks_live_faqs_by_question_similarity(review: FaqReview, embedder: Embedder, db: Database) -> None:
    password = approve(review, embedder, PASSWORD_Q, PASSWORD_A, "T-1")
    invoices = approve(review, embedder, INVOICE_Q, "Billing > Invoices lists every invoice as a PDF.", "T-2")
    retriever = FaqRetriever(db, embedder)

    hits = retriever.search("I forgot my password, how can I reset it?", top_k=2)

    assert [hit.id for hit in hits] == [password, invoices]
    assert hits[0].answer == PASSWORD_A and hits[0].tags == ["test"] and hits[0].version == 1
    assert hits[0].similarity > 0.6 > hits[1].similarity
    assert [h.id for h in retriever.search("I forgot my password", top_k=2, min_similarity=0.6)] == [password]
    assert retriever.search("I forgot my password", exclude_ids=[password])[0].id == invoices


def test_a_merge_and_its_revert_are_served_at_once(review: FaqReview, embedder: Embedder, db: Database) -> None:
    password = approve(review, embedder, PASSWORD_Q, PASSWORD_A, "T-1")
    merged_answer = PASSWORD_A + " If the e-mail does not arrive within five minutes, check the spam folder."
    staging_id = stage_candidate(
        review.store,
        embedder,
        ["T-2"],
        PASSWORD_Q,
        action="MERGE",
        answer=merged_answer,
        tags=["test", "email"],
        confidence=0.8,
        merge_with_id=password,
        similarity=0.9,
        metadata={},
    )
    retriever = FaqRetriever(db, embedder)

    review.decide(staging_id, "approve", reviewer="alice")
    (after_merge,) = retriever.search(PASSWORD_Q)
    review.revert(staging_id, reviewer="alice")
    (after_revert,) = retriever.search(PASSWORD_Q)

    assert (after_merge.id, after_merge.answer, after_merge.version) == (password, merged_answer, 2)
    assert after_revert.id == password and after_revert.answer == PASSWORD_A and after_revert.tags == ["test"]


def test_deleted_faqs_are_never_returned(review: FaqReview, embedder: Embedder, db: Database) -> None:
    password = approve(review, embedder, PASSWORD_Q, PASSWORD_A, "T-1")
    retriever = FaqRetriever(db, embedder)
    assert [hit.id for hit in retriever.search(PASSWORD_Q)] == [password]

    review.delete_faq(password, actor="bob")

    assert retriever.search(PASSWORD_Q) == []


def test_no_faq_yet_is_an_empty_answer_and_bad_arguments_are_refused(db: Database, embedder: Embedder) -> None:
    retriever = FaqRetriever(db, embedder)
    assert retriever.search(PASSWORD_Q) == []
    with pytest.raises(InvalidInputError):
        retriever.search(PASSWORD_Q, top_k=0)
    with pytest.raises(InvalidInputError):
        retriever.search(PASSWORD_Q, min_similarity=2)


def test_faqs_of_another_model_are_refused(db: Database, embedder: Embedder) -> None:
    FaqStore(db, "another-model", embedder.dimension)

    with pytest.raises(EmbeddingModelMismatch, match="another-model"):
        FaqRetriever(db, embedder).search(PASSWORD_Q)


class AuthClassifier:
    def predict(self, text: str) -> Prediction:
        return Prediction("authentification", 0.9)


class WeakDocuments:
    """A document KB whose one passage is below the confidence threshold."""

    def retrieve(self, query: str, keywords: Sequence[str], category: str | None, **options: Any) -> dict[str, Any]:
        passage = {
            "chunk_text": "Accounts are described in the user guide.",
            "similarity_score": 0.45,
            "metadata": {"source": "help/guide.md", "section": "Accounts", "title": "Guide", "chunk_id": "c1"},
        }
        return {"results": [passage], "metadata": {"kb_confident": False, "kb_limit_reached": False}}


TICKET = TicketInput(
    id="T-500",
    subject="Password reset",
    body="I forgot my password. How do I reset my password so that I can sign in again?",
    customer_email="ana@example.com",
    customer_name="Ana",
)


def ticket_service(services: Services) -> TicketService:
    store = TicketStore(services.db)
    context = TicketContext(
        embedder=services.embedder,
        retriever=WeakDocuments(),
        faqs=FaqRetriever(services.db, services.embedder),
        classifier=AuthClassifier(),
        categories=["authentification", "technique"],
        outbox=Outbox(services.db),
        tickets=store,
        policy=TicketPolicy(kb_confidence_threshold=0.5),
        llm_backoff_s=0,
    )
    return TicketService(context, TicketService.postgres_checkpointer(store), store)


def test_the_ticket_graph_answers_from_an_approved_faq_and_stops_once_it_is_deleted(services: Services) -> None:
    review = FaqReview.from_services(services)
    service = ticket_service(services)
    before = service.run(TICKET)
    assert before.answered_by == "documents" and before.faq_id is None and before.kb_confident is False

    faq_id = approve(review, services.embedder, PASSWORD_Q, PASSWORD_A, "T-1")
    answered = service.run(TICKET.model_copy(update={"id": "T-501"}))

    assert answered.answered_by == "faq" and answered.faq_id == faq_id and answered.kb_confident
    assert answered.email is not None and "Reset password" in answered.email["body"]
    assert f"Frequently asked question: {PASSWORD_Q}" in answered.email["body"], "cited by its question"
    solution = answered.values["solution"]
    assert solution.citations[0].kind == "faq" and solution.results[0]["metadata"]["chunk_id"] == f"faq:{faq_id}"

    assert answered.waiting_for_feedback
    retried = service.feedback("T-501", CustomerFeedback(satisfied=False, comment="The link never arrives."))
    assert retried.faq_id is None, "an FAQ the customer said did not help is not offered again"

    review.delete_faq(faq_id, actor="bob")
    after = service.run(TICKET.model_copy(update={"id": "T-502"}))
    assert after.answered_by == "documents" and after.faq_id is None and after.kb_confident is False
