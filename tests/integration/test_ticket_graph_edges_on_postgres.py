"""The ticket-graph edge tests whose checkpoints matter, again on the product's Postgres saver.

Each of them interrupts and resumes, so the resumed run reads back what the saver wrote (through the
allow-listed serializer, from a fresh database); the others gain nothing from a database and stay in the
unit tier (tests/unit/test_ticket_graph_edges.py).
"""

from __future__ import annotations

import pytest

from tests.unit.test_ticket_graph_edges import (
    checkpoint_serde,
    test_a_strongly_negative_feedback_escalates_before_the_limit,
    test_a_thread_resumes_from_its_checkpoint_in_a_new_graph,
    test_feedback_not_satisfied_at_the_attempt_limit_escalates,
    test_feedback_not_satisfied_retries_from_the_analysis_with_the_clarification,
    test_feedback_satisfied_closes,
)

pytestmark = pytest.mark.parametrize("checkpointer", ["postgres"], indirect=True)

__all__ = [
    "checkpoint_serde",
    "test_a_strongly_negative_feedback_escalates_before_the_limit",
    "test_a_thread_resumes_from_its_checkpoint_in_a_new_graph",
    "test_feedback_not_satisfied_at_the_attempt_limit_escalates",
    "test_feedback_not_satisfied_retries_from_the_analysis_with_the_clarification",
    "test_feedback_satisfied_closes",
]
