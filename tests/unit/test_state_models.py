import pytest
from pydantic import ValidationError

from state.agents import Classification, Priority, priority_band
from state.ticket import TicketInput


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (0, "low"),
        (30, "low"),
        (31, "medium"),
        (65, "medium"),
        (66, "high"),
        (85, "high"),
        (86, "critical"),
        (100, "critical"),
    ],
)
def test_priority_band_edges(score: int, band: str) -> None:
    assert priority_band(score) == band
    assert Priority(score=score, reasoning="r").priority == band


def test_priority_score_out_of_range_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Priority(score=101, reasoning="r")


def test_overall_confidence_is_weighted_40_25_20_15() -> None:
    c = Classification(
        primary_category="technique",
        confidence_category=1.0,
        severity="low",
        confidence_severity=0.0,
        treatment_type="standard",
        confidence_treatment=0.5,
        required_skills=[],
        confidence_skills=1.0,
    )
    assert c.overall_confidence == pytest.approx(0.40 + 0.10 + 0.15)


def test_ticket_input_rejects_unknown_fields_and_bad_ids() -> None:
    with pytest.raises(ValidationError):
        TicketInput(subject="s", body="b", extra="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        TicketInput(id="a b/../c", subject="s", body="b")
    assert TicketInput(id="T-1", subject="  Login  ", body="b").subject == "Login"
