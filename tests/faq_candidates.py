"""Staging FAQ candidates directly (without a mining run), for the tests of review, the CLI and the API."""

from __future__ import annotations

from typing import Any

from core.embeddings import Embedder
from faq_mining.faq_store import CandidateDraft, FaqStore

PASSWORD_Q = "How do I reset my password?"
PASSWORD_A = "Use the 'Forgot password' link on the sign-in page; the e-mail arrives within five minutes."


def stage_candidate(
    store: FaqStore, embedder: Embedder, tickets: list[str], question: str = PASSWORD_Q, **changes: Any
) -> int:
    """Stage a NEW candidate for `question` from `tickets` (fields overridable) and return its id."""
    fields: dict[str, Any] = {
        "action": "NEW",
        "question": question,
        "answer": PASSWORD_A,
        "tags": ["account", "password"],
        "confidence": 0.9,
        "merge_with_id": None,
        "similarity": None,
        "source_ticket_ids": tickets,
        "question_embedding": embedder.embed_query(question),
        "pii_kinds": [],
        "run_id": None,
        "metadata": {"reason": "test"},
    }
    staging_id = store.stage(CandidateDraft(**(fields | changes))).staging_id
    assert staging_id is not None, f"tickets {tickets} were already staged"
    return staging_id
