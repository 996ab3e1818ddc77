"""A customer threatening legal action gets a high priority from the offline scorer, in English and French."""

from __future__ import annotations

import pytest

from nodes.score import score_offline
from state.agents import priority_band


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        (
            "Charged twice",
            "You charged me twice for March. If this is not refunded by Friday I will take legal action.",
        ),
        (
            "Double prélèvement",
            "Vous m'avez prélevé deux fois. Sans remboursement, mon avocat vous enverra une mise en demeure.",
        ),
    ],
)
def test_a_legal_threat_over_a_double_charge_is_high_priority(subject: str, body: str) -> None:
    priority = score_offline(subject, body)
    assert priority_band(priority.score) in ("high", "critical"), priority


def test_a_negated_or_absent_threat_does_not_raise_the_priority() -> None:
    calm = score_offline("Charged twice", "I was charged twice for March; no lawyer needed, just a refund please.")
    assert priority_band(calm.score) in ("low", "medium"), calm
