"""`doxa kb search`'s summary line says what decided kb_confident."""

from __future__ import annotations

from typing import Any, cast

from cli.kb_search import confidence_line
from kb.retrieval import RetrievalMetadata


def metadata(**values: Any) -> RetrievalMetadata:
    return cast(RetrievalMetadata, values)


def test_a_calibrated_model_shows_the_probability_against_its_own_threshold_not_the_cosine_setting() -> None:
    line = confidence_line(
        metadata(
            kb_confident=False,
            answer_model="logistic",
            answer_probability=0.4213,
            answer_threshold=0.69,
            kb_confidence_threshold=0.50,
        )
    )
    assert line == "answer probability 0.42; kb_confident no (threshold 0.69)"


def test_the_fallback_says_the_best_cosine_was_compared_with_an_uncalibrated_threshold() -> None:
    line = confidence_line(
        metadata(kb_confident=True, answer_model="fallback", answer_probability=0.81, answer_threshold=0.62)
    )
    assert line == "kb_confident yes (best cosine against the uncalibrated threshold 0.62)"
