"""The escalation's offline handoff says what the customer was actually sent."""

from __future__ import annotations

from typing import Any

from nodes.escalate import handoff_offline
from state.ticket import TicketInput

TICKET = TicketInput(id="E-1", subject="Charged twice", body="I was charged twice this month for one plan.")


def summary(**state: Any) -> str:
    return handoff_offline({"ticket": TICKET, **state}, "the customer asked for a person").summary  # type: ignore[typeddict-item]


def test_an_escalation_with_no_answer_sent_does_not_claim_one() -> None:
    # A solution was found but the evaluator escalated: nothing reached the customer.
    assert "Tried: no answer sent" in summary(solution=object(), attempt=1)
    assert "Tried: no automated answer" in summary(attempt=1)


def test_answers_sent_are_counted_with_the_right_plural() -> None:
    assert "Tried: 1 answer from the knowledge base" in summary(solution=object(), answer_digests=["a"])
    assert "Tried: 2 answers from the knowledge base" in summary(solution=object(), answer_digests=["a", "b"])
