"""The mining-graph edge tests whose checkpoints matter, again on the product's Postgres saver.

Each of them waits in review interrupts and resumes them, so the review branches are read back from what
the saver wrote (through the allow-listed serializer, from a fresh database); the others stay in the unit
tier (tests/unit/test_mining_graph_edges.py).
"""

from __future__ import annotations

import pytest

from tests.unit.test_mining_graph_edges import (
    checkpoint_serde,
    test_a_decision_taken_elsewhere_ends_the_branch_with_the_conflict,
    test_a_merge_into_a_faq_the_analysis_was_shown_updates_it_on_approval,
    test_each_candidate_waits_in_its_own_branch,
    test_new_candidate_waits_for_review_then_approval_promotes_it,
)

pytestmark = pytest.mark.parametrize("checkpointer", ["postgres"], indirect=True)

__all__ = [
    "checkpoint_serde",
    "test_a_decision_taken_elsewhere_ends_the_branch_with_the_conflict",
    "test_a_merge_into_a_faq_the_analysis_was_shown_updates_it_on_approval",
    "test_each_candidate_waits_in_its_own_branch",
    "test_new_candidate_waits_for_review_then_approval_promotes_it",
]
